// Package backup is the file format of `halyard backup` and `halyard
// restore`: gzip-compressed JSON lines, a header line first.
//
//	{"halyard_backup":1,"halyard_version":"v1.2.0","created_at":"…","token_key_check":"…",
//	 "sections":{"kv":1,"tokens":1,"users":1},"counts":{"kv_users":2,"kv_pairs":3,"tokens":1,"users":2,"history":0}}
//	{"t":"kv","id":"94490510688792576","k":"location","v":"Zürich"}
//	{"t":"token","id":"94490510688792576","hash":"…64 hex…"}
//	{"t":"user","id":"94490510688792576","username":"phin","monitoring_since":"…","last_seen":"…"}
//	{"t":"optout","id":"94490510688792576","since":"…"}
//	{"t":"history_user","id":"94490510688792576"}
//	{"t":"interval","id":"94490510688792576","status":"online","start":"…","end":"…"}
//	{"t":"interval","id":"94490510688792576","name":"Factorio","type":0,"application_id":"…","start":"…","end":"…"}
//
// A user's KV pairs are consecutive lines, in the map's insertion order
// (Lantern renders it). Each section has its own version in the header, so
// a section added later (as optouts and history were) is a new entry
// there: a reader refuses a section or a version it does not know rather
// than restore part of a file and call it done. The counts let a reader
// tell a truncated file from a complete one.
package backup

import (
	"time"
)

// FormatVersion is the version of the file layout (header and lines).
const FormatVersion = 1

// Sections this package reads and writes, and their versions.
const (
	SectionKV     = "kv"
	SectionTokens = "tokens"
	SectionUsers  = "users"
	// SectionOptOuts are the users who opted out (.optout): a restore
	// hides them again, and never shows anyone.
	SectionOptOuts = "optouts"
	// SectionHistory is the opt-in presence history: the users who
	// turned it on (history_user lines), then their closed intervals
	// (interval lines), as the recorder held them when the backup was
	// taken; intervals open then are written closed at that moment.
	SectionHistory = "history"
)

// knownSections are the sections this version can restore, with the
// highest version of each it reads.
var knownSections = map[string]int{SectionKV: 1, SectionTokens: 1, SectionUsers: 1, SectionOptOuts: 1, SectionHistory: 1}

// MaxLineBytes bounds one line: a KV pair at the largest value the rules
// allow (120 000 bytes, up to six times that JSON-escaped) fits.
const MaxLineBytes = 1 << 20

// Header is a backup's first line.
type Header struct {
	Format         int       `json:"halyard_backup"`
	HalyardVersion string    `json:"halyard_version"`
	CreatedAt      time.Time `json:"created_at"`
	// TokenKeyCheck identifies the secret the token hashes were made with
	// (core.Tokens.KeyCheck); a node with another secret cannot use them.
	TokenKeyCheck string         `json:"token_key_check,omitempty"`
	Sections      map[string]int `json:"sections"`
	Counts        Counts         `json:"counts"`
}

// Counts is how much a backup (or one restore request) holds.
type Counts struct {
	KVUsers int `json:"kv_users"`
	KVPairs int `json:"kv_pairs"`
	Tokens  int `json:"tokens"`
	Users   int `json:"users"`
	// History is the presence history's closed intervals.
	History int `json:"history"`
	// HistoryUsers is the users who turned presence history on.
	HistoryUsers int `json:"history_users,omitempty"`
	// OptOuts is the opted-out users (absent from backups before they
	// had the section: 0).
	OptOuts int `json:"optouts,omitempty"`
}

// Items is the number of items a restore applies one by one: users' KV
// maps, tokens, user records, opt-outs, history users and intervals.
func (c Counts) Items() int {
	return c.KVUsers + c.Tokens + c.Users + c.OptOuts + c.HistoryUsers + c.History
}

// NewHeader returns the header of a backup of this format version. The
// history section is declared only when counts hold some: a node without
// history (its database unreachable at start) writes none, and such a
// file still reads on Halyards that do not know the section.
func NewHeader(version string, created time.Time, tokenKeyCheck string, counts Counts) Header {
	h := Header{Format: FormatVersion, HalyardVersion: version, CreatedAt: created.UTC(),
		TokenKeyCheck: tokenKeyCheck, Counts: counts,
		Sections: map[string]int{SectionKV: 1, SectionTokens: 1, SectionUsers: 1, SectionOptOuts: 1}}
	if counts.History > 0 || counts.HistoryUsers > 0 {
		h.Sections[SectionHistory] = 1
	}
	return h
}

// line is one data line; pointers tell a field absent from an empty one
// (the empty KV key is allowed).
type line struct {
	T               string     `json:"t"`
	ID              string     `json:"id"`
	K               *string    `json:"k,omitempty"`
	V               *string    `json:"v,omitempty"`
	Hash            string     `json:"hash,omitempty"`
	Username        string     `json:"username,omitempty"`
	MonitoringSince *time.Time `json:"monitoring_since,omitempty"`
	LastSeen        *time.Time `json:"last_seen,omitempty"`
	GitHub          string     `json:"github,omitempty"`
	Since           *time.Time `json:"since,omitempty"`
	// An interval's: a status, or an activity's name, type and
	// application, from start to end.
	Status        string     `json:"status,omitempty"`
	Name          *string    `json:"name,omitempty"`
	Type          *int       `json:"type,omitempty"`
	ApplicationID string     `json:"application_id,omitempty"`
	Start         *time.Time `json:"start,omitempty"`
	End           *time.Time `json:"end,omitempty"`
}

// Line kinds.
const (
	kindKV     = "kv"
	kindToken  = "token"
	kindUser   = "user"
	kindOptOut = "optout"
	// kindHistoryUser and kindInterval make the history section.
	kindHistoryUser = "history_user"
	kindInterval    = "interval"
)

// Summary is what a restore did (or, in a dry run, would do).
type Summary struct {
	DryRun  bool    `json:"dry_run"`
	KV      Changes `json:"kv"`
	KVPairs int     `json:"kv_pairs"`
	Tokens  Changes `json:"tokens"`
	Users   Changes `json:"users"`
	OptOuts Changes `json:"optouts"`
	// HistoryUsers counts the users whose history was turned on.
	HistoryUsers Changes `json:"history_users"`
	// History counts the intervals added; skipped are older than this
	// node's retention.
	History Changes `json:"history"`
}

// Changes counts the items of one kind a restore changed and left as
// they were (already restored, or equal).
type Changes struct {
	Changed   int `json:"changed"`
	Unchanged int `json:"unchanged"`
	Skipped   int `json:"skipped,omitempty"`
}

// Add adds o's counts to s.
func (s *Summary) Add(o Summary) {
	s.KV.add(o.KV)
	s.KVPairs += o.KVPairs
	s.Tokens.add(o.Tokens)
	s.Users.add(o.Users)
	s.OptOuts.add(o.OptOuts)
	s.HistoryUsers.add(o.HistoryUsers)
	s.History.add(o.History)
}

func (c *Changes) add(o Changes) {
	c.Changed += o.Changed
	c.Unchanged += o.Unchanged
	c.Skipped += o.Skipped
}

// Count counts one item, changed or not.
func (c *Changes) Count(changed bool) {
	if changed {
		c.Changed++
	} else {
		c.Unchanged++
	}
}
