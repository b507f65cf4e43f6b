package lantern

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
)

// alice is docs/compat/lantern.md §3.1's observed example user.
const aliceJSON = `{"id":"111111111111111111","username":"alice","discriminator":"0","global_name":"Alice <&>",
	"avatar":"a_0123456789abcdef0123456789abcdef","public_flags":4194372,
	"primary_guild":{"identity_enabled":true,"identity_guild_id":"987654321098765432","tag":"GGEZ","badge":"deadbeefdeadbeefdeadbeefdeadbeef"}}`

func alicePresence(t testing.TB) *core.Presence {
	return &core.Presence{
		Status:       core.StatusIdle,
		ClientStatus: &core.ClientStatus{Desktop: core.StatusIdle, Mobile: core.StatusOnline},
		Activities: []core.Activity{
			activity(t, `{"id":"custom","name":"Custom Status","type":4,"state":"hello world","emoji":{"name":"🔥"},"created_at":1795324206869}`),
			activity(t, `{"id":"spotify:1","name":"Spotify","type":2,"state":"Artist A; Artist B","details":"Song Name",
				"sync_id":"4uLU6hMCjMI75M1A2tKUQC","created_at":1795324142869,
				"assets":{"large_image":"spotify:ab67616d0000b273aaaa","large_text":"Album Name"},
				"timestamps":{"start":1795324142869,"end":1795324327869}}`),
			activity(t, `{"id":"x","name":"Visual Studio Code","type":0,"state":"Workspace: y","details":"Editing x.ts",
				"application_id":"383226320970055681","created_at":1795324202869,
				"assets":{"large_image":"565944799235276820","large_text":"Editing a TS file",
					"small_image":"mp:external/abc/https/example.com/x.png","small_text":"VS Code"},
				"timestamps":{"start":1795320484869}}`),
		},
	}
}

// aliceWant is docs/compat/lantern.md §3.1's example as served (storage {} and the monitoring
// time of the example).
const aliceWant = `{
  "metadata": {
    "id": "111111111111111111", "username": "alice", "discriminator": "0", "global_name": "Alice <&>",
    "avatar": "a_0123456789abcdef0123456789abcdef",
    "avatar_url": "https://cdn.discordapp.com/avatars/111111111111111111/a_0123456789abcdef0123456789abcdef.gif",
    "display_avatar_url": "https://cdn.discordapp.com/avatars/111111111111111111/a_0123456789abcdef0123456789abcdef.gif",
    "bot": false,
    "flags": { "human_readable": ["Hypesquad", "HypeSquadOnlineHouse1", "ActiveDeveloper"], "bitfield": 4194372 },
    "monitoring_since": { "unix": 1672628645, "raw": "2023-01-02T03:04:05.678Z" }
  },
  "active_platforms": {
    "desktop": "idle", "mobile": "online", "web": "offline",
    "spotify": {
      "track_id": "4uLU6hMCjMI75M1A2tKUQC", "song": "Song Name", "artist": ["Artist A", "Artist B"],
      "album": "Album Name", "album_cover": "https://i.scdn.co/image/ab67616d0000b273aaaa",
      "start_time": { "unix": 1795324142, "raw": "2026-11-22T05:09:02.869Z" },
      "end_time": { "unix": 1795324327, "raw": "2026-11-22T05:12:07.869Z" },
      "time": { "current_human_readable": "01:05", "end_human_readable": "03:05" }
    }
  },
  "activities": [
    { "name": "Custom Status", "type": 4,
      "emoji": { "animated": null, "name": "🔥", "id": null, "createdTimestamp": null, "identifier": "%F0%9F%94%A5", "imageURL": null },
      "text": "hello world", "start_time": { "unix": 1795324206, "raw": "2026-11-22T05:10:06.869Z" }, "end_time": null },
    { "name": "Spotify", "type": 2, "state": "Artist A; Artist B", "details": "Song Name", "application_id": null,
      "created_at": 1795324142869,
      "assets": {
        "large_image": { "hash": "spotify:ab67616d0000b273aaaa", "image_url": "https://i.scdn.co/image/ab67616d0000b273aaaa", "text": "Album Name" },
        "small_image": { "hash": null, "image_url": null, "text": null }
      },
      "timestamps": { "start_time": { "unix": 1795324142, "raw": "2026-11-22T05:09:02.869Z" } } },
    { "name": "Visual Studio Code", "type": 0, "state": "Workspace: y", "details": "Editing x.ts",
      "application_id": "383226320970055681", "created_at": 1795324202869,
      "assets": {
        "large_image": { "hash": "565944799235276820", "image_url": "https://cdn.discordapp.com/app-assets/383226320970055681/565944799235276820.webp", "text": "Editing a TS file" },
        "small_image": { "hash": "mp:external/abc/https/example.com/x.png", "image_url": "https://media.discordapp.net/external/abc/https/example.com/x.png", "text": "VS Code" }
      },
      "timestamps": { "start_time": { "unix": 1795320484, "raw": "2026-11-22T04:08:04.869Z" } } }
  ],
  "storage": {},
  "server_tag": { "guild_id": "987654321098765432", "name": "GGEZ",
    "icon_url": "https://cdn.discordapp.com/guild-tag-badges/987654321098765432/deadbeefdeadbeefdeadbeefdeadbeef.webp" },
  "status": "idle",
  "last_seen_at": { "unix": null, "raw": null }
}`

