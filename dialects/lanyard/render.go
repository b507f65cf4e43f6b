package lanyard

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/halyardhq/halyard/core"
)

// RenderPresence renders the Lanyard presence object (docs/compat/lanyard.md §3):
// exactly eleven keys, in Lanyard's (alphabetical) order, with the Discord
// user and activities passed through verbatim.
func RenderPresence(u *core.User) []byte {
	var b bytes.Buffer
	b.Grow(512 + u.Discord.JSONLen())
	var cs core.ClientStatus
	if u.Presence != nil {
		cs = u.Presence.Clients()
	}
	acts := u.Activities() // decoded once for both uses below
	spotify := core.SpotifyOf(acts)
	b.WriteString(`{"active_on_discord_desktop":`)
	writeBool(&b, cs.Desktop != "")
	b.WriteString(`,"active_on_discord_embedded":`)
	writeBool(&b, cs.Embedded != "")
	b.WriteString(`,"active_on_discord_mobile":`)
	writeBool(&b, cs.Mobile != "")
	b.WriteString(`,"active_on_discord_vr":`)
	writeBool(&b, cs.VR != "")
	b.WriteString(`,"active_on_discord_web":`)
	writeBool(&b, cs.Web != "")
	b.WriteString(`,"activities":[`)
	first := true
	for _, a := range acts {
		if !a.HasJSON() {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.Write(a.AppendJSON(b.AvailableBuffer()))
	}
	b.WriteString(`],"discord_status":`)
	writeJSON(&b, string(u.Status()))
	b.WriteString(`,"discord_user":`)
	if u.Discord.HasJSON() {
		b.Write(u.Discord.AppendJSON(b.AvailableBuffer()))
	} else {
		writeJSON(&b, map[string]string{"id": u.ID})
	}
	b.WriteString(`,"kv":`)
	// Sorted keys, as Lanyard's encoder writes them (docs/compat/lanyard.md §3.5),
	// not the store's insertion order that Lantern shows.
	writeJSON(&b, u.KV.Map())
	b.WriteString(`,"listening_to_spotify":`)
	writeBool(&b, spotify != nil)
	b.WriteString(`,"spotify":`)
	if spotify == nil {
		b.WriteString("null")
	} else {
		writeSpotify(&b, spotify.JSON())
	}
	b.WriteByte('}')
	return b.Bytes()
}

// writeSpotify renders docs/compat/lanyard.md §3.3's object from the Spotify activity's raw JSON,
// so values keep exactly the form Discord sent.
func writeSpotify(b *bytes.Buffer, raw json.RawMessage) {
	var a struct {
		SyncID     json.RawMessage `json:"sync_id"`
		Details    json.RawMessage `json:"details"`
		State      json.RawMessage `json:"state"`
		Timestamps json.RawMessage `json:"timestamps"`
		Assets     struct {
			LargeText  json.RawMessage `json:"large_text"`
			LargeImage json.RawMessage `json:"large_image"`
		} `json:"assets"`
	}
	_ = json.Unmarshal(raw, &a) // a malformed field renders as null, never breaks the user
	artURL := json.RawMessage("null")
	var img string
	if json.Unmarshal(a.Assets.LargeImage, &img) == nil {
		if parts := strings.Split(img, ":"); len(parts) == 2 {
			artURL, _ = json.Marshal("https://i.scdn.co/image/" + parts[1])
		}
	}
	trackID := json.RawMessage("null")
	var sid string
	if json.Unmarshal(a.SyncID, &sid) == nil {
		trackID = a.SyncID
	}
	b.WriteString(`{"album":`)
	b.Write(orNull(a.Assets.LargeText))
	b.WriteString(`,"album_art_url":`)
	b.Write(artURL)
	b.WriteString(`,"artist":`)
	b.Write(orNull(a.State))
	b.WriteString(`,"song":`)
	b.Write(orNull(a.Details))
	b.WriteString(`,"timestamps":`)
	b.Write(orNull(a.Timestamps))
	b.WriteString(`,"track_id":`)
	b.Write(trackID)
	b.WriteByte('}')
}

func orNull(raw json.RawMessage) []byte {
	if len(raw) == 0 {
		return []byte("null")
	}
	return raw
}

func writeBool(b *bytes.Buffer, v bool) {
	if v {
		b.WriteString("true")
	} else {
		b.WriteString("false")
	}
}

// writeJSON encodes v without HTML escaping, as Lanyard's encoder does.
func writeJSON(b *bytes.Buffer, v any) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)       // strings and string maps always encode
	b.Truncate(b.Len() - 1) // drop Encode's newline
}
