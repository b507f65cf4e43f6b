package storage

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
)

// shared is one embedded server for the tests that need no server of their
// own; they keep apart by using user ids prefixed with their test name.
var shared *Store

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "halyard-storage-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	shared, err = Open(context.Background(), Config{DataDir: dir, Logger: testLogger()})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if err := shared.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "closing the shared store:", err)
		code = 1
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// testLogger discards logs unless HALYARD_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("HALYARD_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// openTemp opens a store with its own embedded server in a fresh data dir
// and closes it when the test ends.
func openTemp(t *testing.T, cfg Config) *Store {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	cfg.Logger = testLogger()
	s, err := Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// uid returns a user id unique to the test.
func uid(t *testing.T, n int) string {
	return fmt.Sprintf("%s/%d", strings.ReplaceAll(t.Name(), "/", "_"), n)
}

// loadKV returns every stored KV map by user.
func loadKV(t *testing.T, s *Store) map[string]core.KV {
	t.Helper()
	out := map[string]core.KV{}
	err := s.LoadKV(t.Context(), func(userID string, kv core.KV) error {
		if _, dup := out[userID]; dup {
			t.Errorf("LoadKV: user %q twice", userID)
		}
		out[userID] = kv
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// loadTokens returns every stored token hash by user.
func loadTokens(t *testing.T, s *Store) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	if err := s.LoadTokenHashes(t.Context(), func(userID string, hash []byte) error {
		out[userID] = hash
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// loadUsers returns every stored user record by id.
func loadUsers(t *testing.T, s *Store) map[string]core.UserRecord {
	t.Helper()
	out := map[string]core.UserRecord{}
	if err := s.LoadUsers(t.Context(), func(r core.UserRecord) error {
		out[r.ID] = r
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestOpenEmbedded(t *testing.T) {
	if !shared.Embedded() {
		t.Error("Embedded() = false for a store without a URI")
	}
	if u := shared.URI(); !strings.HasPrefix(u, "mongodb://") || !strings.HasSuffix(u, ".sock/") {
		t.Errorf("URI() = %q, want a unix socket URI", u)
	}
	if err := shared.Ping(t.Context()); err != nil {
		t.Error(err)
	}
}

func TestOpenLongDataDirUsesTCP(t *testing.T) {
	dir := t.TempDir() + "/" + strings.Repeat("d", 100)
	s := openTemp(t, Config{DataDir: dir})
	if !strings.HasPrefix(s.URI(), "mongodb://127.0.0.1:") {
		t.Fatalf("URI() = %q, want loopback TCP", s.URI())
	}
	if err := s.SaveKV(t.Context(), "u", core.KVOf("a", "b")); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRequiresDataDir(t *testing.T) {
	_, err := Open(t.Context(), Config{Logger: testLogger()})
	if err == nil || !strings.Contains(err.Error(), "data dir") {
		t.Fatalf("Open without URI and data dir: %v", err)
	}
}

func TestOpenFailsClearly(t *testing.T) {
	const secret = "s3cr%2Fet"
	tests := []struct {
		name, uri, want string
	}{
		{"unparseable", "mongodb://halyard:" + secret + "@[::1/?w=x", "storage: invalid MongoDB URI"},
		{"bad option", "mongodb://halyard:" + secret + "@127.0.0.1/?connectTimeoutMS=soon", "storage: invalid MongoDB URI"},
		{"bad scheme", "postgres://halyard:" + secret + "@127.0.0.1/", "storage: invalid MongoDB URI"},
		{"unreachable", "mongodb://halyard:" + secret + "@127.0.0.1:1/", "storage: cannot reach MongoDB at mongodb://halyard:xxxxx@127.0.0.1:1/: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			s, err := Open(t.Context(), Config{URI: tt.uri, ConnectTimeout: time.Second, Logger: testLogger()})
			took := time.Since(start)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			msg := err.Error()
			t.Logf("%s (%v)", msg, took.Round(time.Millisecond))
			if !strings.HasPrefix(msg, tt.want) {
				t.Errorf("error %q, want prefix %q", msg, tt.want)
			}
			if strings.Contains(msg, "s3cr") {
				t.Errorf("error shows the password: %q", msg)
			}
			if strings.ContainsAny(msg, "\r\n") {
				t.Errorf("error spans lines: %q", msg)
			}
			if took > 3*time.Second {
				t.Errorf("Open took %v with a 1 s connect timeout", took)
			}
		})
	}
}

func TestRedactURI(t *testing.T) {
	tests := []struct{ in, want string }{
		{"mongodb://u:p@h:27017/db?tls=true", "mongodb://u:xxxxx@h:27017/db?tls=true"},
		{"mongodb+srv://u:p%40ss@cluster.example.net/", "mongodb+srv://u:xxxxx@cluster.example.net/"},
		{"mongodb://u@h/", "mongodb://u@h/"},
		{"mongodb://%2Ftmp%2Fx.sock/", "mongodb://%2Ftmp%2Fx.sock/"},
		{"mongodb://u:p@[::1/", "mongodb://u:xxxxx@[::1/"},
		{"mongodb://u:pa/ss@w@h/", "mongodb://u:xxxxx@h/"},
		{"u:p@h", "<unparseable URI>"},
	}
	for _, tt := range tests {
		if got := redactURI(tt.in); got != tt.want {
			t.Errorf("redactURI(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestRestart checks that everything survives Close and Open again on the
// same data dir.
func TestRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	s, err := Open(ctx, Config{DataDir: dir, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	kv := core.KVOf("", "empty key", "a", "ünïcödé 🚀")
	hash := make([]byte, core.TokenHashSize)
	hash[0] = 7
	rec := core.UserRecord{ID: "u1", Username: "ada", MonitoringSince: time.UnixMilli(1_700_000_000_123).UTC(), GitHubLogin: "ada"}
	if err := s.SaveKV(ctx, "u1", kv); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveTokenHash(ctx, "u1", hash); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveUsers(ctx, []core.UserRecord{rec}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	s = openTemp(t, Config{DataDir: dir})
	if got := loadKV(t, s); len(got) != 1 || !got["u1"].Equal(kv) {
		t.Errorf("KV after restart = %q, want u1: %q", got, kv)
	}
	if got := loadTokens(t, s); len(got) != 1 || string(got["u1"]) != string(hash) {
		t.Errorf("tokens after restart = %x", got)
	}
	if got := loadUsers(t, s); len(got) != 1 || !sameRecord(got["u1"], rec) {
		t.Errorf("users after restart = %+v, want %+v", got, rec)
	}
}

func sameRecord(a, b core.UserRecord) bool {
	return a.ID == b.ID && a.Username == b.Username && a.GitHubLogin == b.GitHubLogin &&
		a.MonitoringSince.Equal(b.MonitoringSince) && a.LastSeen.Equal(b.LastSeen)
}
