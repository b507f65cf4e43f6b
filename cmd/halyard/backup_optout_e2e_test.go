package main

import (
	"context"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestBackupKeepsOptOuts: a backup carries who opted out (.optout), so a
// node restored from it after losing its data hides them again — a
// restore must never show people who asked to be hidden — while the
// users who did not opt out are served as before. Restoring twice changes
// nothing, and a restore never shows a user who opted out since.
func TestBackupKeepsOptOuts(t *testing.T) {
	const members = 120
	a := startBackupDemo(t, t.TempDir(), members)
	c := client{t, a.URL()}
	all := a.Sim.MemberIDs(a.Sim.GuildIDs()[0])
	hidden, shown, later := all[1], all[2], all[3]
	for _, id := range []string{hidden, shown, later} {
		eventually(t, "user monitored", func() bool { return a.Hub.IsMonitored(id) })
	}
	bot := botChat{t: t, m: a, c: c, user: hidden}
	if r := bot.dm(".optout"); !strings.HasPrefix(r.Content, "You have opted out.") {
		t.Fatalf(".optout: %+v", r)
	}
	since, _ := a.Hub.OptOutSince(hidden)
	if code, _ := c.do("GET", "/v1/users/"+hidden, "", nil); code != http.StatusNotFound {
		t.Fatalf("opted-out user served: %d", code)
	}

	file := filepath.Join(t.TempDir(), "halyard.jsonl.gz")
	code, out, errs := runCLI(t, "backup", "--url", c.base, "--out", file)
	if code != 0 || !strings.Contains(out, ", 1 opt-outs") {
		t.Fatalf("backup: %d %q %q", code, out, errs)
	}

	// A node that lost its data (a new data directory, the same members):
	// before the restore it serves everyone, the opted-out user included.
	b := startBackupDemo(t, t.TempDir(), members)
	cb := client{t, b.URL()}
	for _, id := range []string{hidden, shown, later} {
		eventually(t, "user monitored on the new node", func() bool { return b.Hub.IsMonitored(id) })
	}
	if code, _ := cb.do("GET", "/v1/users/"+hidden, "", nil); code != http.StatusOK {
		t.Fatalf("the new node does not serve %s before the restore: %d", hidden, code)
	}
	// Someone opts out on the new node before the restore: the backup
	// does not hold them, and the restore must leave them hidden.
	if r := (botChat{t: t, m: b, c: cb, user: later}).dm(".optout"); !strings.HasPrefix(r.Content, "You have opted out.") {
		t.Fatalf(".optout on the new node: %+v", r)
	}

	code, out, errs = runCLI(t, "restore", "--url", cb.base, file, "--dry-run")
	if code != 0 || !strings.Contains(out, "opt-outs: 1 changed, 0 unchanged") {
		t.Fatalf("dry run: %d %q %q", code, out, errs)
	}
	if b.Hub.OptedOut(hidden) {
		t.Fatal("the dry run hid the user")
	}
	code, out, errs = runCLI(t, "restore", "--url", cb.base, file)
	if code != 0 || !strings.Contains(out, "opt-outs: 1 changed, 0 unchanged") {
		t.Fatalf("restore: %d %q %q", code, out, errs)
	}
	for id, want := range map[string]int{hidden: http.StatusNotFound, later: http.StatusNotFound, shown: http.StatusOK} {
		if code, body := cb.do("GET", "/v1/users/"+id, "", nil); code != want {
			t.Errorf("after the restore, /v1/users/%s: %d %s, want %d", id, code, body, want)
		}
	}
	if got, ok := b.Hub.OptOutSince(hidden); !ok || !got.Equal(since) {
		t.Errorf("restored opt-out since %v (%v), want the backup's %v", got, ok, since)
	}
	code, out, errs = runCLI(t, "restore", "--url", cb.base, file)
	if code != 0 || !strings.Contains(out, "opt-outs: 0 changed, 1 unchanged") {
		t.Fatalf("second restore: %d %q %q", code, out, errs)
	}

	// Stored, not only in memory: the new node's store holds it.
	var stored []string
	if err := b.Store.LoadOptOuts(context.Background(), func(id string, _ time.Time) error {
		stored = append(stored, id)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(stored)
	want := []string{hidden, later}
	slices.Sort(want)
	if !slices.Equal(stored, want) {
		t.Errorf("stored opt-outs %v, want %v", stored, want)
	}
}
