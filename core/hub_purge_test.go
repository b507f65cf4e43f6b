package core_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/internal/memstore"
)

// purgeHub opens a hub on a store holding KV and a record for users "1"
// (who becomes monitored) and "2" (who is not), both linked to GitHub.
func purgeHub(t *testing.T, now *time.Time) (*core.Hub, *memstore.Store) {
	t.Helper()
	store := memstore.New()
	since := now.Add(-24 * time.Hour)
	for _, id := range []string{"1", "2"} {
		if err := store.SaveKV(t.Context(), id, core.KVOf("a", "1", "b", "2")); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.SaveUsers(t.Context(), []core.UserRecord{
		{ID: "1", Username: "u1", MonitoringSince: since, LastSeen: since, GitHubLogin: "octo"},
		{ID: "2", Username: "u2", MonitoringSince: since, LastSeen: since, GitHubLogin: "cat"},
	}); err != nil {
		t.Fatal(err)
	}
	h := core.NewHub(core.HubOptions{Store: store, Now: func() time.Time { return *now }, RecordFlushInterval: time.Hour})
	if err := h.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	h.UpsertMember("g", core.Member{User: core.TestUser("1"), Presence: core.Online("a"), SetPresence: true})
	h.FlushRecords(t.Context())
	return h, store
}

// TestPurgeNotMonitored: a user in no watched guild loses KV and record,
// in the store and in the hub, and a later flush does not bring the
// record back.
func TestPurgeNotMonitored(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	h, store := purgeHub(t, &now)
	got, err := h.Purge(t.Context(), "2")
	if err != nil {
		t.Fatal(err)
	}
	if got != (core.Purged{KVKeys: 2, Record: true}) {
		t.Errorf("Purge = %+v", got)
	}
	if kv := h.KV("2"); kv.Len() != 0 {
		t.Errorf("hub KV after purge: %v", kv)
	}
	if r, ok := h.Record("2"); ok {
		t.Errorf("hub record after purge: %+v", r)
	}
	h.FlushRecords(t.Context())
	if kv := store.KV("2"); kv.Len() != 0 {
		t.Errorf("stored KV after purge: %v", kv)
	}
	if r, ok := store.Record("2"); ok {
		t.Errorf("stored record after purge: %+v", r)
	}
	// The other user is untouched.
	if kv := store.KV("1"); kv.Len() != 2 {
		t.Errorf("neighbour's KV: %v", kv)
	}
	// Purging again finds nothing and succeeds.
	if got, err := h.Purge(t.Context(), "2"); err != nil || got != (core.Purged{}) {
		t.Errorf("second purge = %+v, %v", got, err)
	}
}

// TestPurgeMonitored: a member stays monitored with an empty KV and a
// fresh record (monitoring since the purge, no GitHub link), subscribers
// see the empty KV, and the fresh record is what the store gets.
func TestPurgeMonitored(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	h, store := purgeHub(t, &now)
	notified := make(chan struct{}, 1)
	sub := h.SubscribeNotify(0, func() {
		select {
		case notified <- struct{}{}:
		default:
		}
	})
	defer sub.Close()
	sub.Add("1")

	now = now.Add(time.Hour)
	got, err := h.Purge(t.Context(), "1")
	if err != nil {
		t.Fatal(err)
	}
	if got != (core.Purged{KVKeys: 2, Record: true, Monitored: true}) {
		t.Errorf("Purge = %+v", got)
	}
	u, ok := h.Get("1")
	if !ok {
		t.Fatal("no longer monitored")
	}
	if u.KV.Len() != 0 || !u.MonitoringSince().Equal(now) || !u.LastSeen().Equal(now) || u.Status() != core.StatusOnline {
		t.Errorf("snapshot after purge: kv %v since %v seen %v status %s", u.KV, u.MonitoringSince(), u.LastSeen(), u.Status())
	}
	r, _ := h.Record("1")
	if r.GitHubLogin != "" || !r.MonitoringSince.Equal(now) {
		t.Errorf("record after purge: %+v", r)
	}
	select {
	case <-notified:
	case <-time.After(5 * time.Second):
		t.Fatal("no event after the purge")
	}
	evs := sub.Drain(nil)
	if len(evs) == 0 || evs[len(evs)-1].Type != core.KVUpdated || evs[len(evs)-1].User.KV.Len() != 0 {
		t.Errorf("events after purge: %+v", evs)
	}

	if kv := store.KV("1"); kv.Len() != 0 {
		t.Errorf("stored KV after purge: %v", kv)
	}
	if r, ok := store.Record("1"); ok {
		t.Errorf("the old record is still stored before the flush: %+v", r)
	}
	h.FlushRecords(t.Context())
	if r, _ := store.Record("1"); r.GitHubLogin != "" || !r.MonitoringSince.Equal(now) || r.Username != "u1" {
		t.Errorf("stored fresh record: %+v", r)
	}
}

// TestPurgeStoreDown: with the store refusing writes the purge fails as
// unavailable and the hub keeps everything, so nothing is served as gone
// that the store still holds.
func TestPurgeStoreDown(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	h, store := purgeHub(t, &now)
	store.SetDown(errors.New("connection refused"))
	if _, err := h.Purge(t.Context(), "2"); core.ErrorCode(err) != core.EUNAVAILABLE {
		t.Fatalf("purge with the store down: %v, want EUNAVAILABLE", err)
	}
	if h.KV("2").Len() != 2 {
		t.Error("the hub dropped the KV the store still holds")
	}
	if r, ok := h.Record("2"); !ok || r.GitHubLogin != "cat" {
		t.Errorf("the hub dropped the record the store still holds: %+v", r)
	}
	store.SetDown(nil)
	if _, err := h.Purge(context.Background(), "2"); err != nil {
		t.Fatalf("purge once the store is back: %v", err)
	}
	if _, ok := store.Record("2"); ok || store.KV("2").Len() != 0 {
		t.Error("the retried purge left data in the store")
	}
}
