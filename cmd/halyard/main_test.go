package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// startDemo runs the production wiring in demo mode on a loopback port.
func startDemo(t *testing.T, dataDir string, users int) *Main {
	t.Helper()
	return startDemoIn(t, dataDir, users, nil)
}

// startDemoIn runs the production wiring in demo mode on dataDir (so a
// test can restart on the same store) with the test admin token and extra
// environment. The caller closes it.
func startDemoIn(t testing.TB, dataDir string, users int, env map[string]string) *Main {
	t.Helper()
	m := NewMain()
	m.Stdout, m.Stderr = io.Discard, io.Discard
	args := []string{"--demo", "--demo-users", fmt.Sprint(users), "--demo-churn", "0",
		"--addr", "127.0.0.1:0", "--data-dir", dataDir, "--log-level", "warn"}
	full := map[string]string{"ADMIN_TOKEN": "test-admin-token"}
	maps.Copy(full, env)
	if err := m.ParseFlags(args, full); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := m.Run(ctx); err != nil {
		m.Close()
		t.Fatal(err)
	}
	return m
}

type client struct {
	t    testing.TB
	base string
}

func (c client) do(method, path, auth string, body []byte) (int, []byte) {
	c.t.Helper()
	return c.doType(method, path, auth, "", string(body))
}

