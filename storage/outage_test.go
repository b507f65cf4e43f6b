package storage

import (
	"sync"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
)

// TestOutageAndRecovery stops the embedded server under a live store: writes
// fail within the operation timeout, and succeed again with the same *Store
// once the server is back on the same socket and files.
func TestOutageAndRecovery(t *testing.T) {
	const opTimeout = time.Second
	s := openTemp(t, Config{OpTimeout: opTimeout})
	ctx := t.Context()
	if err := s.SaveKV(ctx, "u", core.KVOf("before", "1")); err != nil {
		t.Fatal(err)
	}

	if !s.StopEmbedded() {
		t.Fatal("StopEmbedded: the store reports no embedded database")
	}

	start := time.Now()
	err := s.SaveKV(ctx, "u", core.KVOf("during", "1"))
	took := time.Since(start)
	t.Logf("write during the outage: %v after %v", err, took.Round(time.Millisecond))
	if err == nil {
		t.Fatal("write succeeded with the database down")
	}
	if code := core.ErrorCode(err); code != core.EINTERNAL {
		t.Errorf("error code %s: an outage must reach core as a plain error (shown as EUNAVAILABLE)", code)
	}
	if took > opTimeout+time.Second {
		t.Errorf("write took %v to fail, want at most the %v operation timeout", took, opTimeout)
	}
	// Every other operation fails too, each within the timeout.
	var wg sync.WaitGroup
	for name, op := range map[string]func() error{
		"Ping":            func() error { return s.Ping(ctx) },
		"ProbeWrite":      func() error { return s.ProbeWrite(ctx) },
		"LoadKV":          func() error { return s.LoadKV(ctx, func(string, core.KV) error { return nil }) },
		"SaveTokenHash":   func() error { return s.SaveTokenHash(ctx, "u", make([]byte, core.TokenHashSize)) },
		"DeleteTokenHash": func() error { return s.DeleteTokenHash(ctx, "u") },
		"SaveUsers":       func() error { return s.SaveUsers(ctx, []core.UserRecord{{ID: "u"}}) },
	} {
		wg.Go(func() {
			start := time.Now()
			if err := op(); err == nil {
				t.Errorf("%s succeeded with the database down", name)
			}
			if took := time.Since(start); took > opTimeout+time.Second {
				t.Errorf("%s took %v to fail", name, took)
			}
		})
	}
	wg.Wait()

	if err := s.StartEmbedded(); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	for {
		err := s.SaveKV(ctx, "u", core.KVOf("after", "1"))
		if err == nil {
			break
		}
		if time.Since(start) > 15*time.Second {
			t.Fatalf("no recovery after %v: %v", time.Since(start), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("recovered after %v", time.Since(start).Round(time.Millisecond))
	if got := loadKV(t, s)["u"]; !got.Equal(core.KVOf("after", "1")) {
		t.Errorf("after recovery: %q", got)
	}
}

// TestOutageHooksNeedEmbedded opens a second store on the first one's
// server as an external MongoDB: it has no embedded server to stop or
// start, and says so without touching the first one's.
func TestOutageHooksNeedEmbedded(t *testing.T) {
	owner := openTemp(t, Config{})
	ext, err := Open(t.Context(), Config{URI: owner.embedded.uri(), Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer ext.Close()
	if ext.StopEmbedded() {
		t.Error("StopEmbedded on an external MongoDB reported a stop")
	}
	if err := ext.StartEmbedded(); err == nil {
		t.Error("StartEmbedded on an external MongoDB succeeded")
	}
	if err := ext.SaveKV(t.Context(), "u", core.KVOf("still", "up")); err != nil {
		t.Errorf("the server behind the external store stopped: %v", err)
	}
	if err := owner.StartEmbedded(); err == nil {
		t.Error("StartEmbedded on a running server succeeded")
	}
}
