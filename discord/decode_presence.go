package discord

import (
	"encoding/json"

	"github.com/halyardhq/halyard/core"
)

// presenceWire is a presence object (PRESENCE_UPDATE payload, or an entry
// of a guild's or a member chunk's presences) with every field kept raw.
type presenceWire struct {
	User struct {
		ID json.RawMessage `json:"id"`
	} `json:"user"`
	GuildID      json.RawMessage   `json:"guild_id"`
	Status       json.RawMessage   `json:"status"`
	ClientStatus *clientStatusWire `json:"client_status"`
	Activities   []json.RawMessage `json:"activities"`
}

type clientStatusWire struct {
	Desktop  json.RawMessage `json:"desktop"`
	Mobile   json.RawMessage `json:"mobile"`
	Web      json.RawMessage `json:"web"`
	Embedded json.RawMessage `json:"embedded"`
	VR       json.RawMessage `json:"vr"`
}

// decodePresenceWire splits a presence object into its fields.
func decodePresenceWire(raw []byte) (presenceWire, error) {
	var w presenceWire
	err := unmarshalLenient(raw, &w)
	return w, err
}

// userID returns the id of the presence's (partial) user.
func (w *presenceWire) userID() string {
	id, _ := lenientSnowflake(w.User.ID)
	return id
}

// presence parses the status, client_status and activities. An odd field
// is skipped; an activity that is not an object is left out.
func (w *presenceWire) presence() *core.Presence {
	p := &core.Presence{Status: core.StatusOffline}
	if s, ok := lenientString(w.Status); ok && s != "" {
		p.Status = status(s)
	}
	if cs := w.ClientStatus; cs != nil {
		p.ClientStatus = core.ClientStatus{
			Desktop:  platformStatus(cs.Desktop),
			Mobile:   platformStatus(cs.Mobile),
			Web:      platformStatus(cs.Web),
			Embedded: platformStatus(cs.Embedded),
			VR:       platformStatus(cs.VR),
		}
	}
	if items := w.Activities; len(items) > 0 {
		p.Activities = make([]core.Activity, 0, len(items))
		for _, it := range items {
			if a, ok := decodeActivity(it); ok {
				p.Activities = append(p.Activities, a)
			}
		}
	}
	return p
}

// status maps Discord's status text to a core.Status; receivers never see
// "invisible", and anything unknown reads offline.
func status(s string) core.Status {
	if st := core.Status(s); st.Valid() {
		return st
	}
	return core.StatusOffline
}

// platformStatus reads one client_status value. The dialects test for the
// presence of the key, as Lanyard does, so a present key with an odd value
// (even null) still counts, as online; only an absent key is "".
func platformStatus(raw json.RawMessage) core.Status {
	if len(raw) == 0 {
		return ""
	}
	if s, ok := lenientString(raw); ok && core.Status(s).Valid() {
		return core.Status(s)
	}
	return core.StatusOnline
}
