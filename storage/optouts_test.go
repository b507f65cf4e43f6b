package storage

import (
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
)

func loadOptOuts(t *testing.T, s *Store) map[string]time.Time {
	t.Helper()
	out := map[string]time.Time{}
	if err := s.LoadOptOuts(t.Context(), func(id string, since time.Time) error {
		out[id] = since
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestOptOuts: saved opt-outs load with their time (to the millisecond),
// saving again is an upsert, deleting one leaves the others, deleting an
// absent one succeeds, and deleting the user's record (a purge) keeps the
// opt-out.
func TestOptOuts(t *testing.T) {
	ctx := t.Context()
	a, b := uid(t, 31), uid(t, 32)
	at := time.Date(2026, 12, 7, 12, 0, 0, 123_456_789, time.UTC)
	for _, id := range []string{a, b} {
		if err := shared.SaveOptOut(ctx, id, at); err != nil {
			t.Fatal(err)
		}
	}
	if err := shared.SaveOptOut(ctx, a, at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := shared.SaveUsers(ctx, []core.UserRecord{{ID: a, Username: "a", MonitoringSince: at}}); err != nil {
		t.Fatal(err)
	}
	if err := shared.DeleteUser(ctx, a); err != nil {
		t.Fatal(err)
	}
	got := loadOptOuts(t, shared)
	if !got[a].Equal(at.Add(time.Hour).Truncate(time.Millisecond)) || !got[b].Equal(at.Truncate(time.Millisecond)) {
		t.Errorf("loaded %v", got)
	}
	if err := shared.DeleteOptOut(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := shared.DeleteOptOut(ctx, b); err != nil {
		t.Errorf("deleting an absent opt-out: %v", err)
	}
	got = loadOptOuts(t, shared)
	if _, ok := got[b]; ok {
		t.Errorf("deleted opt-out still loads")
	}
	if _, ok := got[a]; !ok {
		t.Errorf("the neighbour's opt-out went too")
	}
	if err := shared.DeleteOptOut(ctx, a); err != nil {
		t.Fatal(err)
	}
}

// TestOptOutsSurviveRestart: an opt-out written to an embedded data dir
// loads after the store is closed and opened again.
func TestOptOutsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(t.Context(), Config{DataDir: dir, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	id := uid(t, 33)
	if err := s.SaveOptOut(t.Context(), id, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTemp(t, Config{DataDir: dir})
	if got := loadOptOuts(t, s); len(got) != 1 || got[id].IsZero() {
		t.Errorf("after the restart: %v", got)
	}
}
