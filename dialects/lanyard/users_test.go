package lanyard

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/internal/memstore"
	"github.com/halyardhq/halyard/server"
)

func newTestServer(t *testing.T) (*httptest.Server, *core.Hub, *core.Tokens) {
	t.Helper()
	hub := core.NewHub(core.HubOptions{})
	tokens, _ := core.NewTokens(bytes.Repeat([]byte("s"), 32), memstore.New())
	srv := server.New(server.Options{Hub: hub, Tokens: tokens})
	srv.Register(New(Options{Hub: hub, Tokens: tokens}))
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts, hub, tokens
}

func get(t *testing.T, url, auth string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

const (
	notMonitored = `{"error":{"code":"user_not_monitored","message":"User is not being monitored by Lanyard"},"success":false}`
	noPermission = `{"error":{"code":"no_permission","message":"You do not have permission to access this resource"},"success":false}`
	notFound     = `{"error":{"code":"not_found","message":"Route does not exist"},"success":false}`
)

func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return bytes.Equal(xb, yb)
}

func TestGetUser(t *testing.T) {
	ts, hub, tokens := newTestServer(t)
	hub.UpsertMember("g", core.Member{User: core.DiscordUser{ID: "123", Raw: json.RawMessage(`{"id":"123","username":"x"}`)}})
	tok, _ := tokens.Issue(context.Background(), "123")

	tests := []struct {
		name, path, auth string
		status           int
		body             string // exact JSON, or "" for a presence
	}{
		{"monitored", "/v1/users/123", "", 200, ""},
		{"trailing slash", "/v1/users/123/", "", 200, ""},
		{"unmonitored", "/v1/users/456", "", 404, notMonitored},
		{"not an id", "/v1/users/abc", "", 404, notMonitored},
		{"dotted", "/v1/users/123.png", "", 404, notMonitored},
		{"@me no auth", "/v1/users/@me", "", 401, noPermission},
		{"@me bad key", "/v1/users/@me", "lnyd_00000000000000000000000000000000", 401, noPermission},
		{"@me bearer", "/v1/users/@me", "Bearer " + tok, 401, noPermission},
		{"@me", "/v1/users/@me", tok, 200, ""},
		{"unknown v1", "/v1/nope", "", 404, notFound},
		{"unknown", "/nope", "", 404, notFound},
		{"users list", "/v1/users", "", 404, notFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, ts.URL+tt.path, tt.auth)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" && ct != "application/json" {
				t.Fatalf("content-type %q", ct)
			}
			if tt.body != "" && !sameJSON(body, []byte(tt.body)) {
				t.Fatalf("body %s, want %s", body, tt.body)
			}
			if tt.body == "" {
				var env struct {
					Success bool                       `json:"success"`
					Data    map[string]json.RawMessage `json:"data"`
				}
				if json.Unmarshal(body, &env) != nil || !env.Success || len(env.Data) != 11 || string(env.Data["kv"]) != "{}" {
					t.Fatalf("presence body %s", body)
				}
			}
		})
	}
	// POST to a user is not a route.
	resp, err := http.Post(ts.URL+"/v1/users/123", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 404 || !sameJSON(b, []byte(notFound)) {
		t.Fatalf("POST: %d %s", resp.StatusCode, b)
	}
}

func TestGetUserServesCachedBytesUntilChange(t *testing.T) {
	ts, hub, _ := newTestServer(t)
	hub.UpsertMember("g", core.Member{User: core.DiscordUser{ID: "1", Raw: json.RawMessage(`{"id":"1"}`)}})
	_, a := get(t, ts.URL+"/v1/users/1", "")
	_, b := get(t, ts.URL+"/v1/users/1", "")
	if !bytes.Equal(a, b) {
		t.Fatal("two reads differ without a change")
	}
	hub.UpdatePresence("1", &core.Presence{Status: core.StatusIdle, ClientStatus: &core.ClientStatus{Web: core.StatusIdle}})
	_, c := get(t, ts.URL+"/v1/users/1", "")
	if !bytes.Contains(c, []byte(`"discord_status":"idle"`)) || !bytes.Contains(c, []byte(`"active_on_discord_web":true`)) {
		t.Fatalf("after change: %s", c)
	}
}
