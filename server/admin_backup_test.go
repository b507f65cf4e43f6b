package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/halyardhq/halyard/backup"
	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/internal/memstore"
)

// backupNode is a hub, its token service and store behind a real server.
type backupNode struct {
	hub    *core.Hub
	tokens *core.Tokens
	store  *memstore.Store
	base   string
}

// startBackupNode serves a hub over store whose members are ids.
func startBackupNode(t *testing.T, secret string, ids []string) *backupNode {
	t.Helper()
	store := memstore.New()
	hub := core.NewHub(core.HubOptions{Store: store})
	if err := hub.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hub.Close() })
	for _, id := range ids {
		hub.UpsertMember("g", core.Member{User: core.DiscordUser{ID: id, Username: "u" + id, Raw: json.RawMessage(`{}`)}})
	}
	tokens, err := core.NewTokens([]byte(secret), store)
	if err != nil {
		t.Fatal(err)
	}
	base := startServer(t, Options{Hub: hub, Tokens: tokens, AdminToken: "adm"})
	return &backupNode{hub: hub, tokens: tokens, store: store, base: base}
}

var adminAuth = map[string]string{"Authorization": "Bearer adm"}

// download fetches a backup.
func (n *backupNode) download(t *testing.T) []byte {
	t.Helper()
	resp, body := do(t, "GET", n.base+backupPath, adminAuth, nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/gzip" {
		t.Fatalf("backup: %d %s %.200s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	return []byte(body)
}

// restore posts a backup and decodes the summary of a 200.
func (n *backupNode) restore(t *testing.T, file []byte, query string) (int, backup.Summary, string) {
	t.Helper()
	resp, body := do(t, "POST", n.base+restorePath+query, adminAuth, bytes.NewReader(file))
	var sum backup.Summary
	if resp.StatusCode == 200 {
		if err := json.Unmarshal([]byte(body), &sum); err != nil {
			t.Fatalf("summary %s: %v", body, err)
		}
	}
	return resp.StatusCode, sum, body
}

// TestBackupRestoreThousands: a node with thousands of users' KV, tokens
// and records is backed up and restored into an empty node over real
// HTTP; the empty node then serves the same KV, verifies the same tokens
// and holds the same records; a second restore and a dry run write
// nothing.
func TestBackupRestoreThousands(t *testing.T) {
	const users = 3000
	secret := strings.Repeat("s", 32)
	ids := make([]string, users)
	for i := range ids {
		ids[i] = fmt.Sprint(100000000000000000 + i*7919)
	}
	ctx := context.Background()
	src := startBackupNode(t, secret, ids)
	toks := map[string]string{}
	for i, id := range ids {
		kv := core.KVOf("zeta", id, "alpha", "ünïcødé "+strings.Repeat("✓", i%50), "", "empty key")
		if _, err := src.hub.RestoreKV(ctx, id, kv, false); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			tok, err := src.tokens.Issue(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			toks[id] = tok
		}
	}
	// A user who left: KV and a record, no longer monitored.
	if _, err := src.hub.RestoreKV(ctx, "42", core.KVOf("left", "yes"), false); err != nil {
		t.Fatal(err)
	}
	if _, err := src.hub.RestoreRecords(ctx, []core.UserRecord{{ID: "42", Username: "gone", LastSeen: time.Unix(1700000000, 0)}}, false); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	file := src.download(t)
	t.Logf("backup of %d users: %d bytes compressed in %v", users, len(file), time.Since(start))
	r, err := backup.NewReader(bytes.NewReader(file), 0)
	if err != nil {
		t.Fatal(err)
	}
	want := backup.Counts{KVUsers: users + 1, KVPairs: 3*users + 1, Tokens: len(toks), Users: users + 1}
	if got := r.Header().Counts; got != want || r.Header().TokenKeyCheck != src.tokens.KeyCheck() {
		t.Fatalf("header counts %+v, want %+v", got, want)
	}

	// A dry run into an empty node reports everything and writes nothing.
	dst := startBackupNode(t, secret, ids)
	code, sum, body := dst.restore(t, file, "?dry_run=true")
	if code != 200 || !sum.DryRun || sum.KV.Changed != users+1 || sum.Tokens.Changed != len(toks) || sum.Users.Changed != users+1 {
		t.Fatalf("dry run: %d %s", code, body)
	}
	if dst.hub.HasKV(ids[0]) || dst.store.KV(ids[0]).Len() != 0 || dst.tokens.HasToken(ids[0]) {
		t.Fatal("the dry run wrote")
	}

	start = time.Now()
	code, sum, body = dst.restore(t, file, "")
	if code != 200 || sum.KV.Changed != users+1 || sum.KVPairs != 3*users+1 || sum.Tokens.Changed != len(toks) {
		t.Fatalf("restore: %d %s", code, body)
	}
	t.Logf("restore of %d users in %v", users, time.Since(start))
	for _, id := range append(ids, "42") {
		if want := src.hub.KV(id); !dst.hub.KV(id).Equal(want) || !dst.store.KV(id).Equal(want) {
			t.Fatalf("user %s: KV %v (stored %v), want %v", id, dst.hub.KV(id), dst.store.KV(id), want)
		}
		if u, ok := dst.hub.Get(id); ok && !u.KV.Equal(src.hub.KV(id)) {
			t.Fatalf("user %s: served snapshot KV %v", id, u.KV)
		}
	}
	for id, tok := range toks {
		if owner, err := dst.tokens.Verify(tok); err != nil || owner != id {
			t.Fatalf("token of %s: %q %v", id, owner, err)
		}
	}
	if r, ok := dst.store.Record("42"); !ok || r.Username != "gone" || !r.LastSeen.Equal(time.Unix(1700000000, 0)) {
		t.Fatalf("record of a user who left: %+v %v", r, ok)
	}

	code, sum, body = dst.restore(t, file, "")
	if code != 200 || sum.KV.Changed != 0 || sum.Tokens.Changed != 0 || sum.Users.Changed != 0 ||
		sum.KV.Unchanged != users+1 || sum.Users.Unchanged != users+1 {
		t.Fatalf("second restore changed something: %s", body)
	}
}

// TestRestoreRefusals: a bad file, another secret's tokens, a bad query
// or a store not loaded yet are refused with a clear 4xx/503 and leave
// nothing half-written.
func TestRestoreRefusals(t *testing.T) {
	ctx := context.Background()
	ids := []string{"10", "20", "30"}
	src := startBackupNode(t, strings.Repeat("s", 32), ids)
	for _, id := range ids {
		if _, err := src.hub.RestoreKV(ctx, id, core.KVOf("k", id), false); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := src.tokens.Issue(ctx, "10"); err != nil {
		t.Fatal(err)
	}
	file := src.download(t)

	other := startBackupNode(t, strings.Repeat("o", 32), ids)
	code, _, body := other.restore(t, file, "")
	if code != 409 || !strings.Contains(body, "TOKEN_SECRET") || other.hub.HasKV("10") {
		t.Fatalf("another secret: %d %s", code, body)
	}
	code, sum, body := other.restore(t, file, "?skip_tokens=true")
	if code != 200 || sum.Tokens.Skipped != 1 || sum.KV.Changed != 3 || other.tokens.HasToken("10") {
		t.Fatalf("skip_tokens: %d %s", code, body)
	}

	dst := startBackupNode(t, strings.Repeat("s", 32), ids)
	tests := []struct {
		name, query string
		file        []byte
		status      int
		contains    string
	}{
		{"truncated", "", file[:len(file)-10], 400, "bad backup"},
		{"not gzip", "", []byte(`{"halyard_backup":1}`), 400, "not gzip"},
		{"bad query", "?dry_run=maybe", file, 400, "dry_run must be true or false"},
	}
	for _, tt := range tests {
		code, _, body := dst.restore(t, tt.file, tt.query)
		if code != tt.status || !strings.Contains(body, tt.contains) {
			t.Errorf("%s: %d %s (want %d containing %q)", tt.name, code, body, tt.status, tt.contains)
		}
	}
	// The truncated file ends inside the user records: the KV maps and
	// the token before them were whole, so they went in, each whole.
	for _, id := range ids {
		if kv := dst.hub.KV(id); kv.Len() != 0 && !kv.Equal(src.hub.KV(id)) {
			t.Errorf("user %s half restored: %v", id, kv)
		}
	}

	resp, body2 := do(t, "POST", dst.base+restorePath, nil, bytes.NewReader(file))
	if resp.StatusCode != 401 {
		t.Errorf("no admin token: %d %s", resp.StatusCode, body2)
	}

	dst.tokens.Defer()
	for _, req := range []struct{ method, path string }{{"GET", backupPath}, {"POST", restorePath}} {
		resp, body := do(t, req.method, dst.base+req.path, adminAuth, bytes.NewReader(file))
		if resp.StatusCode != 503 || !strings.Contains(body, "not been loaded") {
			t.Errorf("%s before the store loaded: %d %s", req.path, resp.StatusCode, body)
		}
	}
}

// TestRestoreBodyCap: the restore route takes bodies over the server-wide
// 1 MiB cap (one user's KV may be 61 MB) and still has a cap of its own.
func TestRestoreBodyCap(t *testing.T) {
	n := startBackupNode(t, strings.Repeat("s", 32), []string{"10"})
	// Random letters: the compressed body stays over 1 MiB.
	rnd := rand.New(rand.NewPCG(1, 2))
	big := core.KV{}
	for i := range 80 {
		v := make([]byte, core.MaxKVValueLength)
		for j := range v {
			v[j] = byte('a' + rnd.IntN(26))
		}
		big.Set(fmt.Sprint("k", i), string(v))
	}
	var file bytes.Buffer
	w, _ := backup.NewWriter(&file, backup.NewHeader("test", time.Now(), "", backup.Counts{KVUsers: 1, KVPairs: big.Len()}))
	if err := w.KV(core.UserKV{UserID: "10", KV: big}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if file.Len() <= core.MaxRequestBodySize {
		t.Fatalf("the body is %d bytes, not over the server-wide cap", file.Len())
	}
	code, sum, body := n.restore(t, file.Bytes(), "")
	if code != 200 || sum.KV.Changed != 1 || !n.hub.KV("10").Equal(big) {
		t.Fatalf("a 2.4 MB map: %d %.300s", code, body)
	}

	req, _ := http.NewRequest("POST", n.base+restorePath, io.LimitReader(zeros{}, maxRestoreBody+1))
	req.ContentLength = maxRestoreBody + 1
	req.Header.Set("Authorization", "Bearer adm")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Fatalf("over the restore cap: %d", resp.StatusCode)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestBackupWhileWriting: backups taken while KV and tokens are written
// are each whole and consistent (their lines match their header's counts).
func TestBackupWhileWriting(t *testing.T) {
	ctx := context.Background()
	ids := make([]string, 500)
	for i := range ids {
		ids[i] = fmt.Sprint(1000 + i)
	}
	n := startBackupNode(t, strings.Repeat("s", 32), ids)
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			id := ids[i%len(ids)]
			if err := n.hub.PutKV(ctx, id, fmt.Sprint("k", i%7), fmt.Sprint(i)); err != nil {
				done <- err
				return
			}
			if i%5 == 0 {
				if _, err := n.tokens.Issue(ctx, id); err != nil {
					done <- err
					return
				}
			}
		}
	}()
	for range 5 {
		r, err := backup.NewReader(bytes.NewReader(n.download(t)), 0)
		if err != nil {
			t.Fatal(err)
		}
		for {
			if _, err := r.Next(); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("a backup taken during writes: %v", err)
			}
		}
	}
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
