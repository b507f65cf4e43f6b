package lantern

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/halyardhq/halyard/core"
)

// activityShape holds what core does not say about an activity: whether
// Discord sent timestamps and assets at all, and the emoji's animated flag
// as sent.
type activityShape struct {
	Timestamps json.RawMessage `json:"timestamps"`
	Assets     json.RawMessage `json:"assets"`
	Emoji      *struct {
		Animated *bool `json:"animated"`
	} `json:"emoji"`
}

func parseShape(raw json.RawMessage) activityShape {
	var s activityShape
	_ = json.Unmarshal(raw, &s) // a malformed field stays absent
	return s
}

// present reports whether a raw field was sent as something other than null.
func present(raw json.RawMessage) bool {
	return len(raw) > 0 && string(raw) != "null"
}

// customStatus is the name that selects the custom status shape (docs/compat/lantern.md §3.5).
const customStatus = "Custom Status"

// appendActivity appends one entry of activities (docs/compat/lantern.md §3.5).
func appendActivity(b []byte, a *core.Activity) []byte {
	shape := parseShape(a.JSON())
	if a.Name == customStatus {
		return appendCustomStatus(b, a, &shape)
	}
	b = append(b, `{"name":`...)
	b = appendString(b, a.Name)
	b = append(b, `,"type":`...)
	b = strconv.AppendInt(b, int64(a.Type), 10)
	b = append(b, `,"state":`...)
	b = appendNullable(b, a.State)
	b = append(b, `,"details":`...)
	b = appendNullable(b, a.Details)
	b = append(b, `,"application_id":`...)
	b = appendNullable(b, a.ApplicationID)
	b = append(b, `,"created_at":`...)
	b = strconv.AppendInt(b, a.CreatedAt, 10)
	if present(shape.Assets) {
		b = append(b, `,"assets":{"large_image":`...)
		b = appendAsset(b, a.LargeImage, largeImageURL(a.LargeImage, a.ApplicationID), a.LargeText)
		b = append(b, `,"small_image":`...)
		b = appendAsset(b, a.SmallImage, smallImageURL(a.SmallImage, a.ApplicationID), a.SmallText)
		b = append(b, '}')
	}
	// Only with a start time (docs/compat/lantern.md §9 #5): Lantern crashed on end-only timestamps.
	if present(shape.Timestamps) && a.Start != 0 {
		b = append(b, `,"timestamps":{"start_time":`...)
		b = appendTimePair(b, a.Start)
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendCustomStatus appends the custom status shape (docs/compat/lantern.md §3.5).
func appendCustomStatus(b []byte, a *core.Activity, shape *activityShape) []byte {
	b = append(b, `{"name":"Custom Status","type":`...)
	b = strconv.AppendInt(b, int64(a.Type), 10)
	b = append(b, `,"emoji":`...)
	b = appendEmoji(b, a.Emoji, shape)
	b = append(b, `,"text":`...)
	b = appendNullable(b, a.State)
	b = append(b, `,"start_time":`...)
	b = appendTimePair(b, a.CreatedAt)
	b = append(b, `,"end_time":`...)
	if present(shape.Timestamps) && a.End != 0 {
		b = appendTimePair(b, a.End)
	} else {
		b = append(b, "null"...)
	}
	return append(b, '}')
}

// discordEpoch is the first millisecond of 2015, the snowflake epoch.
const discordEpoch = 1420070400000

// appendEmoji appends discord.js's emoji serialisation (docs/compat/lantern.md §3.5), or null.
func appendEmoji(b []byte, e *core.Emoji, shape *activityShape) []byte {
	if e == nil {
		return append(b, "null"...)
	}
	b = append(b, `{"animated":`...)
	if shape.Emoji != nil && shape.Emoji.Animated != nil {
		b = appendBool(b, *shape.Emoji.Animated)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"name":`...)
	b = appendNullable(b, e.Name)
	b = append(b, `,"id":`...)
	if e.ID == "" {
		b = append(b, `null,"createdTimestamp":null,"identifier":`...)
		b = appendString(b, encodeURIComponent(e.Name))
		return append(b, `,"imageURL":null}`...)
	}
	b = appendString(b, e.ID)
	b = append(b, `,"createdTimestamp":`...)
	id, _ := strconv.ParseUint(e.ID, 10, 64)
	b = strconv.AppendInt(b, int64(id>>22)+discordEpoch, 10)
	b = append(b, `,"identifier":`...)
	ident := e.Name + ":" + e.ID
	if e.Animated {
		ident = "a:" + ident
	}
	b = appendString(b, ident)
	b = append(b, `,"imageURL":`...)
	b = appendString(b, discordCDN+"/emojis/"+e.ID+".webp")
	return append(b, '}')
}

// encodeURIComponent escapes s as JavaScript's encodeURIComponent does.
func encodeURIComponent(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xf])
	}
	return b.String()
}

// appendAsset appends {hash, image_url, text}.
func appendAsset(b []byte, hash, url, text string) []byte {
	b = append(b, `{"hash":`...)
	b = appendNullable(b, hash)
	b = append(b, `,"image_url":`...)
	b = appendNullable(b, url)
	b = append(b, `,"text":`...)
	b = appendNullable(b, text)
	return append(b, '}')
}

// largeImageURL resolves a large image asset (docs/compat/lantern.md §3.6).
func largeImageURL(h, appID string) string {
	prefix, id, ok := splitAsset(h)
	if !ok {
		return appAssetURL(h, appID)
	}
	switch prefix {
	case "mp":
		return "https://media.discordapp.net/" + id
	case "spotify":
		return "https://i.scdn.co/image/" + id
	case "youtube":
		return "https://i.ytimg.com/vi/" + id + "/hqdefault_live.jpg"
	case "twitch":
		return "https://static-cdn.jtvnw.net/previews-ttv/live_user_" + id + ".png"
	}
	return ""
}

// smallImageURL resolves a small image asset: only mp: is translated.
func smallImageURL(h, appID string) string {
	prefix, id, ok := splitAsset(h)
	if !ok {
		return appAssetURL(h, appID)
	}
	if prefix == "mp" {
		return "https://media.discordapp.net/" + id
	}
	return ""
}

// splitAsset splits "prefix:id[:…]"; ok is false without a colon.
func splitAsset(h string) (prefix, id string, ok bool) {
	parts := strings.SplitN(h, ":", 3)
	if len(parts) < 2 {
		return "", "", false
	}
	return parts[0], parts[1], true
}

// appAssetURL is an application asset's URL; JavaScript prints a missing
// application id as "null".
func appAssetURL(h, appID string) string {
	if h == "" {
		return ""
	}
	if appID == "" {
		appID = "null"
	}
	return discordCDN + "/app-assets/" + appID + "/" + h + ".webp"
}

// spotifyName selects the activity active_platforms.spotify is built from.
const spotifyName = "Spotify"

// spotifyActivity returns the first activity named exactly "Spotify".
func spotifyActivity(u *core.User) *core.Activity {
	acts := u.Activities()
	for i := range acts {
		if acts[i].Name == spotifyName {
			return &acts[i]
		}
	}
	return nil
}

// appendPlatforms appends active_platforms (docs/compat/lantern.md §3.4).
func appendPlatforms(b []byte, u *core.User, now time.Time) []byte {
	var cs core.ClientStatus
	if u.Presence != nil {
		cs = u.Presence.Clients()
	}
	b = append(b, `{"desktop":`...)
	b = appendString(b, platformStatus(cs.Desktop))
	b = append(b, `,"mobile":`...)
	b = appendString(b, platformStatus(cs.Mobile))
	b = append(b, `,"web":`...)
	b = appendString(b, platformStatus(cs.Web))
	b = append(b, `,"spotify":`...)
	if a := spotifyActivity(u); a != nil {
		b = appendSpotify(b, a, now)
	} else {
		b = append(b, "null"...)
	}
	return append(b, '}')
}

func platformStatus(s core.Status) string {
	if s == "" {
		return string(core.StatusOffline)
	}
	return string(s)
}

// appendSpotify appends the spotify object (docs/compat/lantern.md §3.4).
func appendSpotify(b []byte, a *core.Activity, now time.Time) []byte {
	shape := parseShape(a.JSON())
	b = append(b, `{"track_id":`...)
	b = appendNullable(b, a.SyncID)
	b = append(b, `,"song":`...)
	b = appendNullable(b, a.Details)
	b = append(b, `,"artist":`...)
	if parts := strings.Split(a.State, "; "); len(parts) >= 2 {
		b = append(b, '[')
		for i, p := range parts {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, p)
		}
		b = append(b, ']')
	} else {
		b = appendNullable(b, a.State)
	}
	if present(shape.Assets) {
		b = append(b, `,"album":`...)
		b = appendNullable(b, a.LargeText)
		b = append(b, `,"album_cover":`...)
		b = appendNullable(b, largeImageURL(a.LargeImage, a.ApplicationID))
	}
	hasTimes := present(shape.Timestamps)
	b = append(b, `,"start_time":`...)
	b = appendSpotifyTime(b, hasTimes, a.Start)
	b = append(b, `,"end_time":`...)
	b = appendSpotifyTime(b, hasTimes, a.End)
	cur, end := spotifyClock(a, now)
	b = append(b, `,"time":{"current_human_readable":"`...)
	b = append(b, cur...)
	b = append(b, `","end_human_readable":"`...)
	b = append(b, end...)
	return append(b, `"}}`...)
}

// appendSpotifyTime appends a Spotify time: {"unix":null} without any
// timestamps, the null pair without this one (docs/compat/lantern.md §3.4, observed).
func appendSpotifyTime(b []byte, hasTimes bool, ms int64) []byte {
	switch {
	case !hasTimes:
		return append(b, `{"unix":null}`...)
	case ms == 0:
		return append(b, nullTimePair...)
	}
	return appendTimePair(b, ms)
}
