package main

import (
	"cmp"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/discord/discordsim"
)

// TestClusterHistory: presence history on three nodes (one shared
// scripted clock, so every node records the same instants). A user turns
// it on through a DM, answered once; the changes pushed through the
// simulator are read the same on every node and stored once (no two
// stored intervals of one status or activity overlap), by the holder
// alone. The holder stops: the node that takes the shard writes from its
// takeover, the stretch open across the handover is stored in two pieces
// that meet. A backup from a follower holds the history; `.history clear`
// empties every node's view and the store, and a restore into a follower
// brings it back on every node; `.history off` and an admin purge made on
// a follower are seen on every node.
func TestClusterHistory(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a NATS cluster and three nodes")
	}
	t0 := time.Now().UTC().Truncate(time.Hour).Add(-24 * time.Hour)
	clock := &testClock{t: t0}
	tc := startTestCluster(t, 3, discordsim.Config{Seed: 13, Members: 60}, nil, func(m *Main) { m.Now = clock.Now })
	user := tc.sim.MemberIDs(tc.sim.GuildIDs()[0])[4]
	game := func(name string) string {
		return fmt.Sprintf(`{"type":0,"name":%q,"id":%q,"created_at":1}`, name, strings.ToLower(name))
	}
	push := func(status, activities string) {
		t.Helper()
		p := fmt.Sprintf(`{"user":{"id":%q},"status":%q,"client_status":{"desktop":%q},"activities":%s}`, user, status, status, activities)
		if err := tc.sim.UpdatePresence([]byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	// timeline is a node's answer for the day, compactly (spans).
	timeline := func(i int) (int, string) {
		code, h, raw := getHistory(t, tc.clients[i], user, fmt.Sprintf("?from=%d", t0.Add(-time.Hour).UnixMilli()))
		if code != 200 {
			return code, raw
		}
		st, ac, _ := h.spans(t0)
		return code, st + " | " + ac
	}
	// everyNode waits until every open node answers want.
	everyNode := func(what, want string) {
		t.Helper()
		for _, i := range tc.open() {
			var code int
			var got string
			waitUntil(t, fmt.Sprintf("node %d: %s", i, what), time.Minute, func() bool {
				code, got = timeline(i)
				return code == 200 && got == want
			}, func() string { return fmt.Sprintf("%d %s\nwant %s", code, got, want) })
		}
	}
	disabledEverywhere := func(what string) {
		t.Helper()
		for _, i := range tc.open() {
			var body string
			waitUntil(t, fmt.Sprintf("node %d: 404 history_disabled %s", i, what), time.Minute, func() bool {
				var code int
				code, body = timeline(i)
				return code == 404 && strings.Contains(body, `"history_disabled"`)
			}, func() string { return body })
		}
	}
	dm := func(cmd, wantPrefix string) {
		t.Helper()
		before := len(tc.sim.DMMessages(user))
		if _, err := tc.sim.SendDM(user, cmd); err != nil {
			t.Fatal(err)
		}
		var got []string
		waitUntil(t, "the answer to "+cmd, 30*time.Second, func() bool {
			got = got[:0]
			for _, m := range tc.sim.DMMessages(user)[before:] {
				got = append(got, m.Content)
			}
			return len(got) > 0
		}, func() string { return strings.Join(got, "\n") })
		if !strings.HasPrefix(got[0], wantPrefix) {
			t.Fatalf("%s answered %q, want %q…", cmd, got[0], wantPrefix)
		}
	}

	// Idle before the opt-in, seen so by every node.
	push("idle", `[]`)
	for _, c := range tc.clients {
		waitUntil(t, "the user idle on "+c.base, 30*time.Second, func() bool {
			u, ok := getUser(c, user)
			return ok && u.DiscordStatus == "idle"
		})
	}
	disabledEverywhere("before the opt-in")
	dm(".history on", "Presence history is **on**")
	everyNode("after the opt-in", "idle@0s-… | ")
	if n := len(tc.sim.DMMessages(user)); n != 1 {
		t.Fatalf("%d DM answers to one .history on, want 1", n)
	}

	clock.Set(t0.Add(time.Hour))
	push("online", `[`+game("Alpha")+`]`)
	everyNode("at 1h", "idle@0s-1h0m0s online@1h0m0s-… | Alpha/0/-@1h0m0s-…")
	clock.Set(t0.Add(2 * time.Hour))
	push("dnd", `[]`)
	everyNode("at 2h", "idle@0s-1h0m0s online@1h0m0s-2h0m0s dnd@2h0m0s-… | Alpha/0/-@1h0m0s-2h0m0s")

	// One writer: the holder. The followers flush and write nothing.
	holder := tc.holder()
	if holder < 0 {
		t.Fatal("no holder")
	}
	for i, m := range tc.nodes {
		if err := m.History.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		if w := m.History.Stats().Written; (i == holder) != (w > 0) {
			t.Fatalf("node %d (holder: node %d) wrote %d intervals", i, holder, w)
		}
	}
	assertStoredOnce(t, tc, user, t0, "idle@0s-1h0m0s online@1h0m0s-2h0m0s Alpha@1h0m0s-2h0m0s")

	// The holder stops at 3h; another node takes the shard and is ready
	// before the clock moves on.
	clock.Set(t0.Add(3 * time.Hour))
	if err := tc.stop(holder); err != nil {
		t.Logf("stopping the holder: %v", err)
	}
	waitUntil(t, "another node to hold the shard", time.Minute, func() bool { return tc.holder() >= 0 })
	newHolder := tc.holder()
	waitUntil(t, "the new holder ready", time.Minute, func() bool {
		code, _ := tc.clients[newHolder].do("GET", "/readyz", "", nil)
		return code == 200
	})
	clock.Set(t0.Add(4 * time.Hour))
	push("online", `[`+game("Beta")+`]`)
	day := "idle@0s-1h0m0s online@1h0m0s-2h0m0s dnd@2h0m0s-4h0m0s online@4h0m0s-… | Alpha/0/-@1h0m0s-2h0m0s Beta/0/-@4h0m0s-…"
	everyNode("after the handover", day)
	follower := -1
	for _, i := range tc.open() {
		if err := tc.nodes[i].History.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		w := tc.nodes[i].History.Stats().Written
		if i == newHolder && w == 0 {
			t.Fatalf("the new holder node %d wrote nothing", i)
		}
		if i != newHolder {
			follower = i
			if w != 0 {
				t.Fatalf("follower node %d wrote %d intervals", i, w)
			}
		}
	}
	// dnd is stored in two pieces, one by each holder, meeting at 3h.
	assertStoredOnce(t, tc, user, t0, "idle@0s-1h0m0s online@1h0m0s-2h0m0s Alpha@1h0m0s-2h0m0s dnd@2h0m0s-4h0m0s")
	if pieces := storedPieces(t, tc, user, t0); !slices.Contains(pieces, "dnd@2h0m0s-3h0m0s") || !slices.Contains(pieces, "dnd@3h0m0s-4h0m0s") {
		t.Fatalf("stored pieces %v: want dnd cut at the handover (3h)", pieces)
	}

	// A backup taken from a follower holds the history.
	file := filepath.Join(t.TempDir(), "cluster.jsonl.gz")
	code, out, errs := runCLI(t, "backup", "--url", tc.clients[follower].base, "--out", file)
	if code != 0 || !strings.Contains(out, "history of 1 users (4 intervals)") {
		t.Fatalf("backup from a follower: %d %q %q", code, out, errs)
	}

	// `.history clear`, answered by the holder: gone everywhere at once,
	// the store included; recording goes on from now.
	dm(".history clear", "Deleted your presence history")
	everyNode("after the clear", "online@4h0m0s-… | Beta/0/-@4h0m0s-…")
	if n := storedHistory(t, tc.nodes[follower], user); n != 0 {
		t.Fatalf("%d intervals stored after the clear", n)
	}

	// Restored into the follower: stored, and every node serves it.
	code, out, errs = runCLI(t, "restore", "--url", tc.clients[follower].base, file)
	if code != 0 || !strings.Contains(out, "history: 0 users turned on, 1 already on; 4 intervals added") {
		t.Fatalf("restore into a follower: %d %q %q", code, out, errs)
	}
	everyNode("after the restore", day)
	assertStoredOnce(t, tc, user, t0, "idle@0s-1h0m0s online@1h0m0s-2h0m0s Alpha@1h0m0s-2h0m0s dnd@2h0m0s-4h0m0s")

	// Off through the bot: every node answers history_disabled.
	clock.Set(t0.Add(5 * time.Hour))
	dm(".history off", "Presence history is **off**")
	disabledEverywhere("after .history off")

	// On again, then an admin purge made on the follower: every node
	// forgets it, and the store holds neither the opt-in nor intervals.
	dm(".history on", "Presence history is **on**")
	// What the holder closed at the `off` (online and Beta from 4h to 5h)
	// meets what is open again from 5h: the same day, on every node (a
	// follower reads it once the holder has written it).
	everyNode("on again", day)
	if code, body := tc.clients[follower].do("DELETE", "/admin/v1/users/"+user, e2eAdmin, nil); code != 200 {
		t.Fatalf("purge on a follower: %d %s", code, body)
	}
	disabledEverywhere("after the purge")
	if storedOptIns(t, tc.nodes[follower])[user] || storedHistory(t, tc.nodes[follower], user) != 0 {
		t.Fatal("the purge left history in the store")
	}
}

// storedPieces returns the user's intervals as stored, by start.
func storedPieces(t *testing.T, tc *testCluster, user string, t0 time.Time) []string {
	t.Helper()
	ivs, err := tc.store.History(t.Context(), user, t0.Add(-time.Hour), t0.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, iv := range ivs {
		out = append(out, fmt.Sprintf("%s%s@%s-%s", iv.Status, iv.Activity.Name, iv.Start.Sub(t0), iv.End.Sub(t0)))
	}
	return out
}

// assertStoredOnce checks that no two stored intervals of the user's
// same status or activity overlap (nothing written twice), and that the
// stored intervals, pieces that meet joined, are want (by start,
// statuses first).
func assertStoredOnce(t *testing.T, tc *testCluster, user string, t0 time.Time, want string) {
	t.Helper()
	ivs, err := tc.store.History(t.Context(), user, t0.Add(-time.Hour), t0.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(ivs, func(a, b core.HistoryInterval) int {
		return cmp.Or(cmp.Compare(a.Status, b.Status), cmp.Compare(a.Activity.Name, b.Activity.Name), a.Start.Compare(b.Start))
	})
	var joined []core.HistoryInterval
	for _, iv := range ivs {
		if n := len(joined); n > 0 && joined[n-1].Status == iv.Status && joined[n-1].Activity == iv.Activity {
			last := &joined[n-1]
			if iv.Start.Before(last.End) {
				t.Fatalf("stored twice: %s%s %s-%s overlaps %s-%s", iv.Status, iv.Activity.Name,
					iv.Start.Sub(t0), iv.End.Sub(t0), last.Start.Sub(t0), last.End.Sub(t0))
			}
			if iv.Start.Equal(last.End) {
				last.End = iv.End
				continue
			}
		}
		joined = append(joined, iv)
	}
	slices.SortFunc(joined, func(a, b core.HistoryInterval) int { // by start, statuses first
		return cmp.Or(a.Start.Compare(b.Start), -cmp.Compare(a.Status, b.Status), cmp.Compare(a.Activity.Name, b.Activity.Name))
	})
	var got []string
	for _, iv := range joined {
		got = append(got, fmt.Sprintf("%s%s@%s-%s", iv.Status, iv.Activity.Name, iv.Start.Sub(t0), iv.End.Sub(t0)))
	}
	if strings.Join(got, " ") != want {
		t.Fatalf("stored:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
}