// TestUserObjectExample serves docs/compat/lantern.md §3.1's observed example byte for byte
// (§3.1–§3.9).
func TestUserObjectExample(t *testing.T) {
	s := newTestServer(t, nil)
	s.setHubNow(time.UnixMilli(1672628645678))
	s.member(aliceJSON, alicePresence(t))
	r := s.do("GET", "/api/v1/users/111111111111111111", "")
	if r.status != 200 || r.header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("status %d, content type %q", r.status, r.header.Get("Content-Type"))
	}
	expectJSON(t, "alice", r.body, compact(t, aliceWant))
	if !strings.Contains(string(r.body), `"Alice <&>"`) || !strings.Contains(string(r.body), `"🔥"`) {
		t.Fatal("HTML characters or non-ASCII escaped") // docs/compat/lantern.md §1.2
	}
}

// TestUserObjectCases covers the user object's rules one by one
// (docs/compat/lantern.md §3.3–§3.9).
func TestUserObjectCases(t *testing.T) {
	noAvatar := func(id, disc string) string {
		return `{"id":"` + id + `","username":"bob","discriminator":"` + disc + `","global_name":null,"avatar":null}`
	}
	withActs := func(acts ...string) *core.Presence {
		p := &core.Presence{Status: core.StatusOnline, ClientStatus: &core.ClientStatus{Desktop: core.StatusOnline}}
		for _, a := range acts {
			p.Activities = append(p.Activities, activity(t, a))
		}
		return p
	}
	tests := []struct {
		name     string
		user     string
		presence *core.Presence
		want     []string // fragments of the rendered object
		not      []string // fragments that must not appear
	}{
		{"static avatar webp", `{"id":"333333333333333333","username":"c","discriminator":"0","avatar":"0123abcd"}`, nil,
			[]string{`"avatar_url":"https://cdn.discordapp.com/avatars/333333333333333333/0123abcd.webp"`}, nil},
		{"no avatar: default by id", noAvatar("222222222222222222", "0"), nil,
			[]string{`"global_name":null,"avatar":null,"avatar_url":null,"display_avatar_url":"https://cdn.discordapp.com/embed/avatars/3.png"`,
				`"flags":{"human_readable":[]},`}, nil},
		{"legacy discriminator", noAvatar("222222222222222222", "1234"), nil,
			[]string{`"display_avatar_url":"https://cdn.discordapp.com/embed/avatars/4.png"`}, nil},
		{"no presence", noAvatar("222222222222222222", "0"), nil,
			[]string{`"active_platforms":{"desktop":"offline","mobile":"offline","web":"offline","spotify":null},"activities":[]`,
				`"storage":{},"server_tag":null,"status":"offline","last_seen_at":{"unix":null,"raw":null}}`}, nil},
		{"spotify solo artist", noAvatar("222222222222222222", "0"),
			withActs(`{"name":"Spotify","type":2,"state":"Solo","details":"S","timestamps":{"start":1795324142869}}`),
			[]string{`"artist":"Solo"`, `"start_time":{"unix":1795324142,"raw":"2026-11-22T05:09:02.869Z"},"end_time":{"unix":null,"raw":null}`,
				`"current_human_readable":"01:05","end_human_readable":"01:05"`}, []string{`"album"`}},
		{"spotify without timestamps", noAvatar("222222222222222222", "0"),
			withActs(`{"name":"Spotify","type":2,"state":"A; B; C","details":"S"}`),
			[]string{`"artist":["A","B","C"]`, `"start_time":{"unix":null},"end_time":{"unix":null},"time":{"current_human_readable":"00:00","end_human_readable":"00:00"}`},
			[]string{`"timestamps"`}},
		{"custom animated emoji", noAvatar("222222222222222222", "0"),
			withActs(`{"name":"Custom Status","type":4,"emoji":{"name":"pepe","id":"123456789012345678","animated":true},"created_at":1795324206869,"timestamps":{"end":1795324306869}}`),
			[]string{`"emoji":{"animated":true,"name":"pepe","id":"123456789012345678","createdTimestamp":1449504792216,"identifier":"a:pepe:123456789012345678","imageURL":"https://cdn.discordapp.com/emojis/123456789012345678.webp"},"text":null`,
				`"end_time":{"unix":1795324306,"raw":"2026-11-22T05:11:46.869Z"}`}, nil},
		{"no assets, no timestamps", noAvatar("222222222222222222", "0"),
			withActs(`{"name":"Game","type":0,"created_at":1795324202869}`),
			[]string{`{"name":"Game","type":0,"state":null,"details":null,"application_id":null,"created_at":1795324202869}`}, nil},
		{"youtube and other prefixes", noAvatar("222222222222222222", "0"),
			withActs(`{"name":"YT","type":3,"created_at":1,"assets":{"large_image":"youtube:abc","small_image":"youtube:abc"}}`,
				`{"name":"TW","type":1,"created_at":1,"assets":{"large_image":"twitch:xyz","small_image":"spotify:q"}}`,
				`{"name":"O","type":5,"created_at":1,"assets":{"large_image":"other:x"}}`,
				`{"name":"N","type":0,"created_at":1,"assets":{"large_image":"12345"}}`),
			[]string{`"large_image":{"hash":"youtube:abc","image_url":"https://i.ytimg.com/vi/abc/hqdefault_live.jpg","text":null},"small_image":{"hash":"youtube:abc","image_url":null,"text":null}`,
				`"image_url":"https://static-cdn.jtvnw.net/previews-ttv/live_user_xyz.png"`,
				`"small_image":{"hash":"spotify:q","image_url":null`,
				`"large_image":{"hash":"other:x","image_url":null`,
				`"image_url":"https://cdn.discordapp.com/app-assets/null/12345.webp"`}, nil},
		{"end-only timestamps build", noAvatar("222222222222222222", "0"),
			withActs(`{"name":"Game","type":0,"created_at":5,"timestamps":{"end":1795324306869}}`),
			[]string{`{"name":"Game","type":0,"state":null,"details":null,"application_id":null,"created_at":5}`}, []string{`"timestamps"`}},
		{"unknown flag bits kept in bitfield", `{"id":"222222222222222222","username":"v","discriminator":"1234","public_flags":65537,"bot":true}`, nil,
			[]string{`"bot":true,"flags":{"human_readable":["Staff","VerifiedBot"],"bitfield":65537}`}, nil},
		{"tag without badge", `{"id":"222222222222222222","username":"t","primary_guild":{"identity_enabled":true,"identity_guild_id":"9","tag":"X","badge":null}}`, nil,
			[]string{`"server_tag":{"guild_id":"9","name":"X","icon_url":null}`}, nil},
		{"tag disabled", `{"id":"222222222222222222","username":"t","primary_guild":{"identity_enabled":false,"identity_guild_id":"9","tag":"X"}}`, nil,
			[]string{`"server_tag":null`}, nil},
		{"online: no last seen", noAvatar("222222222222222222", "0"), withActs(),
			[]string{`"status":"online","last_seen_at":{"unix":null,"raw":null}}`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, nil)
			id := s.member(tt.user, tt.presence)
			r := s.do("GET", "/api/v1/users/"+id, "")
			if r.status != 200 || !json.Valid(r.body) {
				t.Fatalf("status %d body %s", r.status, r.body)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(r.body), w) {
					t.Errorf("missing %s\nin %s", w, r.body)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(string(r.body), n) {
					t.Errorf("unexpected %s\nin %s", n, r.body)
				}
			}
		})
	}
}

