package core

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// TestRestartRewritesOnlyChangedRecords: after a restart every member
// becomes monitored again; a member whose stored record still says the
// same (offline, same username) is not written again, while one seen
// online now, one renamed and one never stored are.
func TestRestartRewritesOnlyChangedRecords(t *testing.T) {
	since := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	seen := since.Add(time.Hour)
	store := &memUserStore{recs: map[string]UserRecord{}}
	for _, id := range []string{"1", "2", "3"} {
		store.recs[id] = UserRecord{ID: id, Username: "u" + id, MonitoringSince: since, LastSeen: seen}
	}
	now := seen.Add(time.Hour)
	h := NewHub(HubOptions{Store: store, Now: func() time.Time { return now }, RecordFlushInterval: time.Hour})
	if err := h.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer h.Close()

	h.UpsertMember("g", Member{User: testUser("1")})                                           // unchanged, offline
	h.UpsertMember("g", Member{User: testUser("2"), Presence: online("a"), SetPresence: true}) // seen now
	renamed := DiscordUser{ID: "3", Username: "new", Raw: json.RawMessage(`{"id":"3","username":"new"}`)}
	h.UpsertMember("g", Member{User: renamed})       // renamed
	h.UpsertMember("g", Member{User: testUser("4")}) // never stored
	if got := h.Stats().RecordsPending; got != 3 {
		t.Fatalf("%d records to write after the restart, want 3 (2, 3 and 4)", got)
	}
	h.FlushRecords(context.Background())
	if r := store.recs["1"]; !r.MonitoringSince.Equal(since) || !r.LastSeen.Equal(seen) {
		t.Errorf("unchanged record became %+v", r)
	}
	if r := store.recs["2"]; !r.LastSeen.Equal(now) || !r.MonitoringSince.Equal(since) {
		t.Errorf("record of the member seen now: %+v", r)
	}
	if r := store.recs["3"]; r.Username != "new" {
		t.Errorf("record of the renamed member: %+v", r)
	}
	if r := store.recs["4"]; !r.MonitoringSince.Equal(now) {
		t.Errorf("record of the new member: %+v", r)
	}
}
