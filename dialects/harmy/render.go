package harmy

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/github"
)

// RenderPresence renders harmy's "presence" object: userId, status,
// global_name, server_name (the guild nickname), avatar and
// spotifyActivity, in harmy's order, null where Discord has no value.
func RenderPresence(u *core.User) []byte {
	var b bytes.Buffer
	b.Grow(512)
	b.WriteString(`{"userId":`)
	b.Write(marshal(u.ID))
	b.WriteString(`,"status":`)
	b.Write(marshal(string(u.Status())))
	b.WriteString(`,"global_name":`)
	b.Write(stringOrNull(u.Discord.GlobalName()))
	b.WriteString(`,"server_name":`)
	b.Write(stringOrNull(u.Nick()))
	b.WriteString(`,"avatar":`)
	b.Write(stringOrNull(u.Discord.Avatar()))
	b.WriteString(`,"spotifyActivity":`)
	if a := u.Spotify(); a != nil {
		writeSpotify(&b, a)
	} else {
		b.WriteString("null")
	}
	b.WriteByte('}')
	return b.Bytes()
}

// writeSpotify renders the Spotify activity with discord.js's camelCase
// names (docs/compat/harmy.md §2.3): song is the details, artist the state, and
// assets.largeImage the image id without its "spotify:" prefix. Strings
// keep the form Discord sent; an absent or non-string one is null.
func writeSpotify(b *bytes.Buffer, a *core.Activity) {
	var raw struct {
		Details       json.RawMessage `json:"details"`
		State         json.RawMessage `json:"state"`
		ApplicationID json.RawMessage `json:"application_id"`
		Timestamps    json.RawMessage `json:"timestamps"`
		Party         json.RawMessage `json:"party"`
		SyncID        json.RawMessage `json:"sync_id"`
		Assets        json.RawMessage `json:"assets"`
	}
	_ = json.Unmarshal(a.JSON(), &raw) // a malformed field renders as null, never breaks the user
	b.WriteString(`{"name":`)
	b.Write(marshal(a.Name))
	b.WriteString(`,"type":`)
	b.Write(marshal(a.Type))
	b.WriteString(`,"song":`)
	b.Write(rawString(raw.Details))
	b.WriteString(`,"artist":`)
	b.Write(rawString(raw.State))
	b.WriteString(`,"applicationId":`)
	b.Write(rawString(raw.ApplicationID))
	b.WriteString(`,"timestamps":`)
	if isObject(raw.Timestamps) {
		b.WriteString(`{"start":`)
		b.Write(msOrNull(a.Start))
		b.WriteString(`,"end":`)
		b.Write(msOrNull(a.End))
		b.WriteByte('}')
	} else {
		b.WriteString("null")
	}
	b.WriteString(`,"party":`)
	if isObject(raw.Party) {
		b.Write(raw.Party)
	} else {
		b.WriteString("null")
	}
	b.WriteString(`,"syncId":`)
	b.Write(rawString(raw.SyncID))
	b.WriteString(`,"assets":`)
	if isObject(raw.Assets) {
		var assets struct {
			LargeText  json.RawMessage `json:"large_text"`
			LargeImage json.RawMessage `json:"large_image"`
		}
		_ = json.Unmarshal(raw.Assets, &assets)
		b.WriteString(`{"largeText":`)
		b.Write(rawString(assets.LargeText))
		b.WriteString(`,"largeImage":`)
		var img string
		if json.Unmarshal(assets.LargeImage, &img) == nil {
			b.Write(marshal(strings.TrimPrefix(img, "spotify:")))
		} else {
			b.WriteString("null")
		}
		b.WriteByte('}')
	} else {
		b.WriteString("null")
	}
	b.WriteString(`,"flags":`)
	b.Write(marshal(a.Flags))
	b.WriteString(`,"createdTimestamp":`)
	b.Write(msOrNull(a.CreatedAt))
	b.WriteByte('}')
}

// githubProfile is harmy's "github" object: GitHub's user with login as
// username and html_url as url (docs/compat/harmy.md §2.5).
type githubProfile struct {
	ID          int64   `json:"id"`
	Username    string  `json:"username"`
	AvatarURL   string  `json:"avatar_url"`
	URL         string  `json:"url"`
	Company     *string `json:"company"`
	Blog        *string `json:"blog"`
	Bio         *string `json:"bio"`
	PublicRepos int     `json:"public_repos"`
}

// renderGitHub renders p as harmy's "github" object, null for nil.
func renderGitHub(p *github.Profile) []byte {
	if p == nil {
		return jsonNull
	}
	return marshal(githubProfile{ID: p.ID, Username: p.Login, AvatarURL: p.AvatarURL, URL: p.HTMLURL,
		Company: p.Company, Blog: p.Blog, Bio: p.Bio, PublicRepos: p.PublicRepos})
}

// jsonNull is renderGitHub's answer without a profile, shared: its
// callers only copy it.
var jsonNull = []byte("null")

// marshal encodes v without HTML escaping, as JSON.stringify does.
func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // only strings, numbers, string maps and plain structs reach here
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// stringOrNull is s as a JSON string, null when empty.
func stringOrNull(s string) []byte {
	if s == "" {
		return []byte("null")
	}
	return marshal(s)
}

// rawString is raw when it is a JSON string, else null.
func rawString(raw json.RawMessage) []byte {
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return []byte("null")
	}
	return raw
}

// msOrNull is a Unix-millisecond time as a number, null when zero.
func msOrNull(ms int64) []byte {
	if ms == 0 {
		return []byte("null")
	}
	return marshal(ms)
}

// isObject reports whether raw is a JSON object.
func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}
