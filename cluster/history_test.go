package cluster

import (
	"context"
	"testing"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/history"
	"github.com/halyardhq/halyard/storage"
)

// TestHistoryOptInsAndWriter: two nodes with real presence history
// recorders on one embedded store. An opt-in made on the holder reaches
// the follower over the bus; only the holder writes the user's history;
// an opt-in change the follower missed (a gap in the announcements) is
// reloaded from the store; when the holder goes, the node that takes the
// shard writes.
func TestHistoryOptInsAndWriter(t *testing.T) {
	url := startNATS(t)
	st, err := storage.Open(t.Context(), storage.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	withHistory := func(rec **history.Recorder) func(*Node, *core.Hub) {
		return func(n *Node, hub *core.Hub) {
			*rec = history.New(history.Options{Hub: hub, Store: st, Writes: n.WritesHistoryOf})
			if err := (*rec).Open(context.Background()); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { (*rec).Close() })
			n.SetHistory(*rec)
		}
	}
	var recA, recB *history.Recorder
	a, hubA, shardsA := newNodeWith(t, url, "a", 1, nil, withHistory(&recA))
	a.Start()
	waitFor(t, "a to take the shard", func() bool { return shardsA.isOpen(0) })
	b, hubB, shardsB := newNodeWith(t, url, "b", 1, nil, withHistory(&recB))
	b.Start()
	waitFor(t, "b to see a as the holder", func() bool { return b.LeaseHolders()[0] == "a" })
	a.Tee().UpsertMember("g1", member("1", core.StatusOnline))
	waitFor(t, "b to have the member", func() bool { _, ok := hubB.Get("1"); return ok })

	if err := recA.Enable(t.Context(), "1"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b to follow the opt-in", func() bool { return recB.Enabled("1") })
	uA, _ := hubA.Get("1")
	uB, _ := hubB.Get("1")
	if !a.WritesHistoryOf(uA) || b.WritesHistoryOf(uB) {
		t.Fatalf("writers: a %v, b %v; want a only", a.WritesHistoryOf(uA), b.WritesHistoryOf(uB))
	}

	// b misses an announcement: user 2 turned on in the store only, and
	// b's count of a's announcements set back, so a's next one (user 1
	// off) is a gap and b reloads the opt-ins from the store.
	if err := st.SetHistoryUser(t.Context(), "2", true); err != nil {
		t.Fatal(err)
	}
	b.mu.Lock()
	b.kvStreams[a.stream] = 0
	b.mu.Unlock()
	if err := recA.Disable(t.Context(), "1"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b to reload the opt-ins after the gap", func() bool { return recB.Enabled("2") && !recB.Enabled("1") })

	// The holder goes: b takes the shard and writes from then on.
	a.Close()
	waitFor(t, "b to take the shard", func() bool { return shardsB.isOpen(0) })
	waitFor(t, "b to write the member's history", func() bool {
		u, ok := hubB.Get("1")
		return ok && b.WritesHistoryOf(u)
	})
}
