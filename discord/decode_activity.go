package discord

import (
	"encoding/json"
	"strconv"

	"github.com/halyardhq/halyard/core"
)

// decodeActivity parses one activity object. Raw keeps Discord's object
// verbatim except for two normalisations Lanyard also makes: a numeric
// application_id or emoji.id becomes a decimal string. ok is false only
// when raw is not an object. The parsed strings share raw's memory, so raw
// must never be written to afterwards.
func decodeActivity(raw json.RawMessage) (core.Activity, bool) {
	var a core.Activity
	if kind(raw) != '{' {
		return a, false
	}
	var appID, emoji, buttons []byte
	hasEmoji := false
	err := eachMember(raw, func(key string, v []byte) {
		switch key {
		case "id":
			a.ID, _ = readString(v, true)
		case "name":
			a.Name, _ = readString(v, true)
		case "type":
			if t, ok := readInt(v); ok {
				a.Type = int(t)
			}
		case "url":
			a.URL, _ = readString(v, true)
		case "details":
			a.Details, _ = readString(v, true)
		case "state":
			a.State, _ = readString(v, true)
		case "application_id":
			appID = v
		case "sync_id":
			a.SyncID, _ = readString(v, true)
		case "created_at":
			a.CreatedAt, _ = readInt(v)
		case "flags":
			a.Flags, _ = readInt(v)
		case "timestamps":
			_ = eachMember(v, func(key string, v []byte) {
				switch key {
				case "start":
					a.Start, _ = readInt(v)
				case "end":
					a.End, _ = readInt(v)
				}
			})
		case "assets":
			_ = eachMember(v, func(key string, v []byte) {
				switch key {
				case "large_image":
					a.LargeImage, _ = readString(v, true)
				case "large_text":
					a.LargeText, _ = readString(v, true)
				case "small_image":
					a.SmallImage, _ = readString(v, true)
				case "small_text":
					a.SmallText, _ = readString(v, true)
				}
			})
		case "party":
			_ = eachMember(v, func(key string, v []byte) {
				if key == "id" {
					a.PartyID, _ = readString(v, true)
				}
			})
		case "emoji":
			// As encoding/json into a pointer: null clears it, any other
			// value makes one (empty unless it is an object).
			emoji, hasEmoji = v, !isNull(v)
		case "buttons":
			buttons = v
		}
	})
	if err != nil {
		return core.Activity{}, false
	}
	a.Raw = raw
	a.ApplicationID, _ = readSnowflake(appID, true)
	if isNumber(appID) && a.ApplicationID != "" {
		a.Raw, _ = replaceMember(a.Raw, "application_id", []byte(strconv.Quote(a.ApplicationID)))
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
func decodeEmoji(raw []byte, activity json.RawMessage) (*core.Emoji, json.RawMessage) {
	e := &core.Emoji{}
	var id []byte
	_ = eachMember(raw, func(key string, v []byte) {
		switch key {
		case "name":
			e.Name, _ = readString(v, true)
		case "id":
			id = v
		case "animated":
			e.Animated, _ = readBool(v)
		}
	})
	e.ID, _ = readSnowflake(id, true)
	if isNumber(id) && e.ID != "" {
		if fixed, ok := replaceMember(raw, "id", []byte(strconv.Quote(e.ID))); ok {
			activity, _ = replaceMember(activity, "emoji", fixed)
		}
	}
	return e, activity
}

// decodeButtons reads button labels: received activities carry strings,
// sent ones objects with a label.
func decodeButtons(raw []byte) []string {
	var out []string
	eachElement(raw, func(it []byte) {
		if kind(it) == '{' {
			var label []byte
			if eachMember(it, func(key string, v []byte) {
				if key == "label" {
					label = v
				}
			}) != nil {
				return
			}
			// A button without a label is an empty one, as before.
			if s, ok := readString(label, true); ok {
				out = append(out, s)
			}
			return
		}
		if s, ok := readString(it, true); ok {
			out = append(out, s)
		}
	})
	return out
}
