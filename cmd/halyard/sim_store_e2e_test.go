package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/halyardhq/halyard/discord/discordsim"
)

// subcommand is the signature of runSim and runStore.
type subcommand func(ctx context.Context, args []string, environ map[string]string, stdout, stderr io.Writer) int

// startSubcommand runs a halyard subcommand in-process until the test
// ends and returns the first n lines it prints on stdout. At cleanup it
// stops the command, which must exit 0 having printed nothing more.
func startSubcommand(t *testing.T, cmd subcommand, args []string, env map[string]string, n int) []string {
	t.Helper()
	pr, pw := io.Pipe()
	var stderr syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		rc := cmd(ctx, args, env, pw, &stderr)
		pw.Close()
		done <- rc
	}()
	out := bufio.NewReader(pr)
	lines := make(chan string)
	go func() {
		defer close(lines)
		for range n {
			line, err := out.ReadString('\n')
			if err != nil {
				return
			}
			lines <- strings.TrimSuffix(line, "\n")
		}
	}()
	var got []string
	timeout := time.After(time.Minute)
	for len(got) < n {
		select {
		case l, ok := <-lines:
			if !ok {
				cancel()
				t.Fatalf("%v printed %q, then exited %d: %s", args, got, <-done, stderr.String())
			}
			got = append(got, l)
		case <-timeout:
			cancel()
			t.Fatalf("%v printed %q in a minute: %s", args, got, stderr.String())
		}
	}
	t.Cleanup(func() {
		cancel()
		rest, _ := io.ReadAll(out)
		if rc := <-done; rc != 0 {
			t.Errorf("%v exited %d: %s", args, rc, stderr.String())
		}
		if len(rest) > 0 {
			t.Errorf("%v printed more on stdout: %q", args, rest)
		}
	})
	return got
}

// syncBuffer is a bytes.Buffer safe for one writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// settings reads KEY=value lines.
func settings(t *testing.T, lines []string, keys ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for i, l := range lines {
		k, v, ok := strings.Cut(l, "=")
		if !ok || i >= len(keys) || k != keys[i] || v == "" {
			t.Fatalf("line %d %q: want %s=…", i+1, l, keys[i])
		}
		out[k] = v
	}
	return out
}

