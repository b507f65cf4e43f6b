package harmy

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/halyardhq/halyard/core"
)

// readmeSpotify is the Spotify activity of harmy's README as Discord sends it.
const readmeSpotify = `{"id":"spotify:1","name":"Spotify","type":2,"details":"BMW","state":"Pashanim",` +
	`"timestamps":{"start":1720814201608,"end":1720814322741},"party":{"id":"spotify:470320681905684500"},` +
	`"sync_id":"56MDdzieU2dTT3YLpCdpcA","session_id":"abc","flags":48,"created_at":1720814203334,` +
	`"assets":{"large_text":"Himmel über Berlin","large_image":"spotify:ab67616d0000b273fa2f0c9e719ca71f2686ddf3"}}`

// readmeBody is harmy's README example with the KV and GitHub parts this
// test sets (the user's own token, no GitHub linked).
const readmeBody = `{
  "presence": {
    "userId": "470320681905684500",
    "status": "dnd",
    "global_name": "Vaq",
    "server_name": null,
    "avatar": "5c11d7292c91e510c2b4f07946ea6d72",
    "spotifyActivity": {
      "name": "Spotify",
      "type": 2,
      "song": "BMW",
      "artist": "Pashanim",
      "applicationId": null,
      "timestamps": { "start": 1720814201608, "end": 1720814322741 },
      "party": { "id": "spotify:470320681905684500" },
      "syncId": "56MDdzieU2dTT3YLpCdpcA",
      "assets": { "largeText": "Himmel über Berlin", "largeImage": "ab67616d0000b273fa2f0c9e719ca71f2686ddf3" },
      "flags": 48,
      "createdTimestamp": 1720814203334
    }
  },
  "KV": { "First1": "Key/ValuePair0" },
  "github": null
}`

func spotifyActivity(raw string) core.Activity {
	return core.Activity{Raw: json.RawMessage(raw), ID: "spotify:1", Name: "Spotify", Type: 2, Details: "BMW", State: "Pashanim",
		SyncID: "56MDdzieU2dTT3YLpCdpcA", PartyID: "spotify:470320681905684500", CreatedAt: 1720814203334,
		Start: 1720814201608, End: 1720814322741, LargeText: "Himmel über Berlin",
		LargeImage: "spotify:ab67616d0000b273fa2f0c9e719ca71f2686ddf3", Flags: 48}
}

func TestGetUserReadmeShape(t *testing.T) {
	s := startHarmy(t, Options{}, nil)
	const id = "470320681905684500"
	custom := core.Activity{Raw: json.RawMessage(`{"id":"custom","name":"Custom Status","type":4,"state":"hi"}`), ID: "custom", Name: "Custom Status", Type: 4}
	s.member(id, "Vaq", "", "5c11d7292c91e510c2b4f07946ea6d72", &core.Presence{Status: core.StatusDND,
		Activities: []core.Activity{custom, spotifyActivity(readmeSpotify)}})
	if err := s.hub.PutKV(context.Background(), id, "First1", "Key/ValuePair0"); err != nil {
		t.Fatal(err)
	}
	tok, _ := s.tokens.Issue(context.Background(), id)

	resp, body := s.get(t, "/user/"+id, auth(tok))
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("%d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if !sameJSON(body, []byte(readmeBody)) {
		t.Fatalf("body differs from the README:\n%s", body)
	}
	// Key order as in the README.
	for _, order := range [][]string{
		{`"presence"`, `"KV"`, `"github"`},
		{`"userId"`, `"status"`, `"global_name"`, `"server_name"`, `"avatar"`, `"spotifyActivity"`},
		{`"name"`, `"type"`, `"song"`, `"artist"`, `"applicationId"`, `"timestamps"`, `"party"`, `"syncId"`, `"assets"`, `"flags"`, `"createdTimestamp"`},
	} {
		last := -1
		for _, k := range order {
			i := strings.Index(string(body), k)
			if i < last {
				t.Fatalf("key %s out of order in %s", k, body)
			}
			last = i
		}
	}
	// Trailing slash: the same resource.
	if resp, body2 := s.get(t, "/user/"+id+"/", auth(tok)); resp.StatusCode != 200 || string(body2) != string(body) {
		t.Fatalf("trailing slash: %d %s", resp.StatusCode, body2)
	}
}

