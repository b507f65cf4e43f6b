package history

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
)

// Two recorders on one hub and one store stand for two nodes of a cluster
// that apply the same changes: one writes (Options.Writes says which),
// both answer the same timeline, a handover cuts the open intervals
// without writing any stretch twice, and opt-in changes made on one reach
// the other through ApplyChange (or ReloadUsers when one was missed).
func TestClusterOneWriterAndHandover(t *testing.T) {
	r := newRig(t) // node a
	var writer atomic.Value
	writer.Store("a")
	r.rec.opts.Writes = func(*core.User) bool { return writer.Load() == "a" }
	b := New(Options{Hub: r.hub, Store: r.store, Now: r.clock.Now, Retention: r.rec.opts.Retention,
		Writes: func(*core.User) bool { return writer.Load() == "b" }})
	if err := b.open(t.Context()); err != nil {
		t.Fatal(err)
	}
	var announced []string
	r.rec.SetAnnouncer(func(id, change string) {
		announced = append(announced, change)
		b.ApplyChange(id, change) // the bus, in order
	})
	b.SetAnnouncer(func(id, change string) {
		announced = append(announced, change)
		r.rec.ApplyChange(id, change)
	})
	both := func() { r.rec.applyEvents(); b.applyEvents() }
	const id = "300"
	r.presence(0, id, core.StatusOnline)
	both()
	if err := r.rec.Enable(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if !b.Enabled(id) {
		t.Fatal("node b did not apply the opt-in")
	}
	game := core.Activity{Name: "Factorio", Type: 0}
	r.presence(time.Hour, id, core.StatusOnline, game)
	both()
	r.presence(2*time.Hour, id, core.StatusDND)
	both()

	same := func(what, want string) {
		t.Helper()
		r.expect(what+" (node a)", id, want)
		rb := *r
		rb.rec = b
		rb.expect(what+" (node b)", id, want)
	}
	same("recorded on both", "online@0s-2h0m0s dnd@2h0m0s-… Factorio@1h0m0s-2h0m0s")
	flushBoth := func() {
		t.Helper()
		if err := r.rec.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := b.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	flushBoth()
	if w := b.Stats().Written; w != 0 {
		t.Fatalf("node b (not the writer) wrote %d intervals", w)
	}

	// The lease moves to b at 3h: a writes dnd up to 3h, b from 3h.
	r.clock.Set(r.t0.Add(3 * time.Hour))
	writer.Store("b")
	r.rec.Handover()
	b.Handover()
	r.presence(4*time.Hour, id, core.StatusIdle, game)
	both()
	flushBoth()
	same("after the handover", "online@0s-2h0m0s dnd@2h0m0s-4h0m0s idle@4h0m0s-… Factorio@1h0m0s-2h0m0s Factorio@4h0m0s-…")
	stored, err := r.store.History(t.Context(), id, r.t0.Add(-time.Hour), r.t0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, iv := range stored {
		name := string(iv.Status) + iv.Activity.Name
		got = append(got, fmt.Sprintf("%s@%s-%s", name, iv.Start.Sub(r.t0), iv.End.Sub(r.t0)))
	}
	// Each stretch once: dnd in two pieces that meet at the handover.
	if want := "online@0s-2h0m0s Factorio@1h0m0s-2h0m0s dnd@2h0m0s-3h0m0s dnd@3h0m0s-4h0m0s"; strings.Join(got, " ") != want {
		t.Fatalf("stored:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	if a, bw := r.rec.Stats().Written, b.Stats().Written; a != 3 || bw != 1 {
		t.Fatalf("written by a %d (want 3), by b %d (want 1)", a, bw)
	}

	// A clear on b empties a's memory too; b's writes start again now.
	if _, err := b.Clear(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	same("cleared", "idle@4h0m0s-… Factorio@4h0m0s-…")
	flushBoth()
	if n, _ := r.store.History(t.Context(), id, r.t0.Add(-time.Hour), r.t0.Add(24*time.Hour)); len(n) != 0 {
		t.Fatalf("stored after the clear: %v", n)
	}

	// Off on a: b stops too; a's answer is history_disabled, b's as well.
	if err := r.rec.Disable(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if b.Enabled(id) {
		t.Fatal("node b still records after off on node a")
	}
	if want := "on clear off"; strings.Join(announced, " ") != want {
		t.Fatalf("announced %q, want %q", strings.Join(announced, " "), want)
	}

	// An announcement b missed: its reload follows the stored opt-in.
	r.rec.SetAnnouncer(nil)
	if err := r.rec.Enable(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if b.Enabled(id) {
		t.Fatal("node b applied an announcement that was never sent")
	}
	if err := b.ReloadUsers(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !b.Enabled(id) {
		t.Fatal("node b's reload did not follow the stored opt-in")
	}
}
