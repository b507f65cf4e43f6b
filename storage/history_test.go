package storage

import (
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
)

// The history collection on the embedded store: intervals written in
// batches come back by user and window in start order, a user's history
// is deleted at once, prunes remove what ended before the cutoff, and
// opt-ins survive a restart.
func TestHistoryStore(t *testing.T) {
	dir := t.TempDir()
	s := openTemp(t, Config{DataDir: dir})
	ctx := t.Context()
	a, b := uid(t, 1), uid(t, 2)
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var ivs []core.HistoryInterval
	for i := range 1200 { // more than two insert batches
		start := t0.Add(time.Duration(i) * time.Minute)
		st := []core.Status{core.StatusOnline, core.StatusIdle, core.StatusDND}[i%3]
		ivs = append(ivs, core.HistoryInterval{UserID: a, Status: st, Start: start, End: start.Add(time.Minute)})
	}
	game := core.HistoryActivity{Name: "Factorio", Type: 0, ApplicationID: "1234"}
	ivs = append(ivs,
		core.HistoryInterval{UserID: a, Activity: game, Start: t0.Add(30 * time.Minute), End: t0.Add(90 * time.Minute)},
		core.HistoryInterval{UserID: b, Status: core.StatusOffline, Start: t0, End: t0.Add(time.Hour)})
	if err := s.AppendHistory(ctx, ivs); err != nil {
		t.Fatal(err)
	}

	got, err := s.History(ctx, a, t0.Add(59*time.Minute+30*time.Second), t0.Add(62*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	// Minutes 59, 60, 61 overlap the window, and the game (30–90).
	if len(got) != 4 {
		t.Fatalf("window holds %d intervals: %+v", len(got), got)
	}
	if got[0].Activity != game || !got[0].Start.Equal(t0.Add(30*time.Minute)) || !got[0].End.Equal(t0.Add(90*time.Minute)) {
		t.Fatalf("first interval (by start) is %+v, want the game", got[0])
	}
	for i, want := range []core.Status{core.StatusDND, core.StatusOnline, core.StatusIdle} { // minutes 59, 60, 61
		if got[i+1].Status != want || !got[i+1].Start.Equal(t0.Add(time.Duration(59+i)*time.Minute)) || got[i+1].UserID != a {
			t.Fatalf("interval %d = %+v, want %s at minute %d", i+1, got[i+1], want, 59+i)
		}
	}

	// Opt-ins are durable.
	if err := s.SetHistoryUser(ctx, a, true); err != nil {
		t.Fatal(err)
	}
	if err := s.SetHistoryUser(ctx, b, true); err != nil {
		t.Fatal(err)
	}
	if err := s.SetHistoryUser(ctx, b, false); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	n, err := s.DeleteHistory(ctx, a)
	if err != nil || n != 1201 {
		t.Fatalf("DeleteHistory = %d, %v; want 1201", n, err)
	}
	t.Logf("deleting 1201 intervals took %v", time.Since(start))
	if got, _ := s.History(ctx, a, t0.Add(-time.Hour), t0.Add(100*time.Hour)); len(got) != 0 {
		t.Fatalf("%d intervals left after DeleteHistory", len(got))
	}
	if got, _ := s.History(ctx, b, t0, t0.Add(time.Hour)); len(got) != 1 {
		t.Fatalf("the other user's history: %d intervals", len(got))
	}
	if n, err := s.PruneHistory(ctx, t0.Add(time.Hour+time.Second)); err != nil || n != 1 {
		t.Fatalf("PruneHistory = %d, %v", n, err)
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openTemp(t, Config{DataDir: dir})
	var users []string
	if err := s2.LoadHistoryUsers(ctx, func(id string) error { users = append(users, id); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(users) != 1 || users[0] != a {
		t.Fatalf("opt-ins after a restart: %v, want [%s]", users, a)
	}
}
