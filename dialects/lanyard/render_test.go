package lanyard

import (
	"encoding/json"
	"testing"

	"github.com/halyardhq/halyard/core"
)

func userWith(p *core.Presence, kv core.KV) *core.User {
	return &core.User{
		ID:       "94490510688792576",
		Discord:  core.ProfileOf(core.DiscordUser{ID: "94490510688792576", Raw: json.RawMessage(`{"id":"94490510688792576","username":"phin","primary_guild":{"tag":"LNY"},"future_field":[1,2]}`)}),
		Presence: p,
		KV:       kv,
	}
}

func decode(t *testing.T, b []byte) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("invalid JSON %s: %v", b, err)
	}
	return m
}

func TestRenderOffline(t *testing.T) {
	got := decode(t, RenderPresence(userWith(nil, core.KV{})))
	want := map[string]string{
		"active_on_discord_desktop": "false", "active_on_discord_embedded": "false", "active_on_discord_mobile": "false",
		"active_on_discord_vr": "false", "active_on_discord_web": "false", "activities": "[]",
		"discord_status": `"offline"`, "kv": "{}", "listening_to_spotify": "false", "spotify": "null",
		"discord_user": `{"id":"94490510688792576","username":"phin","primary_guild":{"tag":"LNY"},"future_field":[1,2]}`,
	}
	if len(got) != 11 {
		t.Fatalf("%d keys", len(got))
	}
	for k, v := range want {
		if string(got[k]) != v {
			t.Errorf("%s = %s, want %s", k, got[k], v)
		}
	}
}

func TestRenderOnlineWithSpotify(t *testing.T) {
	spotify := `{"id":"spotify:1","name":"Spotify","type":2,"flags":48,"created_at":1615529838051,"details":"Let Go","state":"Ark Patrol; Veronika Redd","sync_id":"3kdlVcMVsSkbsUy8eQcBjI","timestamps":{"start":1615529820677,"end":1615530068733},"assets":{"large_image":"spotify:ab67616d0000b27364840995fe43bb2ec73a241d","large_text":"Let Go"}}`
	custom := `{"id":"custom","name":"Custom Status","type":4,"state":"late night","emoji":{"name":"🌙"},"created_at":1615529838051}`
	p := &core.Presence{
		Status:       core.StatusOnline,
		ClientStatus: &core.ClientStatus{Desktop: core.StatusOnline, Mobile: core.StatusIdle},
		Activities: []core.Activity{
			{Raw: json.RawMessage(custom), ID: "custom"},
			{Raw: json.RawMessage(spotify), ID: "spotify:1"},
		},
	}
	got := decode(t, RenderPresence(userWith(p, core.KVOf("location", "Los Angeles, CA <3"))))
	for k, v := range map[string]string{
		"active_on_discord_desktop": "true", "active_on_discord_mobile": "true", "active_on_discord_web": "false",
		"active_on_discord_embedded": "false", "active_on_discord_vr": "false",
		"discord_status": `"online"`, "listening_to_spotify": "true",
		"activities": "[" + custom + "," + spotify + "]",
		"kv":         `{"location":"Los Angeles, CA <3"}`,
		"spotify":    `{"album":"Let Go","album_art_url":"https://i.scdn.co/image/ab67616d0000b27364840995fe43bb2ec73a241d","artist":"Ark Patrol; Veronika Redd","song":"Let Go","timestamps":{"start":1615529820677,"end":1615530068733},"track_id":"3kdlVcMVsSkbsUy8eQcBjI"}`,
	} {
		if string(got[k]) != v {
			t.Errorf("%s = %s\nwant %s", k, got[k], v)
		}
	}
}

func TestRenderSpotifyWithoutArt(t *testing.T) {
	for _, raw := range []string{
		`{"id":"spotify:1","type":2,"assets":{"large_image":null}}`,
		`{"id":"spotify:1","type":2,"assets":{"large_image":"local:a:b"}}`,
		`{"id":"spotify:1","type":2}`,
	} {
		p := &core.Presence{Status: core.StatusOnline, Activities: []core.Activity{{Raw: json.RawMessage(raw), ID: "spotify:1"}}}
		got := decode(t, RenderPresence(userWith(p, core.KV{})))
		if string(got["spotify"]) != `{"album":null,"album_art_url":null,"artist":null,"song":null,"timestamps":null,"track_id":null}` {
			t.Errorf("%s: spotify = %s", raw, got["spotify"])
		}
	}
}
