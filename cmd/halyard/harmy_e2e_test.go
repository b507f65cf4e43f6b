package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// harmyGet sends GET path, waiting out a 429 (the harmy routes allow 3
// requests a second per client) so the test reads the real answer.
func harmyGet(c client, path, auth string) (int, []byte) {
	c.t.Helper()
	for range 20 {
		req, _ := http.NewRequest(http.MethodGet, c.base+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			c.t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests {
			return resp.StatusCode, b
		}
		wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		time.Sleep(time.Duration(max(wait, 1)) * time.Second)
	}
	c.t.Fatalf("GET %s: still rate limited", path)
	return 0, nil
}

var harmyToken = regexp.MustCompile("`(lnyd_[0-9a-f]{32})`")

// TestHarmyEndToEnd: through the simulator's gateway and the bot, `.token`
// hands out a token by DM and `.add` writes a pair; GET /user/:id serves it
// with that token only, Lanyard's GET /v1/users/:id serves the same pair,
// and a Spotify presence sent through the gateway renders in harmy's shape.
func TestHarmyEndToEnd(t *testing.T) {
	m := startDemo(t, t.TempDir(), 10)
	defer m.Close()
	c := client{t, m.URL()}
	owner := m.Sim.MemberIDs(m.Sim.GuildIDs()[0])[1]
	eventually(t, "owner monitored", func() bool { return m.Hub.IsMonitored(owner) })
	chat := botChat{t: t, m: m, c: c, user: owner}

	r := chat.dm(".token")
	tok := harmyToken.FindStringSubmatch(r.Content)
	if tok == nil {
		t.Fatalf(".token reply: %+v", r)
	}
	if r = chat.dm(".add location Los Angeles, CA"); !strings.HasPrefix(r.Content, ":white_check_mark: Saved `location`.") {
		t.Fatalf(".add reply: %+v", r)
	}

	var body struct {
		Presence map[string]json.RawMessage `json:"presence"`
		KV       map[string]string          `json:"KV"`
		GitHub   json.RawMessage            `json:"github"`
	}
	for _, auth := range []string{tok[1], "Bearer " + tok[1]} {
		code, b := harmyGet(c, "/user/"+owner, auth)
		if code != 200 || json.Unmarshal(b, &body) != nil || body.KV["location"] != "Los Angeles, CA" || string(body.GitHub) != "null" {
			t.Fatalf("GET /user with token: %d %s", code, b)
		}
	}
	if code, b := harmyGet(c, "/user/"+owner, ""); code != 200 || !strings.Contains(string(b), `"KV":{}`) {
		t.Fatalf("GET /user without token: %d %s", code, b)
	}
	if code, b := harmyGet(c, "/user/"+owner, "lnyd_00000000000000000000000000000000"); code != 401 ||
		string(b) != `{"error":{"code":401,"message":"Unauthorized: this token does not belong to this user"}}` {
		t.Fatalf("wrong token: %d %s", code, b)
	}
	if code, b := harmyGet(c, "/user/abc", ""); code != 400 || !strings.HasPrefix(string(b), `{"error":{"code":400,`) {
		t.Fatalf("/user/abc: %d %s", code, b)
	}
	// The same pair through Lanyard.
	if code, b := c.do("GET", "/v1/users/"+owner, "", nil); code != 200 || !strings.Contains(string(b), `"location":"Los Angeles, CA"`) {
		t.Fatalf("Lanyard kv: %d %s", code, b)
	}

	// A Spotify presence through the gateway, rendered in harmy's shape.
	presence := fmt.Sprintf(`{"user":{"id":%q},"status":"dnd","client_status":{"desktop":"dnd"},"activities":[
		{"id":"spotify:1","name":"Spotify","type":2,"details":"BMW","state":"Pashanim","sync_id":"56MDdzieU2dTT3YLpCdpcA",
		 "timestamps":{"start":1720814201608,"end":1720814322741},"party":{"id":"spotify:%s"},"flags":48,"created_at":1720814203334,
		 "assets":{"large_text":"Himmel über Berlin","large_image":"spotify:ab67616d0000b273fa2f0c9e719ca71f2686ddf3"}}]}`, owner, owner)
	if code, b := c.do("POST", "/admin/v1/demo/presence", e2eAdmin, []byte(presence)); code != 202 {
		t.Fatalf("demo presence: %d %s", code, b)
	}
	eventually(t, "Spotify presence in the hub", func() bool {
		u, ok := m.Hub.Get(owner)
		return ok && u.Spotify() != nil
	})
	_, b := harmyGet(c, "/user/"+owner, "")
	want := fmt.Sprintf(`{"name":"Spotify","type":2,"song":"BMW","artist":"Pashanim","applicationId":null,`+
		`"timestamps":{"start":1720814201608,"end":1720814322741},"party":{"id":"spotify:%s"},"syncId":"56MDdzieU2dTT3YLpCdpcA",`+
		`"assets":{"largeText":"Himmel über Berlin","largeImage":"ab67616d0000b273fa2f0c9e719ca71f2686ddf3"},"flags":48,"createdTimestamp":1720814203334}`, owner)
	if json.Unmarshal(b, &body) != nil || string(body.Presence["spotifyActivity"]) != want || string(body.Presence["status"]) != `"dnd"` {
		t.Fatalf("spotifyActivity:\n got %s\nwant %s", body.Presence["spotifyActivity"], want)
	}
}

func TestHarmyConfig(t *testing.T) {
	cfg, err := ParseConfig([]string{"--demo"}, map[string]string{}, io.Discard)
	if err != nil || cfg.Harmy.GitHubAPIURL != "https://api.github.com" || cfg.Harmy.RatePerSecond != 3 || cfg.Harmy.RatePerMinute != 120 || cfg.HTTP.TrustedProxyHeader != "" {
		t.Fatalf("defaults: %+v %v", cfg, err)
	}
	cfg, err = ParseConfig([]string{"--demo"}, map[string]string{"GITHUB_API_URL": "http://127.0.0.1:9", "GITHUB_TOKEN": "ghp_x",
		"HARMY_RATE_PER_SECOND": "0", "HARMY_RATE_PER_MINUTE": "60", "TRUSTED_PROXY_HEADER": "X-Real-IP"}, io.Discard)
	if err != nil || cfg.Harmy.GitHubAPIURL != "http://127.0.0.1:9" || cfg.Harmy.GitHubToken != "ghp_x" || cfg.Harmy.RatePerSecond != 0 ||
		cfg.Harmy.RatePerMinute != 60 || cfg.HTTP.TrustedProxyHeader != "X-Real-IP" {
		t.Fatalf("from env: %+v %v", cfg, err)
	}
	for _, env := range []map[string]string{{"HARMY_RATE_PER_SECOND": "-1"}, {"HARMY_RATE_PER_MINUTE": "-5"}, {"GITHUB_API_URL": "api.github.com"}} {
		if _, err := ParseConfig([]string{"--demo"}, env, io.Discard); err == nil {
			t.Fatalf("%v accepted", env)
		}
	}
}
