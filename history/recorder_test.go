package history

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/storage"
)

// The recorder against a real hub and the embedded store, driven by hand
// (no background loop) with a scripted clock.

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

type rig struct {
	t     *testing.T
	hub   *core.Hub
	store *storage.Store
	rec   *Recorder
	clock *clock
	t0    time.Time
}

func newRig(t *testing.T) *rig {
	t.Helper()
	st, err := storage.Open(t.Context(), storage.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	hub := core.NewHub(core.HubOptions{})
	if err := hub.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hub.Close() })
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	c := &clock{t: t0}
	rec := New(Options{Hub: hub, Store: st, Now: c.Now, Retention: 30 * 24 * time.Hour})
	if err := rec.open(t.Context()); err != nil {
		t.Fatal(err)
	}
	return &rig{t: t, hub: hub, store: st, rec: rec, clock: c, t0: t0}
}

// presence sets the user's presence at t0+at (joining them first) and lets
// the recorder take the event.
func (r *rig) presence(at time.Duration, id string, status core.Status, acts ...core.Activity) {
	r.t.Helper()
	r.clock.Set(r.t0.Add(at))
	p := &core.Presence{Status: status, Activities: acts}
	for i := range acts {
		acts[i].Raw = json.RawMessage(fmt.Sprintf(`{"name":%q,"type":%d}`, acts[i].Name, acts[i].Type))
	}
	if _, ok := r.hub.Get(id); !ok {
		r.hub.UpsertMember("1", core.Member{User: core.DiscordUser{ID: id, Raw: json.RawMessage(`{"id":"` + id + `"}`)}, Presence: p, SetPresence: true})
	} else {
		r.hub.UpdatePresence(id, p)
	}
	r.rec.applyEvents()
}

// tick runs the recorder's tick at t0+at.
func (r *rig) tick(at time.Duration) {
	r.clock.Set(r.t0.Add(at))
	r.rec.tick()
}

// timeline renders the whole recorded history compactly.
func (r *rig) timeline(id string) string {
	r.t.Helper()
	from, to := r.t0.Add(-time.Hour), r.t0.Add(24*time.Hour)
	tl, err := r.rec.Timeline(context.Background(), id, &from, &to)
	if err != nil {
		r.t.Fatal(err)
	}
	var parts []string
	for _, list := range [][]core.HistoryInterval{tl.Status, tl.Activities} {
		for _, iv := range list {
			name := string(iv.Status)
			if !iv.IsStatus() {
				name = iv.Activity.Name
			}
			end := "…"
			if !iv.End.IsZero() {
				end = iv.End.Sub(r.t0).String()
			}
			parts = append(parts, name+"@"+iv.Start.Sub(r.t0).String()+"-"+end)
		}
	}
	return strings.Join(parts, " ")
}

func (r *rig) expect(what, id, want string) {
	r.t.Helper()
	if got := r.timeline(id); got != want {
		r.t.Fatalf("%s:\n got %s\nwant %s", what, got, want)
	}
}

