package core_test

import (
	"context"
	"errors"
	"slices"
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

// TestNewRecordsAreInserted: the records of users the hub never saw
// stored go to the store's InsertUsers (one insert command instead of a
// replace each); a stored user's record, and any later change, are saved
// as before; records whose insert failed are inserted on the next flush.
func TestNewRecordsAreInserted(t *testing.T) {
	since := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	store := memstore.New()
	if err := store.SaveUsers(t.Context(), []core.UserRecord{{ID: "2", Username: "old", MonitoringSince: since}}); err != nil {
		t.Fatal(err)
	}
	now := since.Add(time.Hour)
	h := core.NewHub(core.HubOptions{Store: store, Now: func() time.Time { return now }, RecordFlushInterval: time.Hour})
	if err := h.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	for _, id := range []string{"1", "2", "3"} {
		h.UpsertMember("g", core.Member{User: core.TestUser(id), Presence: core.Online("a"), SetPresence: true})
	}
	if err := h.FlushRecords(t.Context()); err != nil {
		t.Fatal(err)
	}
	ins := store.Inserted()
	slices.Sort(ins)
	if !slices.Equal(ins, []string{"1", "3"}) {
		t.Fatalf("inserted %v, want the two new users' records", ins)
	}
	for _, id := range []string{"1", "2", "3"} {
		want, _ := h.Record(id)
		if got, _ := store.Record(id); got != want {
			t.Errorf("stored %+v, want %+v", got, want)
		}
	}

	// A change to a stored record is a save, not another insert.
	now = now.Add(time.Minute)
	h.UpsertMember("g", core.Member{User: core.TestUser("1"), Presence: core.Online("b"), SetPresence: true})
	store.SetDown(errors.New("down"))
	h.UpsertMember("g", core.Member{User: core.TestUser("4"), Presence: core.Online("a"), SetPresence: true})
	if err := h.FlushRecords(t.Context()); err == nil {
		t.Fatal("a flush to a store that is down succeeded")
	}
	store.SetDown(nil)
	if err := h.FlushRecords(t.Context()); err != nil {
		t.Fatal(err)
	}
	if ins := store.Inserted(); len(ins) != 3 || ins[2] != "4" {
		t.Fatalf("inserted %v, want user 4's record added once after the failed flush", ins)
	}
	for _, id := range []string{"1", "4"} {
		want, _ := h.Record(id)
		if got, _ := store.Record(id); got != want || !got.LastSeen.Equal(now) {
			t.Errorf("stored %+v, want %+v", got, want)
		}
	}
}

// TestRecordWriterWaitsForSync: the background writer leaves the records
// of a sync in progress alone and writes them once the hub is synced.
func TestRecordWriterWaitsForSync(t *testing.T) {
	store := memstore.New()
	h := core.NewHub(core.HubOptions{Store: store, RecordFlushInterval: time.Millisecond})
	if err := h.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	for _, id := range []string{"1", "2", "3"} {
		h.UpsertMember("g", core.Member{User: core.TestUser(id), Presence: core.Online("a"), SetPresence: true})
	}
	time.Sleep(50 * time.Millisecond) // fifty ticks of the writer
	if _, ok := store.Record("1"); ok {
		t.Fatal("a record was written during the sync")
	}
	if n := h.Stats().RecordsPending; n != 3 {
		t.Fatalf("%d records pending during the sync, want 3", n)
	}
	h.MarkSynced()
	deadline := time.Now().Add(10 * time.Second)
	for h.Stats().RecordsPending > 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	for _, id := range []string{"1", "2", "3"} {
		if _, ok := store.Record(id); !ok {
			t.Errorf("record %s not written after the sync", id)
		}
	}
}
