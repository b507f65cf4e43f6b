package core

import (
	"encoding/json"
	"strconv"

	"github.com/halyardhq/halyard/internal/jsonread"
)

// DecodeActivity parses one activity object. Raw keeps Discord's object
// verbatim except for two normalisations Lanyard also makes: a numeric
// application_id or emoji.id becomes a decimal string. ok is false only
// when raw is not an object. The parsed strings share raw's memory, so raw
// must never be written to afterwards.
func DecodeActivity(raw json.RawMessage) (Activity, bool) {
	var a Activity
	if jsonread.Kind(raw) != '{' {
		return a, false
	}
	var appID, emoji, buttons []byte
	hasEmoji := false
	err := jsonread.EachMember(raw, func(key string, v []byte) {
		switch key {
		case "id":
			a.ID, _ = jsonread.ReadString(v, true)
		case "name":
			a.Name, _ = jsonread.ReadString(v, true)
		case "type":
			if t, ok := jsonread.ReadInt(v); ok {
				a.Type = int(t)
			}
		case "url":
			a.URL, _ = jsonread.ReadString(v, true)
		case "details":
			a.Details, _ = jsonread.ReadString(v, true)
		case "state":
			a.State, _ = jsonread.ReadString(v, true)
		case "application_id":
			appID = v
		case "sync_id":
			a.SyncID, _ = jsonread.ReadString(v, true)
		case "created_at":
			a.CreatedAt, _ = jsonread.ReadInt(v)
		case "flags":
			a.Flags, _ = jsonread.ReadInt(v)
		case "timestamps":
			_ = jsonread.EachMember(v, func(key string, v []byte) {
				switch key {
				case "start":
					a.Start, _ = jsonread.ReadInt(v)
				case "end":
					a.End, _ = jsonread.ReadInt(v)
				}
			})
		case "assets":
			_ = jsonread.EachMember(v, func(key string, v []byte) {
				switch key {
				case "large_image":
					a.LargeImage, _ = jsonread.ReadString(v, true)
				case "large_text":
					a.LargeText, _ = jsonread.ReadString(v, true)
				case "small_image":
					a.SmallImage, _ = jsonread.ReadString(v, true)
				case "small_text":
					a.SmallText, _ = jsonread.ReadString(v, true)
				}
			})
		case "party":
			_ = jsonread.EachMember(v, func(key string, v []byte) {
				if key == "id" {
					a.PartyID, _ = jsonread.ReadString(v, true)
				}
			})
		case "emoji":
			// As encoding/json into a pointer: null clears it, any other
			// value makes one (empty unless it is an object).
			emoji, hasEmoji = v, !jsonread.IsNull(v)
		case "buttons":
			buttons = v
		}
	})
	if err != nil {
		return Activity{}, false
	}
	a.Raw = raw
	a.ApplicationID, _ = jsonread.ReadSnowflake(appID, true)
	if jsonread.IsNumber(appID) && a.ApplicationID != "" {
		a.Raw, _ = jsonread.ReplaceMember(a.Raw, "application_id", []byte(strconv.Quote(a.ApplicationID)))
	}
	if hasEmoji {
		a.Emoji, a.Raw = decodeEmoji(emoji, a.Raw)
	}
	if len(buttons) > 0 {
		a.Buttons = decodeButtons(buttons)
	}
	return a, true
}

// decodeEmoji parses an activity emoji; a numeric id is rewritten as a
// string in the activity's raw JSON as well.
func decodeEmoji(raw []byte, activity json.RawMessage) (*Emoji, json.RawMessage) {
	e := &Emoji{}
	var id []byte
	_ = jsonread.EachMember(raw, func(key string, v []byte) {
		switch key {
		case "name":
			e.Name, _ = jsonread.ReadString(v, true)
		case "id":
			id = v
		case "animated":
			e.Animated, _ = jsonread.ReadBool(v)
		}
	})
	e.ID, _ = jsonread.ReadSnowflake(id, true)
	if jsonread.IsNumber(id) && e.ID != "" {
		if fixed, ok := jsonread.ReplaceMember(raw, "id", []byte(strconv.Quote(e.ID))); ok {
			activity, _ = jsonread.ReplaceMember(activity, "emoji", fixed)
		}
	}
	return e, activity
}

// decodeButtons reads button labels: received activities carry strings,
// sent ones objects with a label.
func decodeButtons(raw []byte) []string {
	var out []string
	jsonread.EachElement(raw, func(it []byte) {
		if jsonread.Kind(it) == '{' {
			var label []byte
			if jsonread.EachMember(it, func(key string, v []byte) {
				if key == "label" {
					label = v
				}
			}) != nil {
				return
			}
			// A button without a label is an empty one, as before.
			if s, ok := jsonread.ReadString(label, true); ok {
				out = append(out, s)
			}
			return
		}
		if s, ok := jsonread.ReadString(it, true); ok {
			out = append(out, s)
		}
	})
	return out
}