func TestRecorderFoldsBurstsAndSplits(t *testing.T) {
	r := newRig(t)
	const id = "100"
	r.presence(0, id, core.StatusOnline)
	if err := r.rec.Enable(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	r.expect("opted in", id, "online@0s-…")

	// Changes within the resolution of the last one wait for it, and then
	// take the presence as it is: the idle second is folded away.
	r.presence(time.Second, id, core.StatusIdle)
	r.presence(2*time.Second, id, core.StatusDND)
	r.tick(5 * time.Second)
	r.expect("within the resolution", id, "online@0s-…")
	r.tick(10 * time.Second)
	r.expect("resolution passed", id, "online@0s-10s dnd@10s-…")

	// A calm change is recorded when it happens; a custom status is no
	// activity, the same activity twice is one.
	game := core.Activity{Name: "Factorio", Type: 0}
	r.presence(time.Minute, id, core.StatusOnline, core.Activity{Name: "Custom Status", Type: 4, State: "hi"}, game, game)
	r.expect("calm change", id, "online@0s-10s dnd@10s-1m0s online@1m0s-… Factorio@1m0s-…")

	// An interval open for SplitAfter is written out and continued; read
	// back, it is still one interval.
	r.tick(time.Minute + DefaultSplitAfter)
	if err := r.rec.flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	stored, err := r.store.History(t.Context(), id, r.t0, r.t0.Add(time.Hour))
	if err != nil || len(stored) != 4 { // online, dnd, then online and Factorio up to the split
		t.Fatalf("stored after the split: %v %+v", err, stored)
	}
	r.expect("after the split", id, "online@0s-10s dnd@10s-1m0s online@1m0s-… Factorio@1m0s-…")

	// Leaving every watched guild ends the open intervals.
	r.clock.Set(r.t0.Add(20 * time.Minute))
	r.hub.RemoveMember("1", id)
	r.rec.applyEvents()
	r.expect("left", id, "online@0s-10s dnd@10s-1m0s online@1m0s-20m0s Factorio@1m0s-20m0s")

	// A user who has not opted in is not recorded, and the timeline says so.
	r.presence(21*time.Minute, "200", core.StatusOnline)
	if _, err := r.rec.Timeline(t.Context(), "200", nil, nil); core.ErrorCode(err) != core.EHISTORYDISABLED {
		t.Fatalf("Timeline of a user without history: %v", err)
	}
	if err := r.rec.Disable(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if r.rec.Enabled(id) {
		t.Fatal("still enabled after Disable")
	}

	// Turned on again, the history recorded before is read back from the
	// store (in the background; the timeline waits for it).
	if err := r.rec.flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := r.rec.Enable(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	r.expect("on again", id, "online@0s-10s dnd@10s-1m0s online@1m0s-20m0s Factorio@1m0s-20m0s")
}

// finish's clipping and totals, table-driven over one set of intervals.
func TestFinishClipsAndTotals(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	h := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Hour))) }
	code := core.HistoryActivity{Name: "Code", Type: 0}
	music := core.HistoryActivity{Name: "Spotify", Type: 2}
	ivs := []core.HistoryInterval{
		{Status: core.StatusOnline, Start: h(0), End: h(2)},
		{Status: core.StatusOnline, Start: h(2), End: h(3)}, // touches the one before: merged
		{Status: core.StatusIdle, Start: h(3), End: h(4)},
		{Status: core.StatusOnline, Start: h(4)}, // ongoing
		{Activity: code, Start: h(1), End: h(5)},
		{Activity: code, Start: h(1), End: h(5)}, // read twice (stored and in flight): once
		{Activity: music, Start: h(2), End: h(2.5)},
		{Activity: music, Start: h(6)}, // ongoing
	}
	now := h(8)
	cases := []struct {
		name     string
		from, to time.Time
		status   string
		totals   string
	}{
		{"everything", h(-1), now, "online 0-3 idle 3-4 online 4-…", "Code=4h0m0s Spotify=2h30m0s"},
		{"window in the past", h(2.5), h(3.5), "online 2.5-3 idle 3-3.5", "Code=1h0m0s"},
		{"future end", h(7), h(100), "online 7-…", "Spotify=1h0m0s"},
		{"before anything", h(-3), h(-2), "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tl := finish(core.Timeline{From: c.from, To: c.to}, append([]core.HistoryInterval(nil), ivs...), now)
			var st, tt []string
			for _, iv := range tl.Status {
				end := "…"
				if !iv.End.IsZero() {
					end = fmt.Sprint(iv.End.Sub(t0).Hours())
				}
				st = append(st, fmt.Sprintf("%s %v-%s", iv.Status, iv.Start.Sub(t0).Hours(), end))
			}
			for _, x := range tl.Totals {
				tt = append(tt, x.Name+"="+x.Duration.String())
			}
			if got := strings.Join(st, " "); got != c.status {
				t.Errorf("status %q, want %q", got, c.status)
			}
			if got := strings.Join(tt, " "); got != c.totals {
				t.Errorf("totals %q, want %q", got, c.totals)
			}
		})
	}
}
