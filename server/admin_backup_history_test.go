package server

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/halyardhq/halyard/backup"
	"github.com/halyardhq/halyard/core"
)

// TestBackupWithoutHistory: a node without presence history (Options.History
// nil, its database unreachable at start) writes backups without the
// history section, and refuses with a 503 to restore one that holds it,
// writing nothing of it.
func TestBackupWithoutHistory(t *testing.T) {
	n := startBackupNode(t, strings.Repeat("s", 32), []string{"10"})
	r, err := backup.NewReader(bytes.NewReader(n.download(t)), 0)
	if err != nil {
		t.Fatal(err)
	}
	if h := r.Header(); h.Sections[backup.SectionHistory] != 0 || h.Counts.History != 0 || h.Counts.HistoryUsers != 0 {
		t.Fatalf("a backup without history: %+v", h)
	}

	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	h := backup.NewHeader("test", t0, "", backup.Counts{Users: 1, HistoryUsers: 1, History: 1})
	var file bytes.Buffer
	w, err := backup.NewWriter(&file, h)
	if err != nil {
		t.Fatal(err)
	}
	for _, write := range []func() error{
		func() error { return w.User(core.UserRecord{ID: "10", Username: "restored"}) },
		func() error { return w.HistoryUser("10") },
		func() error {
			return w.Interval(core.HistoryInterval{UserID: "10", Status: core.StatusOnline, Start: t0, End: t0.Add(time.Hour)})
		},
		w.Close,
	} {
		if err := write(); err != nil {
			t.Fatal(err)
		}
	}
	code, _, body := n.restore(t, file.Bytes(), "")
	if code != 503 || !strings.Contains(body, "presence history") {
		t.Fatalf("a backup with history: %d %s", code, body)
	}
	if _, recs := n.hub.Snapshot(); len(recs) != 1 || recs[0].Username != "u10" {
		t.Fatalf("the refused restore wrote a record: %+v", recs)
	}
}
