package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/halyardhq/halyard/backup"
	"github.com/halyardhq/halyard/core"
)

// TestBackupKeepsHistory: a backup carries the presence history of the
// users who turned it on, so a node that lost its data answers the same
// timeline after a restore: the user's history is on again (stored), the
// intervals are stored and served at once. A dry run writes nothing, and
// restoring twice changes nothing.
func TestBackupKeepsHistory(t *testing.T) {
	t0 := time.Now().UTC().Truncate(time.Hour).Add(-24 * time.Hour)
	end := t0.Add(24 * time.Hour)
	clockA := &testClock{t: t0}
	a := startHistoryDemo(t, t.TempDir(), 10, clockA)
	defer func() { a.Close() }()
	c := client{t, a.URL()}
	alice := a.Sim.MemberIDs(a.Sim.GuildIDs()[0])[1]
	pushDemoPresence(t, c, alice, "online", `[`+custom+`]`)
	eventually(t, "alice online", func() bool {
		_, b := c.do("GET", "/v1/users/"+alice, "", nil)
		return strings.Contains(string(b), `"discord_status":"online"`)
	})
	if r := (botChat{t, a, c, alice}).dm(".history on"); !strings.Contains(r.Content, "**on**") {
		t.Fatalf(".history on reply: %q", r.Content)
	}
	playDay(t, c, clockA, alice, t0)
	clockA.Set(end)

	file := filepath.Join(t.TempDir(), "halyard.jsonl.gz")
	code, out, errs := runCLI(t, "backup", "--url", c.base, "--out", file)
	if code != 0 || !strings.Contains(out, "history of 1 users (") {
		t.Fatalf("backup: %d %q %q", code, out, errs)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	h, err := checkBackup(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	// Six closed statuses, the one open at the backup (closed then, its
	// pieces split by the recorder one), three activities.
	const intervals = 10
	if h.Counts.HistoryUsers != 1 || h.Counts.History != intervals || h.Sections[backup.SectionHistory] != 1 {
		t.Fatalf("the backup's header: %+v", h)
	}
	if !strings.Contains(out, fmt.Sprintf("history of 1 users (%d intervals)", intervals)) {
		t.Fatalf("backup summary %q, want %d intervals", out, intervals)
	}

	// Both nodes are asked about the day an hour after it: intervals open
	// at its end end with the window, and the new node's own recording
	// (from the restore on) lies outside it.
	clockA.Set(end.Add(time.Hour))
	clockB := &testClock{t: end.Add(time.Hour)}
	b := startHistoryDemo(t, t.TempDir(), 10, clockB)
	defer func() { b.Close() }()
	cb := client{t, b.URL()}
	eventually(t, "alice monitored on the new node", func() bool { return b.Hub.IsMonitored(alice) })
	day := fmt.Sprintf("?from=%d&to=%d", t0.UnixMilli(), end.UnixMilli())
	timeline := func(c client) (int, string) {
		code, h, raw := getHistory(t, c, alice, day)
		st, ac, tt := h.spans(t0)
		if code != 200 {
			return code, raw
		}
		return code, st + "\n" + ac + "\n" + tt
	}
	want := "online@0s-2h0m0s idle@2h0m0s-3h0m0s online@3h0m0s-5h0m0s dnd@5h0m0s-8h0m0s online@8h0m0s-12h0m0s " +
		"offline@12h0m0s-20h0m0s online@20h0m0s-24h0m0s\n" +
		"Visual Studio Code/0/383226320970055681@3h0m0s-8h0m0s Spotify/2/-@5h0m0s-5h30m0s Factorio/0/1234567890@20h0m0s-23h0m0s\n" +
		"Visual Studio Code/0=5h0m0s Factorio/0=3h0m0s Spotify/2=30m0s"
	if code, got := timeline(c); code != 200 || got != want {
		t.Fatalf("the old node's day: %d\n%s\nwant\n%s", code, got, want)
	}
	if code, raw := timeline(cb); code != 404 || !strings.Contains(raw, "history_disabled") {
		t.Fatalf("the new node before the restore: %d %s", code, raw)
	}

	wantAll := fmt.Sprintf("history: 1 users turned on, 0 already on; %d intervals added, 0 unchanged", intervals)
	code, out, errs = runCLI(t, "restore", "--url", cb.base, file, "--dry-run")
	if code != 0 || !strings.Contains(out, wantAll) {
		t.Fatalf("dry run: %d %q %q, want %q", code, out, errs, wantAll)
	}
	if code, raw := timeline(cb); code != 404 || storedOptIns(t, b)[alice] || storedHistory(t, b, alice) != 0 {
		t.Fatalf("the dry run wrote: history %d %s, opt-ins %v, %d intervals stored", code, raw, storedOptIns(t, b), storedHistory(t, b, alice))
	}

	// A bad interval line is refused with what is wrong, and nothing is
	// written.
	var bad bytes.Buffer
	bw, err := backup.NewWriter(&bad, backup.NewHeader("test", end, "", backup.Counts{History: 1}))
	if err != nil {
		t.Fatal(err)
	}
	if err := bw.Interval(core.HistoryInterval{UserID: alice, Status: core.StatusOnline, Start: end, End: t0}); err != nil {
		t.Fatal(err)
	}
	if err := bw.Close(); err != nil {
		t.Fatal(err)
	}
	if code, body := cb.do("POST", "/admin/v1/restore", e2eAdmin, bad.Bytes()); code != 400 ||
		!strings.Contains(string(body), "line 2: an interval's end must be after its start") {
		t.Fatalf("a bad interval line: %d %s", code, body)
	}
	if storedOptIns(t, b)[alice] || storedHistory(t, b, alice) != 0 {
		t.Fatal("the refused restore wrote history")
	}

	code, out, errs = runCLI(t, "restore", "--url", cb.base, file)
	if code != 0 || !strings.Contains(out, wantAll) {
		t.Fatalf("restore: %d %q %q, want %q", code, out, errs, wantAll)
	}
	// Served at once, the same day as the old node's; stored.
	if code, got := timeline(cb); code != 200 || got != want {
		t.Fatalf("the new node's day after the restore: %d\n%s\nwant\n%s", code, got, want)
	}
	if !storedOptIns(t, b)[alice] {
		t.Error("the restored opt-in is not in the store")
	}
	if n := storedHistory(t, b, alice); n < intervals {
		t.Errorf("%d intervals stored after the restore, want the backup's %d", n, intervals)
	}

	code, out, errs = runCLI(t, "restore", "--url", cb.base, file)
	wantNone := fmt.Sprintf("history: 0 users turned on, 1 already on; 0 intervals added, %d unchanged", intervals)
	if code != 0 || !strings.Contains(out, wantNone) {
		t.Fatalf("second restore: %d %q %q, want %q", code, out, errs, wantNone)
	}
	if code, got := timeline(cb); code != 200 || got != want {
		t.Fatalf("the new node's day after the second restore: %d\n%s\nwant\n%s", code, got, want)
	}
	// Restoring the backup into the node it came from adds nothing
	// either: the interval open at the backup is the one it still holds.
	code, out, errs = runCLI(t, "restore", "--url", c.base, file)
	if code != 0 || !strings.Contains(out, "history: 0 users turned on, 1 already on; 0 intervals added") {
		t.Fatalf("restore into the old node: %d %q %q", code, out, errs)
	}
}
