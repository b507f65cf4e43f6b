package core_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/internal/memstore"
)

// TestRestartRewritesOnlyChangedRecords: after a restart every member
// becomes monitored again; a member whose stored record still says the
// same (offline, same username) is not written again, while one seen
// online now, one renamed and one never stored are.
func TestRestartRewritesOnlyChangedRecords(t *testing.T) {
	since := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	seen := since.Add(time.Hour)
	store := memstore.New()
	var recs []core.UserRecord
	for _, id := range []string{"1", "2", "3"} {
		recs = append(recs, core.UserRecord{ID: id, Username: "u" + id, MonitoringSince: since, LastSeen: seen})
	}
	if err := store.SaveUsers(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
	now := seen.Add(time.Hour)
	h := core.NewHub(core.HubOptions{Store: store, Now: func() time.Time { return now }, RecordFlushInterval: time.Hour})
	if err := h.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer h.Close()

	h.UpsertMember("g", core.Member{User: core.TestUser("1")})                                                // unchanged, offline
	h.UpsertMember("g", core.Member{User: core.TestUser("2"), Presence: core.Online("a"), SetPresence: true}) // seen now
	renamed := core.DiscordUser{ID: "3", Username: "new", Raw: json.RawMessage(`{"id":"3","username":"new"}`)}
	h.UpsertMember("g", core.Member{User: renamed})            // renamed
	h.UpsertMember("g", core.Member{User: core.TestUser("4")}) // never stored
	if got := h.Stats().RecordsPending; got != 3 {
		t.Fatalf("%d records to write after the restart, want 3 (2, 3 and 4)", got)
	}
	h.FlushRecords(context.Background())
	if r, _ := store.Record("1"); !r.MonitoringSince.Equal(since) || !r.LastSeen.Equal(seen) {
		t.Errorf("unchanged record became %+v", r)
	}
	if r, _ := store.Record("2"); !r.LastSeen.Equal(now) || !r.MonitoringSince.Equal(since) {
		t.Errorf("record of the member seen now: %+v", r)
	}
	if r, _ := store.Record("3"); r.Username != "new" {
		t.Errorf("record of the renamed member: %+v", r)
	}
	if r, _ := store.Record("4"); !r.MonitoringSince.Equal(now) {
		t.Errorf("record of the new member: %+v", r)
	}
}
