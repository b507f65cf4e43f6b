package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/storage"
)

// TestStoreUnreachableAtStart gives Halyard a MongoDB URI where nothing
// listens yet (issue 7: "a MongoDB URI that points nowhere"). Halyard
// starts anyway and serves presence; every dialect answers KV writes with
// its 503 error, and so does the admin API; once the database appears,
// Halyard loads what it holds (a KV map and a token stored beforehand) and
// writes go through, all without a restart.
func TestStoreUnreachableAtStart(t *testing.T) {
	t.Parallel()
	const secret = "0123456789abcdef0123456789abcdef-unreachable"
	// The database exists and the test can reach it; Halyard's URI points
	// at an address where nothing listens until the forwarder starts.
	ext, err := storage.Open(t.Context(), storage.Config{DataDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer ext.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	var logs lockedBuffer
	m := NewMain()
	m.Stdout, m.Stderr = io.Discard, &logs
	args := []string{"--demo", "--demo-users", "8", "--demo-churn", "0",
		"--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--log-level", "warn"}
	env := map[string]string{"ADMIN_TOKEN": "test-admin-token", "TOKEN_SECRET": secret,
		"MONGODB_URI": "mongodb://" + addr + "/?serverSelectionTimeoutMS=1000&connectTimeoutMS=1000"}
	if err := m.ParseFlags(args, env); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := m.Run(ctx); err != nil {
		m.Close()
		t.Fatalf("Halyard did not start without its database: %v", err)
	}
	defer m.Close()
	if m.Store != nil {
		t.Fatal("a store was opened although nothing listens at the URI")
	}

	c := client{t, m.URL()}
	ids := m.Sim.MemberIDs(m.Sim.GuildIDs()[0])
	user, other := ids[0], ids[1]
	eventually(t, "members monitored", func() bool { return m.Hub.IsMonitored(user) && m.Hub.IsMonitored(other) })

	// What the database holds before Halyard reaches it: a map and a token.
	if err := ext.SaveKV(t.Context(), user, core.KVOf("before", "1")); err != nil {
		t.Fatal(err)
	}
	stored, err := core.NewTokens([]byte(secret), ext)
	if err != nil {
		t.Fatal(err)
	}
	token, err := stored.Issue(t.Context(), user)
	if err != nil {
		t.Fatal(err)
	}

	// Unreachable: presence served, writes refused with each dialect's 503.
	if code, b := c.do("GET", "/v1/users/"+user, "", nil); code != http.StatusOK {
		t.Fatalf("Lanyard presence without the database: %d %s", code, b)
	}
	if code, b := c.do("GET", "/api/v1/users/"+user, "", nil); code != http.StatusOK {
		t.Fatalf("Lantern presence without the database: %d %s", code, b)
	}
	if code, b := c.do("GET", "/user/"+user, "", nil); code != http.StatusOK {
		t.Fatalf("harmy presence without the database: %d %s", code, b)
	}
	if code, _ := c.do("GET", "/readyz", "", nil); code != http.StatusServiceUnavailable {
		t.Errorf("readyz %d without the database, want 503", code)
	}
	code, b := c.do("PUT", "/v1/users/"+user+"/kv/during", token, []byte("x"))
	checkLanyard503(t, code, b)
	// An unknown key is refused as unavailable too: no key can be told wrong.
	code, b = c.do("PUT", "/v1/users/"+other+"/kv/during", "lnyd_00000000000000000000000000000000", []byte("x"))
	checkLanyard503(t, code, b)
	code, b = c.doJSON("PUT", "/api/v1/users/"+user+"/storage/during", "Bearer "+token, `{"value":"x"}`)
	checkLantern503(t, code, b)
	if code, b := c.do("GET", "/user/"+user, token, nil); code != http.StatusServiceUnavailable {
		t.Errorf("harmy KV read with a token without the database: %d %s, want 503", code, b)
	}
	if code, b := c.do("POST", "/admin/v1/users/"+other+"/token", e2eAdmin, nil); code != http.StatusServiceUnavailable {
		t.Errorf("admin token issue without the database: %d %s, want 503", code, b)
	}
	if got := logs.String(); !strings.Contains(got, "starting without the database") {
		t.Errorf("the log should say Halyard started without its database: %q", got)
	}

	// The database appears at the URI's address.
	stop := forwardTo(t, addr, ext.URI())
	defer stop()
	defer func() {
		if t.Failed() {
			t.Logf("logs:\n%s", logs.String())
		}
	}()
	eventually(t, "readyz 200 once the database is reachable", func() bool {
		code, _ := c.do("GET", "/readyz", "", nil)
		return code == http.StatusOK
	})
	if got := m.Hub.KV(user).Value("before"); got != "1" {
		t.Errorf("the stored KV map was not loaded: before=%q", got)
	}
	if code, b := c.do("PUT", "/v1/users/"+user+"/kv/after", token, []byte("2")); code != http.StatusNoContent {
		t.Fatalf("Lanyard PUT with the stored token once reached: %d %s", code, b)
	}
	final := map[string]core.KV{}
	if err := ext.LoadKV(t.Context(), func(id string, kv core.KV) error { final[id] = kv; return nil }); err != nil {
		t.Fatal(err)
	}
	if kv := final[user]; kv.Value("before") != "1" || kv.Value("after") != "2" || kv.Value("during") != "" {
		t.Errorf("database holds %v for the user, want before=1 and after=2 only", kv)
	}
	if code, b := c.do("POST", "/admin/v1/users/"+other+"/token", e2eAdmin, nil); code != http.StatusOK {
		t.Errorf("admin token issue once reached: %d %s", code, b)
	}
}

// forwardTo listens on addr and forwards every connection to the embedded
// database at uri (a unix socket, or loopback TCP): the database appearing
// at the address Halyard was given.
func forwardTo(t *testing.T, addr, uri string) (stop func()) {
	t.Helper()
	host := strings.TrimSuffix(strings.TrimPrefix(uri, "mongodb://"), "/")
	network, target := "tcp", host
	if strings.Contains(host, "sock") {
		p, err := url.PathUnescape(host)
		if err != nil {
			t.Fatal(err)
		}
		network, target = "unix", p
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listening on %s: %v", addr, err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial(network, target)
			if err != nil {
				in.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, in, out)
			mu.Unlock()
			go func() { _, _ = io.Copy(out, in); out.Close() }()
			go func() { _, _ = io.Copy(in, out); in.Close() }()
		}
	}()
	return func() {
		l.Close()
		wg.Wait()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	}
}
