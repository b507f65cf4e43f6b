package discord

import (
	"sync"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/internal/jsonread"
)

// presenceWire is a presence object (PRESENCE_UPDATE payload, or an entry
// of a guild's or a member chunk's presences) split into its raw members,
// each a slice of the payload.
type presenceWire struct {
	userRaw         []byte // user.id
	guildID         []byte
	status          []byte
	hasClientStatus bool // present and not null
	clientStatus    clientStatusWire
	activities      activityList
}

// activityList is the activity objects of a presence, as
// core.ReadActivity left them: the first few kept inline, since one is
// read for every presence of a chunk and every presence update.
type activityList struct {
	first [4][]byte
	n     int
	all   [][]byte // all of them, once there are more than fit in first
}

func (l *activityList) add(raw []byte) {
	switch {
	case l.all != nil:
		l.all = append(l.all, raw)
	case l.n == len(l.first):
		l.all = append(append([][]byte(nil), l.first[:]...), raw)
	default:
		l.first[l.n] = raw
		l.n++
	}
}

func (l *activityList) items() [][]byte {
	if l.all != nil {
		return l.all
	}
	return l.first[:l.n]
}

type clientStatusWire struct {
	Desktop, Mobile, Web, Embedded, VR []byte
}

// decodePresenceWire splits a presence object into its fields (see
// readPresence).
func decodePresenceWire(raw []byte) (presenceWire, error) {
	d := jsonread.NewDecoder(raw)
	w, ok := readPresence(&d)
	if err := d.Finish(); err != nil {
		return w, err
	}
	if !ok {
		return w, jsonread.ErrNotObject
	}
	return w, nil
}

// readPresence reads a presence object at d into its fields. Fields of
// an odd type are left empty; ok is false only when the value is not an
// object.
func readPresence(d *jsonread.Decoder) (w presenceWire, ok bool) {
	raw := d.Object(func(key string) {
		switch key {
		case "user":
			// A user without an id (or null) keeps an earlier one, as
			// encoding/json merged repeated objects.
			d.Object(func(key string) {
				if key == "id" {
					w.userRaw = d.Skip()
				}
			})
		case "guild_id":
			w.guildID = d.Skip()
		case "status":
			w.status = d.Skip()
		case "client_status":
			w.hasClientStatus = d.Peek() != 'n' // a value of another kind counts, empty
			w.clientStatus = clientStatusWire{}
			cs := &w.clientStatus
			d.Object(func(key string) {
				switch key {
				case "desktop":
					cs.Desktop = d.Skip()
				case "mobile":
					cs.Mobile = d.Skip()
				case "web":
					cs.Web = d.Skip()
				case "embedded":
					cs.Embedded = d.Skip()
				case "vr":
					cs.VR = d.Skip()
				}
			})
		case "activities":
			w.activities = activityList{}
			d.Array(func() {
				if raw, ok := core.ReadActivity(d); ok {
					w.activities.add(raw)
				}
			})
		}
	})
	return w, raw != nil
}

// userID returns the id of the presence's (partial) user.
func (w *presenceWire) userID() string {
	id, _ := readSnowflake(w.userRaw, true)
	return id
}

// presence parses the status, client_status and activities. An odd field
// is skipped; an activity that is not an object is left out.
func (w *presenceWire) presence() *core.Presence {
	st := core.StatusOffline
	if s, ok := readString(w.status, true); ok && s != "" {
		st = status(s)
	}
	var cs *core.ClientStatus
	if w.hasClientStatus {
		raw := &w.clientStatus
		cs = core.InternClientStatus(core.ClientStatus{
			Desktop:  platformStatus(raw.Desktop),
			Mobile:   platformStatus(raw.Mobile),
			Web:      platformStatus(raw.Web),
			Embedded: platformStatus(raw.Embedded),
			VR:       platformStatus(raw.VR),
		})
	}
	// The activities' JSON is kept packed (core.PackedActivities), all
	// of them in one allocation of exactly their packed size: the payload
	// (a whole member chunk, or a presence update) does not stay alive for
	// them, and their fields are parsed only when a rendering reads them.
	packed := core.PackActivities(w.activities.items())
	if packed.IsZero() {
		return sharedPresence(st, cs)
	}
	return &core.Presence{Status: st, ClientStatus: cs, Packed: packed}
}

// activityless holds one immutable Presence per status and client_status
// combination without activities: about a third of the online members of
// a guild have no activity, and they share these instead of holding one
// each. There are at most 4 × 5⁵ combinations (client statuses are
// interned). A map under a lock: a sync.Map's interface key allocates on
// every lookup.
var activityless = struct {
	sync.RWMutex
	m map[activitylessKey]*core.Presence
}{m: map[activitylessKey]*core.Presence{}}

type activitylessKey struct {
	status core.Status
	cs     *core.ClientStatus
}

// sharedPresence returns the shared Presence without activities of that
// status and (interned) client status. Presences are never changed once
// decoded.
func sharedPresence(st core.Status, cs *core.ClientStatus) *core.Presence {
	key := activitylessKey{st, cs}
	activityless.RLock()
	shared := activityless.m[key]
	activityless.RUnlock()
	if shared != nil {
		return shared
	}
	activityless.Lock()
	defer activityless.Unlock()
	if shared := activityless.m[key]; shared != nil {
		return shared
	}
	shared = &core.Presence{Status: st, ClientStatus: cs}
	activityless.m[key] = shared
	return shared
}

// status maps Discord's status text to a core.Status; receivers never see
// "invisible", and anything unknown reads offline. The result is always
// one of the package constants, never a slice of the payload.
func status(s string) core.Status {
	switch core.Status(s) {
	case core.StatusOnline:
		return core.StatusOnline
	case core.StatusIdle:
		return core.StatusIdle
	case core.StatusDND:
		return core.StatusDND
	}
	return core.StatusOffline
}

// platformStatus reads one client_status value. The dialects test for the
// presence of the key, as Lanyard does, so a present key with an odd value
// (even null) still counts, as online; only an absent key is "".
func platformStatus(raw []byte) core.Status {
	if raw == nil {
		return ""
	}
	if s, ok := readString(raw, true); ok {
		switch st := status(s); {
		case st != core.StatusOffline:
			return st
		case s == string(core.StatusOffline):
			return core.StatusOffline
		}
	}
	return core.StatusOnline
}