// startNode runs the production wiring (no --demo) with env on a loopback
// port and its own data directory; the test closes it.
func startNode(t *testing.T, env map[string]string) *Main {
	t.Helper()
	m := NewMain()
	m.Stdout, m.Stderr = io.Discard, io.Discard
	full := map[string]string{"ADMIN_TOKEN": "test-admin-token"}
	maps.Copy(full, env)
	if err := m.ParseFlags([]string{"--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--log-level", "warn"}, full); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := m.Run(ctx); err != nil {
		m.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// lanyardUser is GET /v1/users/:id's data, in part.
type lanyardUser struct {
	DiscordUser struct {
		Username string `json:"username"`
	} `json:"discord_user"`
	DiscordStatus string            `json:"discord_status"`
	KV            map[string]string `json:"kv"`
}

// getUser reads a user from a node's Lanyard REST; ok is false on a non-200.
func getUser(c client, id string) (u lanyardUser, ok bool) {
	c.t.Helper()
	code, body := c.do("GET", "/v1/users/"+id, "", nil)
	var resp struct {
		Data lanyardUser `json:"data"`
	}
	if code != http.StatusOK || json.Unmarshal(body, &resp) != nil {
		return u, false
	}
	return resp.Data, true
}

func readyz(c client) bool {
	code, _ := c.do("GET", "/readyz", "", nil)
	return code == http.StatusOK
}

// TestShardedNodeEndToEnd: a node with SHARD_COUNT=2 (auto is
// discord's TestBotShardsServeEveryShardAndCloseOne) opens both shards,
// within the simulator's max_concurrency, and serves over REST the
// members of guilds on each shard, with their presences.
func TestShardedNodeEndToEnd(t *testing.T) {
	sim, err := discordsim.New(discordsim.Config{Members: 20, Guilds: 4, Seed: 11, Shards: 2, MaxConcurrency: 2,
		EnforceMaxConcurrency: true, HeartbeatInterval: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	byShard := map[int][]string{}
	for _, g := range sim.GuildIDs() {
		byShard[discordsim.GuildShard(g, 2)] = append(byShard[discordsim.GuildShard(g, 2)], g)
	}
	if len(byShard[0]) == 0 || len(byShard[1]) == 0 {
		t.Fatalf("seed 11 no longer spreads the guilds over 2 shards: %v", byShard)
	}
	m := startNode(t, map[string]string{"BOT_TOKEN": sim.Token(), "DISCORD_API_URL": sim.RESTURL(),
		"DISCORD_GATEWAY_URL": sim.GatewayURL(), "SHARD_COUNT": "2"})
	if m.Bot.ShardCount() != 2 || len(m.Bot.OpenShards()) != 2 {
		t.Fatalf("shards %d, open %v", m.Bot.ShardCount(), m.Bot.OpenShards())
	}
	c := client{t, m.URL()}
	eventually(t, "/readyz 200", func() bool { return readyz(c) })
	// One new user per shard, each in one guild of that shard only.
	for shard, guilds := range byShard {
		id := fmt.Sprintf("13000000000000090%02d", shard)
		name := fmt.Sprintf("shard%d", shard)
		if err := sim.AddMember(guilds[0], json.RawMessage(`{"user":{"id":"`+id+`","username":"`+name+`","discriminator":"0","avatar":null}}`)); err != nil {
			t.Fatal(err)
		}
		if err := sim.UpdatePresence(json.RawMessage(`{"user":{"id":"` + id + `"},"status":"idle","activities":[]}`)); err != nil {
			t.Fatal(err)
		}
		eventually(t, name+"'s presence over REST", func() bool {
			u, ok := getUser(c, id)
			return ok && u.DiscordUser.Username == name && u.DiscordStatus == "idle"
		})
	}
	if st := sim.Stats(); st.IdentifiesTooFast != 0 {
		t.Errorf("the node broke max_concurrency: %+v", st)
	}
}

// TestSimCommandEndToEnd: `halyard sim` prints exactly the two settings a
// node needs; a node pointed at it syncs, and the demo admin routes on the
// simulator's address drive it (guarded by ADMIN_TOKEN).
func TestSimCommandEndToEnd(t *testing.T) {
	lines := startSubcommand(t, runSim, []string{"--addr", "127.0.0.1:0", "--users", "15", "--churn", "0", "--heartbeat", "5s"},
		map[string]string{"ADMIN_TOKEN": "sim-admin"}, 2)
	env := settings(t, lines, "DISCORD_API_URL", "DISCORD_GATEWAY_URL")
	if !strings.HasPrefix(env["DISCORD_API_URL"], "http://127.0.0.1:") || !strings.HasPrefix(env["DISCORD_GATEWAY_URL"], "ws://127.0.0.1:") {
		t.Fatalf("settings %v", env)
	}
	env["BOT_TOKEN"] = "sim-token"
	m := startNode(t, env)
	c := client{t, m.URL()}
	eventually(t, "/readyz 200", func() bool { return readyz(c) })
	sim := client{t, env["DISCORD_API_URL"]}
	admin := "Bearer sim-admin"

	// The simulator's REST answers as Discord's; the demo routes want the token.
	if code, body := sim.do("GET", "/api/v10/gateway/bot", "Bot sim-token", nil); code != 200 || !bytes.Contains(body, []byte(`"max_concurrency":1`)) {
		t.Fatalf("GET /gateway/bot: %d %s", code, body)
	}
	for _, auth := range []string{"", "Bearer wrong", "Bearer "} {
		if code, _ := sim.do("POST", "/admin/v1/demo/presence", auth, []byte(`{}`)); code != http.StatusUnauthorized {
			t.Errorf("presence with %q: %d, want 401", auth, code)
		}
	}
	if code, _ := sim.do("POST", "/admin/v1/demo/presence", admin, []byte(`[1]`)); code != http.StatusBadRequest {
		t.Errorf("presence with a bad body: %d, want 400", code)
	}
	if code, _ := sim.do("GET", "/admin/v1/nope", admin, nil); code != http.StatusNotFound {
		t.Errorf("unknown admin route: %d, want 404", code)
	}

	// A member added and a presence pushed through the simulator reach the node.
	user := "1300000000000009999"
	if code, body := sim.do("POST", "/admin/v1/demo/members", admin,
		[]byte(`{"user":{"id":"`+user+`","username":"simmed","discriminator":"0","avatar":null}}`)); code != http.StatusAccepted {
		t.Fatalf("add member: %d %s", code, body)
	}
	if code, body := sim.do("POST", "/admin/v1/demo/presence", admin,
		[]byte(`{"user":{"id":"`+user+`"},"status":"dnd","activities":[]}`)); code != http.StatusAccepted {
		t.Fatalf("presence: %d %s", code, body)
	}
	eventually(t, "the pushed presence over REST", func() bool {
		u, ok := getUser(c, user)
		return ok && u.DiscordUser.Username == "simmed" && u.DiscordStatus == "dnd"
	})
	// A DM command is answered by the node, read back from the simulator.
	if code, _ := sim.do("POST", "/admin/v1/demo/messages", admin, []byte(`{"user_id":"`+user+`","content":".help"}`)); code != http.StatusAccepted {
		t.Fatalf("demo message: %d", code)
	}
	eventually(t, ".help reply", func() bool {
		_, body := sim.do("GET", "/admin/v1/demo/messages?user_id="+user, admin, nil)
		return bytes.Contains(body, []byte("Lanyard Bot Commands"))
	})
	if code, _ := sim.do("DELETE", "/admin/v1/demo/members/"+user, admin, nil); code != http.StatusAccepted {
		t.Fatalf("remove member: %d", code)
	}
	eventually(t, "the removed member gone", func() bool { _, ok := getUser(c, user); return !ok })
}

// TestSimCommandBadFlags: bad settings exit 2 with a message and print nothing.
func TestSimCommandBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--users", "-1"}, {"--guilds", "0"}, {"--shards", "0"}, {"--max-concurrency", "0"},
		{"--heartbeat", "0s"}, {"--churn", "-1s"}, {"--log-level", "loud"}, {"extra"}, {"--nope"},
	} {
		var stdout, stderr bytes.Buffer
		if rc := runSim(context.Background(), append([]string{"--addr", "127.0.0.1:0"}, args...), nil, &stdout, &stderr); rc != 2 || stdout.Len() != 0 || stderr.Len() == 0 {
			t.Errorf("sim %v: exit %d, stdout %q, stderr %q", args, rc, stdout.String(), stderr.String())
		}
	}
	for _, args := range [][]string{{"--addr", "127.0.0.1:0"}, {"--data-dir", t.TempDir(), "--log-level", "x"}, {"--data-dir", t.TempDir(), "extra"}} {
		var stdout, stderr bytes.Buffer
		if rc := runStore(context.Background(), args, nil, &stdout, &stderr); rc != 2 || stdout.Len() != 0 || stderr.Len() == 0 {
			t.Errorf("store %v: exit %d, stdout %q, stderr %q", args, rc, stdout.String(), stderr.String())
		}
	}
}

// TestStoreCommandSharedByNodes: two nodes on one `halyard store` both
// serve and write; a node started later on the same store reads what
// both wrote, and a token issued on one works on it.
func TestStoreCommandSharedByNodes(t *testing.T) {
	lines := startSubcommand(t, runStore, []string{"--addr", "127.0.0.1:0", "--data-dir", t.TempDir()}, nil, 1)
	uri := settings(t, lines, "MONGODB_URI")["MONGODB_URI"]
	if !strings.HasPrefix(uri, "mongodb://127.0.0.1:") {
		t.Fatalf("MONGODB_URI %q", uri)
	}
	env := map[string]string{"MONGODB_URI": uri, "TOKEN_SECRET": strings.Repeat("s", 32)}
	nodes := [2]*Main{startDemoIn(t, t.TempDir(), 10, env), startDemoIn(t, t.TempDir(), 10, env)}
	for _, m := range nodes {
		t.Cleanup(func() { m.Close() })
	}
	// Both demo simulators have the same seed, so the same members.
	ids := nodes[0].Sim.MemberIDs(nodes[0].Sim.GuildIDs()[0])
	tokens := map[string]string{}
	for i, m := range nodes {
		c := client{t, m.URL()}
		eventually(t, fmt.Sprintf("node %d /readyz 200", i+1), func() bool { return readyz(c) })
		user := ids[i]
		tokens[user] = issueToken(c, user)
		if code, body := c.do("PUT", "/v1/users/"+user+"/kv/from", tokens[user], []byte(fmt.Sprintf("node%d", i+1))); code != http.StatusNoContent {
			t.Fatalf("node %d KV write: %d %s", i+1, code, body)
		}
	}
	third := startDemoIn(t, t.TempDir(), 10, env)
	t.Cleanup(func() { third.Close() })
	c := client{t, third.URL()}
	// Its members load from its simulator after start: read once synced.
	eventually(t, "the third node's /readyz 200", func() bool { return readyz(c) })
	for i, user := range ids[:2] {
		u, ok := getUser(c, user)
		if want := fmt.Sprintf("node%d", i+1); !ok || u.KV["from"] != want {
			t.Fatalf("user %s on a third node: %+v (ok %v), want kv from=%s", user, u, ok, want)
		}
		if code, body := c.do("PUT", "/v1/users/"+user+"/kv/again", tokens[user], []byte("x")); code != http.StatusNoContent {
			t.Fatalf("token of node %d on a third node: %d %s", i+1, code, body)
		}
	}
}