// TestLastSeen: a user who goes offline shows the time, kept by the hub
// (docs/compat/lantern.md §3.9).
func TestLastSeen(t *testing.T) {
	s := newTestServer(t, nil)
	s.setHubNow(time.UnixMilli(1735689600000))
	id := s.member(`{"id":"444444444444444444","username":"dora","global_name":"Dora"}`,
		&core.Presence{Status: core.StatusOnline, ClientStatus: &core.ClientStatus{Web: core.StatusOnline}})
	s.hub.UpdatePresence(id, &core.Presence{Status: core.StatusOffline})
	r := s.do("GET", "/api/v1/users/"+id, "")
	if !strings.HasSuffix(string(r.body), `"storage":{},"server_tag":null,"status":"offline","last_seen_at":{"unix":1735689600,"raw":"2025-01-01T00:00:00.000Z"}}`) {
		t.Fatalf("body %s", r.body)
	}
}

// TestSpotifyClockRefreshes: the cached rendering is served with the
// current clock values, never the cached ones.
func TestSpotifyClockRefreshes(t *testing.T) {
	u := &core.User{ID: "1", KV: core.KV{}, Presence: &core.Presence{Activities: []core.Activity{
		activity(t, `{"name":"Spotify","type":2,"timestamps":{"start":1000}}`)}}}
	cached := RenderUser(u, time.UnixMilli(66000))
	if !strings.Contains(string(cached), `"current_human_readable":"01:05","end_human_readable":"01:05"`) {
		t.Fatalf("render %s", cached)
	}
	later := refreshClock(cached, stampsOf(u), time.UnixMilli(1000+3723000))
	if !strings.Contains(string(later), `"current_human_readable":"02:03","end_human_readable":"02:03"`) {
		t.Fatalf("refreshed %s", later)
	}
	if !strings.Contains(string(cached), `"01:05"`) {
		t.Fatal("the cached bytes were changed")
	}
}

func TestClockString(t *testing.T) {
	for ms, want := range map[int64]string{0: "00:00", 65000: "01:05", 185999: "03:05", 3723000: "02:03", -5000: "00:00", 59999: "00:59"} {
		if got := clockString(ms); got != want {
			t.Errorf("clockString(%d) = %q, want %q", ms, got, want)
		}
	}
}

func TestAppendString(t *testing.T) {
	got := string(appendString(nil, "a\"\\\n\t\x01<>&\u2028\u2029🔥\xff"))
	want := `"a\"\\\n\t\u0001<>&` + "\u2028\u2029🔥\ufffd" + `"`
	if got != want {
		t.Fatalf("got %s want %s", got, want)
	}
}
