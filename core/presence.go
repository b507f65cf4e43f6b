package core

import (
	"bytes"
	"encoding/json"
	"time"
)

// Status is a Discord presence status.
type Status string

// The statuses a receiver of Discord presences can see.
const (
	StatusOnline  Status = "online"
	StatusIdle    Status = "idle"
	StatusDND     Status = "dnd"
	StatusOffline Status = "offline"
)

// Valid reports whether s is one of the four statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusOnline, StatusIdle, StatusDND, StatusOffline:
		return true
	}
	return false
}

// ClientStatus is the per-platform status of a user. An empty string means
// the platform key was absent in Discord's client_status.
type ClientStatus struct {
	Desktop  Status
	Mobile   Status
	Web      Status
	Embedded Status
	VR       Status
}

// Emoji is an activity emoji (custom status, hang status).
type Emoji struct {
	Name     string
	ID       string
	Animated bool
}

// Activity is one Discord activity. Raw holds Discord's JSON object verbatim
// (every field it sent, in its order) for the dialects that echo it; the
// other fields are parsed from it leniently for the renderings that need them.
type Activity struct {
	Raw           json.RawMessage
	ID            string
	Name          string
	Type          int
	URL           string
	Details       string
	State         string
	ApplicationID string
	SyncID        string
	SessionID     string
	Platform      string
	CreatedAt     int64 // Unix ms, 0 when absent
	Start         int64 // timestamps.start, Unix ms, 0 when absent
	End           int64 // timestamps.end, Unix ms, 0 when absent
	LargeImage    string
	LargeText     string
	SmallImage    string
	SmallText     string
	PartyID       string
	Emoji         *Emoji
	Buttons       []string
	Flags         int64
}

// Presence is a user's live presence as the gateway last reported it.
type Presence struct {
	Status       Status
	ClientStatus ClientStatus
	Activities   []Activity
}

// Equal reports whether p and q would render identically.
func (p *Presence) Equal(q *Presence) bool {
	if p == nil || q == nil {
		return p == q
	}
	if p.Status != q.Status || p.ClientStatus != q.ClientStatus || len(p.Activities) != len(q.Activities) {
		return false
	}
	for i := range p.Activities {
		if !bytes.Equal(p.Activities[i].Raw, q.Activities[i].Raw) {
			return false
		}
	}
	return true
}

// DiscordUser is a Discord user object. Raw is Discord's JSON verbatim, so
// fields Halyard does not know (primary_guild, collectibles, future ones)
// reach the clients; the named fields are parsed from it.
type DiscordUser struct {
	Raw           json.RawMessage
	ID            string
	Username      string
	Discriminator string
	GlobalName    string
	Avatar        string
	Bot           bool
}

// User is an immutable snapshot of one monitored user: Discord profile,
// presence, KV and the records Halyard keeps. The Hub replaces the snapshot
// on every change, so a *User may be read without locks and renderings of
// it may be cached on it.
type User struct {
	ID              string
	Discord         DiscordUser
	Nick            string    // guild nickname in the first watched guild that has one
	Presence        *Presence // nil when Discord sent none (renders offline)
	KV              KV        // insertion order; read-only (shared)
	Guilds          []string  // watched guilds the user is a member of
	MonitoringSince time.Time
	LastSeen        time.Time // last time the user was seen not offline; zero if never

	renders renderCache
}

// Status returns the user's status, offline when there is no presence.
func (u *User) Status() Status {
	if u.Presence == nil || u.Presence.Status == "" {
		return StatusOffline
	}
	return u.Presence.Status
}

// Activities returns the user's activities, nil when there are none.
func (u *User) Activities() []Activity {
	if u.Presence == nil {
		return nil
	}
	return u.Presence.Activities
}

// Spotify returns the first activity whose id is "spotify:1", as Lanyard
// picks it, or nil.
func (u *User) Spotify() *Activity {
	acts := u.Activities()
	for i := range acts {
		if acts[i].ID == "spotify:1" {
			return &acts[i]
		}
	}
	return nil
}