func TestGetUserPresenceFields(t *testing.T) {
	s := startHarmy(t, Options{}, nil)
	spotify2 := `{"id":"spotify:2","name":"Spotify","type":2,"details":"Other","state":"Someone"}`
	bare := `{"id":"spotify:1","name":"Spotify","type":2}`
	tests := []struct {
		name, globalName, nick, avatar string
		presence                       *core.Presence
		want                           string
	}{
		{"no presence is offline, nulls", "", "", "", nil,
			`{"userId":"1","status":"offline","global_name":null,"server_name":null,"avatar":null,"spotifyActivity":null}`},
		{"online with nick", "Global", "Nick <b>", "a_abc", &core.Presence{Status: core.StatusOnline},
			`{"userId":"1","status":"online","global_name":"Global","server_name":"Nick <b>","avatar":"a_abc","spotifyActivity":null}`},
		{"idle", "", "", "", &core.Presence{Status: core.StatusIdle},
			`{"userId":"1","status":"idle","global_name":null,"server_name":null,"avatar":null,"spotifyActivity":null}`},
		{"only spotify:1 counts", "", "", "", &core.Presence{Status: core.StatusDND, Activities: []core.Activity{
			{Raw: json.RawMessage(spotify2), ID: "spotify:2", Name: "Spotify", Type: 2}}},
			`{"userId":"1","status":"dnd","global_name":null,"server_name":null,"avatar":null,"spotifyActivity":null}`},
		{"absent fields are null", "", "", "", &core.Presence{Status: core.StatusOnline, Activities: []core.Activity{
			{Raw: json.RawMessage(bare), ID: "spotify:1", Name: "Spotify", Type: 2}}},
			`{"userId":"1","status":"online","global_name":null,"server_name":null,"avatar":null,"spotifyActivity":` +
				`{"name":"Spotify","type":2,"song":null,"artist":null,"applicationId":null,"timestamps":null,"party":null,` +
				`"syncId":null,"assets":null,"flags":0,"createdTimestamp":null}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.member("1", tt.globalName, tt.nick, tt.avatar, tt.presence)
			_, body := s.get(t, "/user/1", nil)
			var resp struct{ Presence json.RawMessage }
			if json.Unmarshal(body, &resp) != nil || string(resp.Presence) != tt.want {
				t.Fatalf("presence\n got %s\nwant %s", resp.Presence, tt.want)
			}
		})
	}
	// The presence follows live changes.
	s.hub.UpdatePresence("1", &core.Presence{Status: core.StatusDND, Activities: []core.Activity{spotifyActivity(readmeSpotify)}})
	if _, body := s.get(t, "/user/1", nil); !strings.Contains(string(body), `"status":"dnd"`) || !strings.Contains(string(body), `"song":"BMW"`) {
		t.Fatalf("after update: %s", body)
	}
}

func TestGetUserErrors(t *testing.T) {
	s := startHarmy(t, Options{}, nil)
	s.member("123", "", "", "", nil)
	tests := []struct {
		path   string
		status int
	}{
		{"/user/abc", 400},
		{"/user/12a", 400},
		{"/user/-1", 400},
		{"/user/+123", 400},
		{"/user/0123", 400},
		{"/user/1.5", 400},
		{"/user/99999999999999999999", 400}, // over uint64
		{"/user/" + strings.Repeat("9", 80), 400},
		{"/user/%20123", 400},
		{"/user/456", 404},
		{"/user/0", 404},
		{"/user/18446744073709551615", 404},
		{"/user/123/extra", 404},
		{"/user/", 404},
		{"/user", 404},
		{"/users/123", 404},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := s.get(t, tt.path, nil)
			if tt.path == "/users/123" { // not harmy's prefix: Lanyard's 404
				if resp.StatusCode != 404 {
					t.Fatalf("%d %s", resp.StatusCode, body)
				}
				return
			}
			assertError(t, resp, body, tt.status)
		})
	}
	// A malformed id is 400 whatever the token.
	resp, body := s.get(t, "/user/abc", auth("lnyd_00000000000000000000000000000000"))
	assertError(t, resp, body, 400)
	// An unmonitored user is 404 even with a token.
	tok, _ := s.tokens.Issue(context.Background(), "456")
	resp, body = s.get(t, "/user/456", auth(tok))
	assertError(t, resp, body, 404)
	// Only GET is a route.
	req, _ := http.NewRequest(http.MethodPost, s.base+"/user/123", nil)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 404 {
		t.Fatalf("POST: %d", r.StatusCode)
	}
}

func TestGetUserKVOnlyWithOwnToken(t *testing.T) {
	s := startHarmy(t, Options{}, nil)
	ctx := context.Background()
	s.member("1", "", "", "", nil)
	s.member("2", "", "", "", nil)
	if err := s.hub.PutKV(ctx, "1", "secret", "v<&>"); err != nil {
		t.Fatal(err)
	}
	own, _ := s.tokens.Issue(ctx, "1")
	other, _ := s.tokens.Issue(ctx, "2")

	tests := []struct {
		name   string
		header http.Header
		status int
		kv     string
	}{
		{"no token", nil, 200, `{}`},
		{"empty header", auth(""), 200, `{}`},
		{"own bare", auth(own), 200, `{"secret":"v<&>"}`},
		{"own Bearer", auth("Bearer " + own), 200, `{"secret":"v<&>"}`},
		{"own bearer lower case", auth("bearer " + own), 200, `{"secret":"v<&>"}`},
		{"another user's token", auth(other), 401, ""},
		{"another user's token, Bearer", auth("Bearer " + other), 401, ""},
		{"unknown token", auth("lnyd_00000000000000000000000000000000"), 401, ""},
		{"garbage", auth("hello world"), 401, ""},
		{"Bearer alone", auth("Bearer "), 401, ""},
		{"first header counts", http.Header{"Authorization": {"nope", own}}, 401, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := s.get(t, "/user/1", tt.header)
			if tt.status != 200 {
				assertError(t, resp, body, tt.status)
				if strings.Contains(string(body), "secret") {
					t.Fatal("KV leaked in an error")
				}
				return
			}
			var got struct{ KV json.RawMessage }
			if resp.StatusCode != 200 || json.Unmarshal(body, &got) != nil || string(got.KV) != tt.kv {
				t.Fatalf("%d KV %s, want %s", resp.StatusCode, got.KV, tt.kv)
			}
		})
	}

	// One store: a write through the hub (any dialect) is visible at once.
	if err := s.hub.PutKV(ctx, "1", "location", "Berlin"); err != nil {
		t.Fatal(err)
	}
	if _, body := s.get(t, "/user/1", auth(own)); !strings.Contains(string(body), `"location":"Berlin"`) {
		t.Fatalf("hub write not visible: %s", body)
	}
	// Re-issuing revokes the old token at once.
	fresh, _ := s.tokens.Issue(ctx, "1")
	resp, body := s.get(t, "/user/1", auth(own))
	assertError(t, resp, body, 401)
	if resp, _ := s.get(t, "/user/1", auth(fresh)); resp.StatusCode != 200 {
		t.Fatalf("new token: %d", resp.StatusCode)
	}
}

// TestNoServerErrorFromInput: no path or header a client sends makes the
// harmy route answer 5xx (docs/compat/harmy.md §3.1: 500 is never caused by input).
func TestNoServerErrorFromInput(t *testing.T) {
	s := startHarmy(t, Options{RatePerSecond: 3, RatePerMinute: 120, TrustedProxyHeader: "X-Forwarded-For"}, nil)
	s.member("1", "", "", "", &core.Presence{Status: core.StatusOnline, Activities: []core.Activity{
		{Raw: json.RawMessage(`{"id":"spotify:1","name":"Spotify","type":2,"details":5,"assets":[],"timestamps":"x","party":"y"}`), ID: "spotify:1", Name: "Spotify", Type: 2}}})
	paths := []string{"/user/1", "/user/%00", "/user/%E2%82", "/user/" + strings.Repeat("1", 5000), "/user/1%2F2", "/user/..%2F..", "/user/1?x=%zz"}
	headers := []http.Header{
		nil,
		auth(strings.Repeat("a", 10000)),
		auth("Bearer " + strings.Repeat("\xff", 300)),
		auth("Bearer"),
		{"Authorization": {"", "x"}},
		{"X-Forwarded-For": {strings.Repeat(",", 1000)}},
		{"X-Forwarded-For": {"[::1]:80, not-an-ip" + strings.Repeat("z", 500)}},
	}
	for i, p := range paths {
		for j, h := range headers {
			if h == nil {
				h = http.Header{}
			}
			h = h.Clone()
			h.Add("X-Forwarded-For", "192.0.2."+strconv.Itoa(i*len(headers)+j)) // one client per request: no 429
			resp, body := s.get(t, p, h)
			if resp.StatusCode >= 500 {
				t.Fatalf("%s %v: %d %s", p, h, resp.StatusCode, body)
			}
			if resp.StatusCode == 200 && !json.Valid(body) {
				t.Fatalf("%s: invalid JSON %s", p, body)
			}
		}
	}
}