// doType sends a request with a body and its content type ("" sends
// none); auth "" sends no Authorization header.
func (c client) doType(method, path, auth, ctype, body string) (int, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestDemoEndToEnd(t *testing.T) {
	dataDir := t.TempDir()
	m := startDemo(t, dataDir, 20)
	c := client{t, m.URL()}
	admin := "Bearer test-admin-token"

	if code, body := c.do("GET", "/healthz", "", nil); code != 200 {
		t.Fatalf("healthz %d %s", code, body)
	}
	eventually(t, "readyz 200", func() bool { code, _ := c.do("GET", "/readyz", "", nil); return code == 200 })

	// Simulator → arikawa → hub → HTTP: every member is served as the simulator holds it.
	guild := m.Sim.GuildIDs()[0]
	ids := m.Sim.MemberIDs(guild)
	if len(ids) < 20 {
		t.Fatalf("simulator has %d members", len(ids))
	}
	eventually(t, "every member served", func() bool {
		for _, id := range ids {
			if code, _ := c.do("GET", "/v1/users/"+id, "", nil); code != 200 {
				return false
			}
		}
		return true
	})
	for _, id := range ids {
		_, body := c.do("GET", "/v1/users/"+id, "", nil)
		var resp struct {
			Success bool                       `json:"success"`
			Data    map[string]json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(body, &resp); err != nil || !resp.Success {
			t.Fatalf("bad body %s", body)
		}
		if len(resp.Data) != 11 {
			t.Fatalf("presence has %d keys: %s", len(resp.Data), body)
		}
		truth, _ := m.Sim.Truth(id)
		assertJSONEqual(t, "discord_user", truth.User, resp.Data["discord_user"])
		assertJSONEqual(t, "activities", orEmptyArray(truth.Activities), resp.Data["activities"])
		var status string
		_ = json.Unmarshal(resp.Data["discord_status"], &status)
		if status != truth.Status {
			t.Fatalf("user %s status %q, simulator %q", id, status, truth.Status)
		}
	}

	// A presence driven through the admin API travels the gateway path.
	target := ids[3]
	presence := fmt.Sprintf(`{"user":{"id":%q},"status":"dnd","client_status":{"mobile":"dnd","vr":"dnd"},
		"activities":[{"id":"custom","name":"Custom Status","type":4,"state":"testing halyard","created_at":1767268800000}]}`, target)
	if code, body := c.do("POST", "/admin/v1/demo/presence", admin, []byte(presence)); code != 202 {
		t.Fatalf("demo presence %d %s", code, body)
	}
	eventually(t, "presence update served", func() bool {
		_, body := c.do("GET", "/v1/users/"+target, "", nil)
		return bytes.Contains(body, []byte(`"discord_status":"dnd"`)) && bytes.Contains(body, []byte(`"active_on_discord_vr":true`)) &&
			bytes.Contains(body, []byte(`testing halyard`))
	})
	if code, _ := c.do("POST", "/admin/v1/demo/presence", admin, []byte(`[1]`)); code != 400 {
		t.Fatalf("bad demo presence: %d", code)
	}
	if code, _ := c.do("POST", "/admin/v1/demo/presence", "Bearer wrong", []byte(presence)); code != 401 {
		t.Fatalf("wrong admin token: %d", code)
	}

	// Unmonitored and malformed ids.
	for _, id := range []string{"1", "abc", "123.png", strings.Repeat("9", 80)} {
		code, body := c.do("GET", "/v1/users/"+id, "", nil)
		if code != 404 || !bytes.Contains(body, []byte(`"user_not_monitored"`)) {
			t.Fatalf("GET %s: %d %s", id, code, body)
		}
	}

	// Members leaving and joining through the gateway.
	if code, _ := c.do("DELETE", "/admin/v1/demo/members/"+ids[5], admin, nil); code != 202 {
		t.Fatalf("remove member: %d", code)
	}
	eventually(t, "member gone", func() bool { code, _ := c.do("GET", "/v1/users/"+ids[5], "", nil); return code == 404 })
	newID := "1300000000000009999"
	member := fmt.Sprintf(`{"user":{"id":%q,"username":"newcomer","discriminator":"0","global_name":"New","avatar":null},"roles":[],"joined_at":"2026-01-01T00:00:00Z","deaf":false,"mute":false,"flags":0}`, newID)
	if code, body := c.do("POST", "/admin/v1/demo/members", admin, []byte(member)); code != 202 {
		t.Fatalf("add member: %d %s", code, body)
	}
	eventually(t, "member joined", func() bool { code, _ := c.do("GET", "/v1/users/"+newID, "", nil); return code == 200 })

	// Admin users listing pages in id order.
	code, body := c.do("GET", "/admin/v1/users?limit=5", admin, nil)
	var page struct {
		Users []struct{ ID, Username, Status string } `json:"users"`
		Next  *string                                 `json:"next"`
	}
	if code != 200 || json.Unmarshal(body, &page) != nil || len(page.Users) != 5 || page.Next == nil {
		t.Fatalf("users page: %d %s", code, body)
	}
	if code, _ := c.do("GET", "/admin/v1/users?limit=abc", admin, nil); code != 400 {
		t.Fatalf("bad limit: %d", code)
	}

	// Tokens: issue, use for @me, KV written through the hub.
	owner := ids[0]
	code, body = c.do("POST", "/admin/v1/users/"+owner+"/token", admin, nil)
	var tok struct{ Token string }
	if code != 200 || json.Unmarshal(body, &tok) != nil || !strings.HasPrefix(tok.Token, "lnyd_") {
		t.Fatalf("issue token: %d %s", code, body)
	}
	if code, body := c.do("GET", "/v1/users/@me", tok.Token, nil); code != 200 || !bytes.Contains(body, []byte(owner)) {
		t.Fatalf("@me: %d %s", code, body)
	}
	if code, _ := c.do("GET", "/v1/users/@me", "Bearer "+tok.Token, nil); code != 401 {
		t.Fatalf("@me with Bearer must be 401 in Lanyard, got %d", code)
	}
	if err := m.Hub.PutKV(context.Background(), owner, "location", "Los Angeles"); err != nil {
		t.Fatal(err)
	}
	assertTokensDumpHidesToken(t, m.Store.URI(), tok.Token)

	// A DM command answered by the bot, recorded by the simulator.
	if code, _ := c.do("POST", "/admin/v1/demo/messages", admin, []byte(fmt.Sprintf(`{"user_id":%q,"content":".help"}`, owner))); code != 202 {
		t.Fatalf("demo message: %d", code)
	}
	eventually(t, ".help reply", func() bool {
		_, body := c.do("GET", "/admin/v1/demo/messages?user_id="+owner, admin, nil)
		return bytes.Contains(body, []byte("Lanyard Bot Commands"))
	})

	// Restart on the same data directory: KV and token survive.
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m2 := startDemo(t, dataDir, 20)
	defer m2.Close()
	c2 := client{t, m2.URL()}
	eventually(t, "owner served after restart", func() bool {
		code, body := c2.do("GET", "/v1/users/@me", tok.Token, nil)
		return code == 200 && bytes.Contains(body, []byte(`"location":"Los Angeles"`))
	})

	// The stored token secret is the one generated at first start.
	if b, err := os.ReadFile(filepath.Join(dataDir, "token_secret")); err != nil || len(bytes.TrimSpace(b)) < 32 {
		t.Fatalf("token secret: %v", err)
	}
}

// assertTokensDumpHidesToken reads the whole tokens collection as a
// database dump would and checks the token appears in no form.
func assertTokensDumpHidesToken(t *testing.T, uri, token string) {
	t.Helper()
	ctx := context.Background()
	cl, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Disconnect(ctx)
	cur, err := cl.Database("halyard").Collection("tokens").Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var docs []bson.M
	if err := cur.All(ctx, &docs); err != nil || len(docs) == 0 {
		t.Fatalf("tokens dump: %d docs, %v", len(docs), err)
	}
	dump, _ := bson.MarshalExtJSON(bson.M{"docs": docs}, false, false)
	secretPart := strings.TrimPrefix(token, "lnyd_")
	raw, _ := hex.DecodeString(secretPart)
	for _, needle := range [][]byte{[]byte(token), []byte(secretPart), raw} {
		if bytes.Contains(dump, needle) {
			t.Fatalf("tokens dump contains the token: %s", dump)
		}
	}
	for _, d := range docs {
		if bin, ok := d["hash"].(bson.Binary); ok && bytes.Contains(bin.Data, raw) {
			t.Fatal("hash holds the token bytes")
		}
	}
}

func assertJSONEqual(t *testing.T, what string, want, got json.RawMessage) {
	t.Helper()
	var w, g any
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("%s: bad expected JSON %s", what, want)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: bad JSON %s", what, got)
	}
	wb, _ := json.Marshal(w)
	gb, _ := json.Marshal(g)
	if !bytes.Equal(wb, gb) {
		t.Fatalf("%s differs:\nwant %s\ngot  %s", what, wb, gb)
	}
}

func orEmptyArray(b json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(b)) == 0 || string(b) == "null" {
		return json.RawMessage("[]")
	}
	return b
}

