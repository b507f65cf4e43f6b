package storage

import (
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/halyardhq/halyard/core"
)

// TestOpenRemovesStaleSocket starts on a data dir whose socket file was
// left behind by a crashed process.
func TestOpenRemovesStaleSocket(t *testing.T) {
	dir := t.TempDir()
	l, err := net.Listen("unix", filepath.Join(dir, "ferretdb.sock"))
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()

	s := openTemp(t, Config{DataDir: dir})
	if err := s.SaveKV(t.Context(), "u", core.KVOf("a", "b")); err != nil {
		t.Fatal(err)
	}
}

// TestOpenRefusesDataDirInUse checks that a second store never takes over
// the socket (and SQLite files) of a running one.
func TestOpenRefusesDataDirInUse(t *testing.T) {
	dir := t.TempDir()
	openTemp(t, Config{DataDir: dir})
	s, err := Open(t.Context(), Config{DataDir: dir, Logger: testLogger()})
	if err == nil {
		s.Close()
		t.Fatal("a second Open on the same data dir succeeded")
	}
	if !strings.Contains(err.Error(), "already using") {
		t.Errorf("error %q", err)
	}
}
