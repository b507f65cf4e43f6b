package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBackupCommandLine: bad arguments exit 2 with the reason, a node
// that cannot be reached or refuses the token exits 1, and no file is left
// behind by a failed backup.
func TestBackupCommandLine(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "b.jsonl.gz")
	withToken := map[string]string{"ADMIN_TOKEN": "x"}
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		code     int
		contains string
	}{
		{"backup without --out", []string{"backup", "--url", "http://127.0.0.1:1"}, withToken, 2, "usage: halyard backup"},
		{"backup without --url", []string{"backup", "--out", out}, withToken, 2, "--url is required"},
		{"backup with a bad URL", []string{"backup", "--url", "ftp://x", "--out", out}, withToken, 2, "not an http(s) URL"},
		{"backup without ADMIN_TOKEN", []string{"backup", "--url", "http://127.0.0.1:1", "--out", out}, nil, 2, "ADMIN_TOKEN is not set"},
		{"backup of an unreachable node", []string{"backup", "--url", "http://127.0.0.1:1", "--out", out}, withToken, 1, "cannot reach the node"},
		{"restore without a file", []string{"restore", "--url", "http://127.0.0.1:1"}, withToken, 2, "usage: halyard restore"},
		{"restore of two files", []string{"restore", "--url", "http://127.0.0.1:1", "a", "b"}, withToken, 2, "usage: halyard restore"},
		{"restore of a missing file", []string{"restore", "--url", "http://127.0.0.1:1", filepath.Join(dir, "none")}, withToken, 1, "no such file"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(tt.args, tt.env, &stdout, &stderr)
		if code != tt.code || !strings.Contains(stderr.String(), tt.contains) {
			t.Errorf("%s: exit %d, stderr %q (want %d containing %q)", tt.name, code, stderr.String(), tt.code, tt.contains)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a failed backup left %v", entries)
	}
}

// TestBackupCommandRefusals: a wrong admin token, and a restore onto a
// node with another token secret, exit 1 with the node's reason; the
// latter restores the rest with --skip-tokens.
func TestBackupCommandRefusals(t *testing.T) {
	a := startBackupDemo(t, t.TempDir(), 5)
	c := client{t, a.URL()}
	id := a.Sim.MemberIDs(a.Sim.GuildIDs()[0])[0]
	eventually(t, "user monitored", func() bool { return a.Hub.IsMonitored(id) })
	tok := issueToken(c, id)
	if code, b := c.do("PUT", "/v1/users/"+id+"/kv/k", tok, []byte("v")); code != 204 {
		t.Fatalf("PUT: %d %s", code, b)
	}
	file := filepath.Join(t.TempDir(), "b.jsonl.gz")

	var stdout, stderr bytes.Buffer
	if code := run([]string{"backup", "--url", c.base, "--out", file}, map[string]string{"ADMIN_TOKEN": "wrong"}, &stdout, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "401: a valid admin bearer token is required") {
		t.Fatalf("wrong admin token: %d %q", code, stderr.String())
	}
	if code, out, errs := runCLI(t, "backup", "--url", c.base+"/", "--out", file); code != 0 {
		t.Fatalf("backup: %d %q %q", code, out, errs)
	}

	// A restore the node stops half way (the backed-up token now belongs
	// to another user) says what it did before; users are whole.
	other := a.Sim.MemberIDs(a.Sim.GuildIDs()[0])[1]
	if code, b := c.do("DELETE", "/api/v1/users/"+id+"/storage", "Bearer "+tok, nil); code != 200 {
		t.Fatalf("clear: %d %s", code, b)
	}
	if code, _ := c.do("DELETE", "/admin/v1/users/"+id+"/token", e2eAdmin, nil); code != 204 {
		t.Fatal("revoke failed")
	}
	if err := a.Tokens.Import(context.Background(), other, tok); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "restore", "--url", c.base, file)
	if code != 1 || !strings.Contains(out, "stopped early") || !strings.Contains(out, "KV: 1 users changed") ||
		!strings.Contains(errs, "already belongs to another user") {
		t.Fatalf("restore stopped by the node: %d %q %q", code, out, errs)
	}
	if kv := a.Hub.KV(id); kv.Value("k") != "v" || kv.Len() != 1 {
		t.Fatalf("KV after a stopped restore: %v", kv)
	}

	// Another node, another secret (generated in its data directory).
	b := startDemo(t, t.TempDir(), 5)
	defer b.Close()
	code, out, errs = runCLI(t, "restore", "--url", b.URL(), file)
	if code != 1 || !strings.Contains(errs, "409") || !strings.Contains(errs, "TOKEN_SECRET") {
		t.Fatalf("restore onto another secret: %d %q %q", code, out, errs)
	}
	if b.Hub.HasKV(id) {
		t.Fatal("a refused restore wrote KV")
	}
	code, out, errs = runCLI(t, "restore", "--skip-tokens", "--url", b.URL(), file)
	if code != 0 || !strings.Contains(out, "1 skipped") || !b.Hub.HasKV(id) {
		t.Fatalf("--skip-tokens: %d %q %q", code, out, errs)
	}
}
