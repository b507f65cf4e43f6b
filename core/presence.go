package core

import (
	"bytes"
	"encoding/json"
	"sync"
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

// Activity is one Discord activity. Its JSON is Discord's object verbatim
// (every field it sent, in its order) for the dialects that echo it: the
// decoder keeps it Packed, a hand-built activity may set Raw instead; read
// it with JSON or AppendJSON. The other fields are parsed from it leniently
// for the renderings that need them (the decoder's share Packed's memory).
type Activity struct {
	Raw           json.RawMessage
	Packed        PackedJSON
	ID            string
	Name          string
	Type          int
	URL           string
	Details       string
	State         string
	ApplicationID string
	SyncID        string
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

// Presence is a user's live presence as the gateway last reported it. Its
// activities are either built by hand (Activities: tests, fixtures) or
// packed (Packed: the decoder's, JSON only); read them with ActivityList.
// ClientStatus is nil when every platform is absent; the decoder's point
// to shared values (InternClientStatus), so a presence is 64 bytes, not
// 144. Read it with Clients.
type Presence struct {
	Status       Status
	ClientStatus *ClientStatus
	Activities   []Activity
	Packed       PackedActivities
}

// Clients returns the per-platform statuses (all absent when
// ClientStatus is nil).
func (p *Presence) Clients() ClientStatus {
	if p == nil || p.ClientStatus == nil {
		return ClientStatus{}
	}
	return *p.ClientStatus
}

// clientStatuses holds one ClientStatus per combination: at most 5⁵. A
// map under a lock, not a sync.Map: a sync.Map's key is an interface, and
// putting an 80-byte ClientStatus in one allocates on every lookup.
var clientStatuses = struct {
	sync.RWMutex
	m map[ClientStatus]*ClientStatus
}{m: map[ClientStatus]*ClientStatus{}}

// InternClientStatus returns a shared, never changed *ClientStatus equal
// to cs; nil when every platform is absent.
func InternClientStatus(cs ClientStatus) *ClientStatus {
	if cs == (ClientStatus{}) {
		return nil
	}
	clientStatuses.RLock()
	shared := clientStatuses.m[cs]
	clientStatuses.RUnlock()
	if shared != nil {
		return shared
	}
	clientStatuses.Lock()
	defer clientStatuses.Unlock()
	if shared := clientStatuses.m[cs]; shared != nil {
		return shared
	}
	shared = new(ClientStatus)
	*shared = cs
	clientStatuses.m[cs] = shared
	return shared
}

// ActivityList returns the presence's activities, nil when there are none:
// the hand-built ones, or the packed ones decoded into new values.
func (p *Presence) ActivityList() []Activity {
	if p == nil {
		return nil
	}
	if p.Activities != nil || p.Packed.IsZero() {
		return p.Activities
	}
	return p.Packed.Decode()
}

// Equal reports whether p and q would render identically.
func (p *Presence) Equal(q *Presence) bool {
	if p == nil || q == nil {
		return p == q
	}
	if p.Status != q.Status || p.Clients() != q.Clients() {
		return false
	}
	if p.Activities == nil && q.Activities == nil {
		return p.Packed.Equal(q.Packed)
	}
	pa, qa := p.ActivityList(), q.ActivityList()
	if len(pa) != len(qa) {
		return false
	}
	for i := range pa {
		if !pa[i].SameJSON(&qa[i]) {
			return false
		}
	}
	return true
}

// DiscordUser is a Discord user object. Its JSON is Discord's verbatim, so
// fields Halyard does not know (primary_guild, collectibles, future ones)
// reach the clients: the decoder keeps it Packed, a hand-built user may set
// Raw instead; read it with JSON or AppendJSON. The named fields are parsed
// from it.
type DiscordUser struct {
	Raw           json.RawMessage
	Packed        PackedJSON
	ID            string
	Username      string
	Discriminator string
	GlobalName    string
	Avatar        string
	Bot           bool
}

// JSON returns the user object verbatim (nil when there is none); a
// packed one is rebuilt in a new slice.
func (u *DiscordUser) JSON() json.RawMessage { return jsonOf(u.Raw, u.Packed) }

// AppendJSON appends the user object verbatim to dst.
func (u *DiscordUser) AppendJSON(dst []byte) []byte { return appendJSON(dst, u.Raw, u.Packed) }

// HasJSON reports whether the user object's JSON is known.
func (u *DiscordUser) HasJSON() bool { return len(u.Raw) > 0 || !u.Packed.IsZero() }

// JSONLen is the length of the user object's JSON.
func (u *DiscordUser) JSONLen() int { return jsonLen(u.Raw, u.Packed) }

// SameJSON reports whether u and v have the same JSON.
func (u *DiscordUser) SameJSON(v *DiscordUser) bool {
	return sameJSON(u.Raw, u.Packed, v.Raw, v.Packed)
}

// JSON returns the activity object verbatim (nil when there is none); a
// packed one is rebuilt in a new slice.
func (a *Activity) JSON() json.RawMessage { return jsonOf(a.Raw, a.Packed) }

// AppendJSON appends the activity object verbatim to dst.
func (a *Activity) AppendJSON(dst []byte) []byte { return appendJSON(dst, a.Raw, a.Packed) }

// HasJSON reports whether the activity's JSON is known.
func (a *Activity) HasJSON() bool { return len(a.Raw) > 0 || !a.Packed.IsZero() }

// SameJSON reports whether a and b have the same JSON.
func (a *Activity) SameJSON(b *Activity) bool { return sameJSON(a.Raw, a.Packed, b.Raw, b.Packed) }

// Raw takes precedence over Packed in the helpers below: a value has one
// or the other.

func jsonOf(raw json.RawMessage, p PackedJSON) json.RawMessage {
	if len(raw) > 0 || p.IsZero() {
		return raw
	}
	return p.Bytes()
}

func appendJSON(dst []byte, raw json.RawMessage, p PackedJSON) []byte {
	if len(raw) > 0 {
		return append(dst, raw...)
	}
	return p.AppendTo(dst)
}

func jsonLen(raw json.RawMessage, p PackedJSON) int {
	if len(raw) > 0 {
		return len(raw)
	}
	return p.Len()
}

func sameJSON(raw json.RawMessage, p PackedJSON, raw2 json.RawMessage, p2 PackedJSON) bool {
	if len(raw) == 0 && len(raw2) == 0 {
		return p.Equal(p2)
	}
	return bytes.Equal(jsonOf(raw, p), jsonOf(raw2, p2))
}

// User is an immutable snapshot of one monitored user: Discord profile,
// presence, KV and the records Halyard keeps. The Hub replaces the snapshot
// on every change, so a *User may be read without locks and renderings of
// it may be cached on it.
type User struct {
	ID          string
	Discord     Profile
	Presence    *Presence   // nil when Discord sent none (renders offline)
	KV          KV          // insertion order; read-only (shared)
	member      *membership // Guilds and Nick; shared by the members of one guild without a nickname
	since, seen int64       // MonitoringSince and LastSeen in Unix ns (16 bytes, not 48); 0 when unknown

	renders renderCache
}

// membership is a snapshot's watched guilds and nickname, behind one
// pointer: most members are in one watched guild and have no nickname
// there, and they share one membership per guild (Hub.membershipLocked),
// so a snapshot holds 8 bytes for both instead of 40.
type membership struct {
	guilds []string
	nick   string
}

// Guilds returns the watched guilds the user is a member of (read-only).
func (u *User) Guilds() []string {
	if u.member == nil {
		return nil
	}
	return u.member.guilds
}

// Nick is the user's guild nickname in the first watched guild that has
// one; "" when none.
func (u *User) Nick() string {
	if u.member == nil {
		return ""
	}
	return u.member.nick
}

// SetGuilds sets Guilds on a snapshot being built (a published snapshot
// is never changed).
func (u *User) SetGuilds(ids []string) { u.member = &membership{guilds: ids, nick: u.Nick()} }

// SetNick sets Nick on a snapshot being built.
func (u *User) SetNick(nick string) { u.member = &membership{guilds: u.Guilds(), nick: nick} }

// MonitoringSince is when Halyard began monitoring the user (the earliest
// join time it knows); zero when unknown.
func (u *User) MonitoringSince() time.Time { return timeOfNanos(u.since) }

// LastSeen is the last time the user was seen not offline; zero if never.
func (u *User) LastSeen() time.Time { return timeOfNanos(u.seen) }

// SetMonitoringSince sets MonitoringSince on a snapshot being built (a
// published snapshot is never changed).
func (u *User) SetMonitoringSince(t time.Time) { u.since = nanosOf(t) }

// SetLastSeen sets LastSeen on a snapshot being built.
func (u *User) SetLastSeen(t time.Time) { u.seen = nanosOf(t) }

// nanosOf is t in Unix ns, 0 for the zero time. Times Halyard keeps lie
// well inside int64 nanoseconds (1678–2262).
func nanosOf(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// timeOfNanos is nanosOf's inverse, in UTC.
func timeOfNanos(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// Status returns the user's status, offline when there is no presence.
func (u *User) Status() Status {
	if u.Presence == nil || u.Presence.Status == "" {
		return StatusOffline
	}
	return u.Presence.Status
}

// Activities returns the user's activities, nil when there are none.
// Packed ones are decoded on every call: callers that read them more than
// once keep the slice.
func (u *User) Activities() []Activity { return u.Presence.ActivityList() }

// Spotify returns the first activity whose id is "spotify:1", as Lanyard
// picks it, or nil.
func (u *User) Spotify() *Activity { return SpotifyOf(u.Activities()) }

// SpotifyOf returns the first of acts whose id is "spotify:1", or nil: for
// a caller that has decoded the activities already (User.Activities
// decodes them from their packed JSON on every call).
func SpotifyOf(acts []Activity) *Activity {
	for i := range acts {
		if acts[i].ID == "spotify:1" {
			return &acts[i]
		}
	}
	return nil
}
