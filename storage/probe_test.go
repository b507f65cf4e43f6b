package storage

import (
	"context"
	"database/sql"
	"net/url"
	"path/filepath"
	"testing"
	"time"
)

// TestProbeWriteSeesABlockedWriter holds the embedded database's write
// lock from a second connection, as a jammed or stuck writer would: the
// server still answers pings, and the write probe behind /readyz must not
// vouch for it. Once the lock is gone the probe passes again.
func TestProbeWriteSeesABlockedWriter(t *testing.T) {
	dir := t.TempDir()
	s := openTemp(t, Config{DataDir: dir, OpTimeout: 2 * time.Second})
	if err := s.ProbeWrite(t.Context()); err != nil {
		t.Fatalf("probe on a healthy store: %v", err)
	}

	file := filepath.Join(dir, "db", DefaultDatabase+".sqlite")
	db, err := sql.Open("sqlite", (&url.URL{Scheme: "file", Opaque: file}).String())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(probeFresh) // the healthy probe no longer vouches

	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("ping with the write lock held elsewhere: %v (the server still answers)", err)
	}
	if err := s.ProbeWrite(ctx); err == nil {
		t.Fatal("write probe passed while no write could commit")
	}

	if _, err := conn.ExecContext(t.Context(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if err := s.ProbeWrite(t.Context()); err != nil {
		t.Errorf("probe once the lock is released: %v", err)
	}
}