func TestBadConfiguration(t *testing.T) {
	dir := t.TempDir()
	badToml := filepath.Join(dir, "bad.toml")
	os.WriteFile(badToml, []byte("port = [unclosed\n"), 0o600)
	unknownToml := filepath.Join(dir, "unknown.toml")
	os.WriteFile(unknownToml, []byte("prot = 4001\n"), 0o600)

	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantCode int
		wantLine string
	}{
		{"no token", nil, map[string]string{}, 2, "BOT_TOKEN is not set"},
		{"unparseable config", []string{"--config", badToml, "--demo"}, map[string]string{}, 2, "config file"},
		{"unknown setting", []string{"--config", unknownToml, "--demo"}, map[string]string{}, 2, `unknown setting "prot"`},
		{"missing config file", []string{"--config", filepath.Join(dir, "nope.toml"), "--demo"}, map[string]string{}, 2, "config file"},
		{"bad port", []string{"--demo"}, map[string]string{"PORT": "99999"}, 2, "PORT must be"},
		{"bad port type", []string{"--demo"}, map[string]string{"PORT": "abc"}, 2, "environment"},
		{"bad guild ids", []string{"--demo"}, map[string]string{"GUILD_IDS": "12,abc"}, 2, "GUILD_IDS"},
		{"short secret", []string{"--demo"}, map[string]string{"TOKEN_SECRET": "short"}, 2, "TOKEN_SECRET"},
		{"bad mongodb uri", []string{"--demo", "--addr", "127.0.0.1:0", "--data-dir", dir}, map[string]string{"MONGODB_URI": "notmongo://x"}, 1, "halyard: "},
		// A MongoDB that does not answer is no longer a bad configuration:
		// Halyard starts without it (TestStoreUnreachableAtStart).
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, tt.env, &stdout, &stderr)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr %q", code, tt.wantCode, stderr.String())
			}
			lines := strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n")
			errLines := slices.DeleteFunc(lines, func(l string) bool { return !strings.HasPrefix(l, "halyard: ") })
			if len(errLines) != 1 || !strings.Contains(errLines[0], tt.wantLine) {
				t.Fatalf("want one error line containing %q, got %q", tt.wantLine, stderr.String())
			}
			if strings.Contains(stderr.String(), "goroutine ") || strings.Contains(stderr.String(), "panic") {
				t.Fatalf("stack trace printed: %s", stderr.String())
			}
		})
	}
}
