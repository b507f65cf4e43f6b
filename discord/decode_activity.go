package discord

import (
	"encoding/json"
	"strconv"

	"github.com/halyardhq/halyard/core"
)

// activityWire is an activity object with every field kept raw.
type activityWire struct {
	ID            json.RawMessage `json:"id"`
	Name          json.RawMessage `json:"name"`
	Type          json.RawMessage `json:"type"`
	URL           json.RawMessage `json:"url"`
	Details       json.RawMessage `json:"details"`
	State         json.RawMessage `json:"state"`
	ApplicationID json.RawMessage `json:"application_id"`
	SyncID        json.RawMessage `json:"sync_id"`
	SessionID     json.RawMessage `json:"session_id"`
	Platform      json.RawMessage `json:"platform"`
	CreatedAt     json.RawMessage `json:"created_at"`
	Timestamps    timestampsWire  `json:"timestamps"`
	Assets        assetsWire      `json:"assets"`
	Party         partyWire       `json:"party"`
	Emoji         *emojiWire      `json:"emoji"`
	Buttons       json.RawMessage `json:"buttons"`
	Flags         json.RawMessage `json:"flags"`
}

type timestampsWire struct {
	Start json.RawMessage `json:"start"`
	End   json.RawMessage `json:"end"`
}

type assetsWire struct {
	LargeImage json.RawMessage `json:"large_image"`
	LargeText  json.RawMessage `json:"large_text"`
	SmallImage json.RawMessage `json:"small_image"`
	SmallText  json.RawMessage `json:"small_text"`
}

type partyWire struct {
	ID json.RawMessage `json:"id"`
}

type emojiWire struct {
	Name     json.RawMessage `json:"name"`
	ID       json.RawMessage `json:"id"`
	Animated json.RawMessage `json:"animated"`
}

// decodeActivity parses one activity object. Raw keeps Discord's object
// verbatim except for two normalisations Lanyard also makes: a numeric
// application_id or emoji.id becomes a decimal string. ok is false only
// when raw is not an object.
func decodeActivity(raw json.RawMessage) (core.Activity, bool) {
	var a core.Activity
	if kind(raw) != '{' {
		return a, false
	}
	var w activityWire
	if err := unmarshalLenient(raw, &w); err != nil {
		return a, false
	}
	a.Raw = raw
	a.ID, _ = lenientString(w.ID)
	a.Name, _ = lenientString(w.Name)
	if t, ok := lenientInt(w.Type); ok {
		a.Type = int(t)
	}
	a.URL, _ = lenientString(w.URL)
	a.Details, _ = lenientString(w.Details)
	a.State, _ = lenientString(w.State)
	a.SyncID, _ = lenientString(w.SyncID)
	a.SessionID, _ = lenientString(w.SessionID)
	a.Platform, _ = lenientString(w.Platform)
	a.CreatedAt, _ = lenientInt(w.CreatedAt)
	a.Flags, _ = lenientInt(w.Flags)
	a.Start, _ = lenientInt(w.Timestamps.Start)
	a.End, _ = lenientInt(w.Timestamps.End)
	a.LargeImage, _ = lenientString(w.Assets.LargeImage)
	a.LargeText, _ = lenientString(w.Assets.LargeText)
	a.SmallImage, _ = lenientString(w.Assets.SmallImage)
	a.SmallText, _ = lenientString(w.Assets.SmallText)
	a.PartyID, _ = lenientString(w.Party.ID)
	a.ApplicationID, _ = lenientSnowflake(w.ApplicationID)
	if isNumber(w.ApplicationID) && a.ApplicationID != "" {
		a.Raw, _ = replaceMember(a.Raw, "application_id", []byte(strconv.Quote(a.ApplicationID)))
	}
	if w.Emoji != nil {
		a.Emoji, a.Raw = decodeEmoji(w.Emoji, a.Raw)
	}
	if len(w.Buttons) > 0 {
		a.Buttons = decodeButtons(w.Buttons)
	}
	return a, true
}

// decodeEmoji parses an activity emoji; a numeric id is rewritten as a
// string in the activity's raw JSON as well.
func decodeEmoji(w *emojiWire, activity json.RawMessage) (*core.Emoji, json.RawMessage) {
	e := &core.Emoji{}
	e.Name, _ = lenientString(w.Name)
	e.ID, _ = lenientSnowflake(w.ID)
	e.Animated, _ = lenientBool(w.Animated)
	if isNumber(w.ID) && e.ID != "" {
		var obj struct {
			Emoji json.RawMessage `json:"emoji"`
		}
		if json.Unmarshal(activity, &obj) == nil {
			if fixed, ok := replaceMember(obj.Emoji, "id", []byte(strconv.Quote(e.ID))); ok {
				activity, _ = replaceMember(activity, "emoji", fixed)
			}
		}
	}
	return e, activity
}

// decodeButtons reads button labels: received activities carry strings,
// sent ones objects with a label.
func decodeButtons(raw json.RawMessage) []string {
	items, _ := rawArray(raw)
	var out []string
	for _, it := range items {
		if kind(it) == '{' {
			var b struct {
				Label json.RawMessage `json:"label"`
			}
			if json.Unmarshal(it, &b) == nil {
				if s, ok := lenientString(b.Label); ok {
					out = append(out, s)
				}
			}
			continue
		}
		if s, ok := lenientString(it); ok {
			out = append(out, s)
		}
	}
	return out
}
