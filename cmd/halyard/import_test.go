package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/halyardhq/halyard/internal/redistest"
)

// `halyard import lanyard-redis` end to end: a real redis-server seeded as
// Lanyard leaves it, the command run as an operator would, then the server
// started on the same data directory serving the imported KV and keys.

func runImportCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(append([]string{"import"}, args...), map[string]string{}, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestImportLanyardRedisEndToEnd(t *testing.T) {
	addr := redistest.Start(t)
	dataDir := t.TempDir()

	// The members' ids come from the (deterministic) simulator. While the
	// server holds the embedded database the import refuses to run.
	m := startDemo(t, dataDir, 10)
	ids := m.Sim.MemberIDs(m.Sim.GuildIDs()[0])
	code, _, stderr := runImportCmd(t, "lanyard-redis", "--redis", addr, "--data-dir", dataDir)
	if code != 1 || !strings.Contains(stderr, "stop Halyard before importing") || !strings.Contains(stderr, "already using") {
		t.Fatalf("import next to a running server: exit %d, %s", code, stderr)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	const current, legacy = "lnyd_5e1f0a2b3c4d5e6f708192a3b4c5d6e7", "fedcba9876543210fedcba9876543210"
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	ctx := context.Background()
	for _, err := range []error{
		rdb.HSet(ctx, "lanyard_kv:"+ids[0], "location", "Berlin", "song", "@everyone `x`").Err(),
		rdb.Set(ctx, "user_api_key:"+ids[0], current, 0).Err(),
		rdb.Set(ctx, "api_key:"+current, ids[0], 0).Err(),
		rdb.Set(ctx, "user_api_key:"+ids[1], legacy, 0).Err(),
		rdb.Set(ctx, "api_key:"+legacy, ids[1], 0).Err(),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}

	code, stdout, stderr := runImportCmd(t, "lanyard-redis", "--redis", "redis://"+addr+"/0", "--data-dir", dataDir, "--dry-run")
	if code != 0 || !strings.HasPrefix(stdout, "dry run, nothing written: would import: KV of 1 of 1 users (2 pairs written") {
		t.Fatalf("dry run: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = runImportCmd(t, "lanyard-redis", "--redis", addr, "--data-dir", dataDir)
	want := "imported: KV of 1 of 1 users (2 pairs written, 0 unchanged), 2 API keys (0 replacing a Halyard key, 0 unchanged); skipped: nothing\n"
	if code != 0 || stdout != want {
		t.Fatalf("import: exit %d\n%s%s", code, stdout, stderr)
	}
	// stderr is no terminal here: progress comes as log lines.
	if !strings.Contains(stderr, "import: 5/5 Redis keys read (100%)") {
		t.Fatalf("progress lines: %q", stderr)
	}
	code, stdout, _ = runImportCmd(t, "lanyard-redis", "--redis", addr, "--data-dir", dataDir)
	if code != 0 || !strings.HasPrefix(stdout, "imported: KV of 0 of 1 users (0 pairs written, 2 unchanged), 0 API keys (0 replacing a Halyard key, 2 unchanged)") {
		t.Fatalf("second import: exit %d %s", code, stdout)
	}

	// The server serves the imported KV, and both key formats work.
	m = startDemo(t, dataDir, 10)
	defer m.Close()
	c := client{t, m.URL()}
	eventually(t, "imported KV served", func() bool {
		code, body := c.do("GET", "/v1/users/@me", current, nil)
		var resp struct {
			Data struct{ KV map[string]string } `json:"data"`
		}
		return code == 200 && json.Unmarshal(body, &resp) == nil && resp.Data.KV["location"] == "Berlin" &&
			resp.Data.KV["song"] == "@everyone `x`"
	})
	if code, body := c.do("GET", "/v1/users/@me", legacy, nil); code != 200 || !bytes.Contains(body, []byte(ids[1])) {
		t.Fatalf("legacy key: %d %s", code, body)
	}
	if code, _ := c.do("PUT", "/v1/users/"+ids[0]+"/kv/after", current, []byte("import")); code != 204 {
		t.Fatalf("KV write with the imported key: %d", code)
	}
}

func TestImportCommandLine(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no source", nil, 2, "usage: halyard import lanyard-redis"},
		{"unknown source", []string{"lanyard-postgres"}, 2, "usage: halyard import lanyard-redis"},
		{"no redis", []string{"lanyard-redis", "--data-dir", t.TempDir()}, 2, "--redis is required"},
		{"bad url", []string{"lanyard-redis", "--redis", "http://x", "--data-dir", t.TempDir()}, 2, "--redis: "},
		{"extra argument", []string{"lanyard-redis", "--redis", "x:1", "now"}, 2, `unexpected argument "now"`},
		{"unreachable redis", []string{"lanyard-redis", "--redis", "127.0.0.1:1", "--data-dir", t.TempDir()}, 1, "cannot reach Redis"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runImportCmd(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, want %d; stderr %q", code, tt.code, stderr)
			}
		})
	}
}
