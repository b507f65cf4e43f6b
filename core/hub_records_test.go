package core_test

import (
	"context"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/internal/memstore"
)

// TestRecordsFollowSnapshots: a monitored user's record is read from the
// snapshot (username, last seen), survives leaving the guild, keeps its
// GitHub link, and what is written is what Record says.
func TestRecordsFollowSnapshots(t *testing.T) {
	since := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	store := memstore.New()
	if err := store.SaveUsers(t.Context(), []core.UserRecord{{ID: "2", Username: "old", MonitoringSince: since, GitHubLogin: "octo"}}); err != nil {
		t.Fatal(err)
	}
	now := since.Add(time.Hour)
	h := core.NewHub(core.HubOptions{Store: store, Now: func() time.Time { return now }, RecordFlushInterval: time.Hour})
	if err := h.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer h.Close()

	h.UpsertMember("g", core.Member{User: core.TestUser("1"), Presence: core.Online("a"), SetPresence: true})
	h.UpsertMember("g", core.Member{User: core.TestUser("2")})
	r1, ok := h.Record("1")
	if !ok || r1.Username != "u1" || !r1.MonitoringSince.Equal(now) || !r1.LastSeen.Equal(now) {
		t.Fatalf("new member's record: %+v %v", r1, ok)
	}
	r2, _ := h.Record("2")
	if r2.GitHubLogin != "octo" || !r2.MonitoringSince.Equal(since) || r2.Username != "u2" {
		t.Fatalf("returning member's record: %+v", r2)
	}

	now = now.Add(time.Minute)
	h.UpdatePresence("1", core.Online("b"))
	h.RemoveMember("g", "1")
	if h.IsMonitored("1") {
		t.Fatal("still monitored")
	}
	if r, ok := h.Record("1"); !ok || r.Username != "u1" || !r.LastSeen.Equal(now) || !r.MonitoringSince.Equal(r1.MonitoringSince) {
		t.Fatalf("record after leaving: %+v %v", r, ok)
	}
	h.SetGitHubLogin("2", "")
	if r, _ := h.Record("2"); r.GitHubLogin != "" || r.Username != "u2" {
		t.Fatalf("unlinked record: %+v", r)
	}

	h.FlushRecords(context.Background())
	for _, id := range []string{"1", "2"} {
		want, _ := h.Record(id)
		if got, _ := store.Record(id); got != want {
			t.Errorf("stored %+v, want %+v", got, want)
		}
	}
}
