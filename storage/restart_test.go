package storage

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
)

// restartRecords returns n user records with ids unique to the test.
func restartRecords(t *testing.T, n int, username string) []core.UserRecord {
	base := time.UnixMilli(1_700_000_000_000).UTC()
	recs := make([]core.UserRecord, n)
	for i := range recs {
		recs[i] = core.UserRecord{ID: uid(t, i), Username: username, MonitoringSince: base, LastSeen: base.Add(time.Duration(i) * time.Second)}
	}
	return recs
}

// TestRewriteRecordsAfterRestart is issue 12: Halyard restarted on a data
// dir holding more than a hundred members' records rewrote them all at
// once (a sync marks every record), and FerretDB v1's update command
// keeps each statement's query open until the whole command ends, so a
// batch of 100 replaces of existing documents took every connection of its
// SQLite pool and waited forever for one more. Fresh data dirs (upserts
// that match nothing) and small guilds never showed it. Here, with the
// production batch size and the production operation timeout, on the
// embedded server and on a FerretDB reached by URI (as a MONGODB_URI
// pointing at FerretDB would be): write the records, write them again
// (all exist now), reopen the store and write them again while KV and
// token writers run alongside — every write must succeed.
func TestRewriteRecordsAfterRestart(t *testing.T) {
	t.Run("embedded", func(t *testing.T) {
		dir := t.TempDir()
		rewriteAfterRestart(t, func() *Store { return openTemp(t, Config{DataDir: dir}) })
	})
	t.Run("FerretDB by URI", func(t *testing.T) {
		ext := openTemp(t, Config{})
		rewriteAfterRestart(t, func() *Store {
			s := openTemp(t, Config{URI: ext.URI()})
			if s.Embedded() || s.usersBatch != ferretWriteBatch {
				t.Fatalf("a FerretDB by URI: embedded %v, write batch %d, want %d", s.Embedded(), s.usersBatch, ferretWriteBatch)
			}
			return s
		})
	})
}

// rewriteAfterRestart is TestRewriteRecordsAfterRestart on the stores
// open returns, each time on the same database.
func rewriteAfterRestart(t *testing.T, open func() *Store) {
	const members = 1000
	s := open()
	if err := s.SaveUsers(t.Context(), restartRecords(t, members, "first")); err != nil {
		t.Fatalf("first save: %v", err)
	}
	if err := s.SaveUsers(t.Context(), restartRecords(t, members, "second")); err != nil {
		t.Fatalf("rewriting existing records: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open()
	if got := loadUsers(t, s); len(got) != members {
		t.Fatalf("after reopening: %d records, want %d", len(got), members)
	}
	// Every kind of writer at once, as after a restart: the hub's record
	// flush (twice, as two flushes can overlap a slow one), KV writes and
	// token writes.
	ctx := t.Context()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 2 {
		wg.Go(func() {
			if err := s.SaveUsers(ctx, restartRecords(t, members, fmt.Sprint("third", w))); err != nil {
				errs <- fmt.Errorf("record flush %d: %w", w, err)
			}
		})
	}
	for w := range 8 {
		wg.Go(func() {
			for i := range 10 {
				id := uid(t, w*10+i)
				if err := s.SaveKV(ctx, id, core.KVOf("k", fmt.Sprint(i))); err != nil {
					errs <- fmt.Errorf("KV write: %w", err)
					return
				}
				hash := sha256.Sum256([]byte(id))
				if err := s.SaveTokenHash(ctx, id, hash[:]); err != nil {
					errs <- fmt.Errorf("token write: %w", err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := loadKV(t, s); len(got) != 80 {
		t.Errorf("%d KV maps stored, want 80", len(got))
	}
	// The write probe /readyz relies on answers at once.
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := s.ProbeWrite(pctx); err != nil {
		t.Errorf("probe after the writes: %v", err)
	}
}
