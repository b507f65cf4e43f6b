package history

import (
	"context"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
)

// TestBackupAndRestore: a backup's history (intervals open at it closed
// then) restored into a node with its own store: refused for a user whose
// history is not on, counted without a write in a dry run, added once and
// stored, held on the second restore, skipped beyond the retention.
func TestBackupAndRestore(t *testing.T) {
	const id = "5"
	a := newRig(t)
	a.presence(0, id, core.StatusOnline)
	if err := a.rec.Enable(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	a.presence(time.Hour, id, core.StatusIdle)
	a.presence(2*time.Hour, id, core.StatusOnline, core.Activity{Name: "Factorio", Type: 0})
	a.tick(3 * time.Hour) // splits the open intervals: still one each in the backup
	a.clock.Set(a.t0.Add(3*time.Hour + 30*time.Minute))
	users, ivs, err := a.rec.BackupHistory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 1 || users[0] != id || len(ivs) != 4 {
		t.Fatalf("backup: users %v, intervals %+v", users, ivs)
	}
	const want = "online@0s-1h0m0s idle@1h0m0s-2h0m0s online@2h0m0s-3h30m0s Factorio@2h0m0s-3h30m0s"
	// The new node, half an hour after the backup; the user is not present
	// on it, so its timeline holds only what the restore brings.
	b := newRig(t)
	b.clock.Set(a.t0.Add(4 * time.Hour))
	// An interval past the retention is skipped.
	old := core.HistoryInterval{UserID: id, Status: core.StatusDND, Start: a.t0.Add(-40 * 24 * time.Hour), End: a.t0.Add(-39 * 24 * time.Hour)}
	batch := append([]core.HistoryInterval{old}, ivs...)
	batch = append(batch, ivs[0]) // a line given twice counts once

	if _, _, _, err := b.rec.RestoreHistory(t.Context(), batch, false); core.ErrorCode(err) != core.EINVALID {
		t.Fatalf("history of a user whose history is not on: %v", err)
	}
	if changed, err := b.rec.RestoreUser(t.Context(), id, true); err != nil || !changed || b.rec.Enabled(id) {
		t.Fatalf("dry run RestoreUser: %v %v, enabled %v", changed, err, b.rec.Enabled(id))
	}
	if added, held, skipped, err := b.rec.RestoreHistory(t.Context(), batch, true); err != nil || added != 4 || held != 1 || skipped != 1 {
		t.Fatalf("dry run: added %d held %d skipped %d, %v", added, held, skipped, err)
	}
	if n := stored(t, b, id); n != 0 {
		t.Fatalf("the dry run stored %d intervals", n)
	}

	if changed, err := b.rec.RestoreUser(t.Context(), id, false); err != nil || !changed || !b.rec.Enabled(id) {
		t.Fatalf("RestoreUser: %v %v", changed, err)
	}
	if added, held, skipped, err := b.rec.RestoreHistory(t.Context(), batch, false); err != nil || added != 4 || held != 1 || skipped != 1 {
		t.Fatalf("restore: added %d held %d skipped %d, %v", added, held, skipped, err)
	}
	b.expect("restored", id, want)
	if n := stored(t, b, id); n != 4 {
		t.Fatalf("%d intervals stored, want 4", n)
	}
	if changed, err := b.rec.RestoreUser(t.Context(), id, false); err != nil || changed {
		t.Fatalf("second RestoreUser: %v %v", changed, err)
	}
	if added, held, skipped, err := b.rec.RestoreHistory(t.Context(), batch, false); err != nil || added != 0 || held != 5 || skipped != 1 {
		t.Fatalf("second restore: added %d held %d skipped %d, %v", added, held, skipped, err)
	}
	b.expect("restored twice", id, want)

	// A node that restarts on the restored store loads them back, and
	// holds them: a restore then adds nothing.
	c := New(Options{Hub: b.hub, Store: b.store, Now: b.clock.Now, Retention: 30 * 24 * time.Hour})
	if err := c.open(t.Context()); err != nil {
		t.Fatal(err)
	}
	if added, held, _, err := c.RestoreHistory(t.Context(), ivs, false); err != nil || added != 0 || held != 4 {
		t.Fatalf("restore after a restart: added %d held %d, %v", added, held, err)
	}
}

// stored counts the user's intervals in the rig's store.
func stored(t *testing.T, r *rig, id string) int {
	t.Helper()
	ivs, err := r.store.History(context.Background(), id, time.Unix(0, 0), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return len(ivs)
}
