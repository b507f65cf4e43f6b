package core_test

import (
	"context"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/internal/memstore"
)

// TestMonitoringSinceIsGuildJoinTime: a user's monitoring start is the
// member's joined_at, the earliest across watched guilds, not the time the
// hub first saw them; it is what the store keeps, so it survives a
// restart; "now" is only the fallback for a member without a join time.
func TestMonitoringSinceIsGuildJoinTime(t *testing.T) {
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	imported := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC) // e.g. from Lantern's users collection
	store := memstore.New()
	if err := store.SaveUsers(t.Context(), []core.UserRecord{{ID: "2", MonitoringSince: imported}}); err != nil {
		t.Fatal(err)
	}
	open := func() *core.Hub {
		h := core.NewHub(core.HubOptions{Store: store, Now: func() time.Time { return now }, RecordFlushInterval: time.Hour})
		if err := h.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		return h
	}
	h := open()
	since := func(id string) time.Time {
		t.Helper()
		r, ok := h.Record(id)
		if !ok {
			t.Fatalf("no record for %s", id)
		}
		u, monitored := h.Get(id)
		if monitored && !u.MonitoringSince().Equal(r.MonitoringSince) {
			t.Fatalf("%s: snapshot says %v, record %v", id, u.MonitoringSince(), r.MonitoringSince)
		}
		return r.MonitoringSince
	}
	j2020 := time.Date(2020, 2, 3, 4, 5, 6, 789_000_000, time.UTC)
	j2019 := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
	j2022 := time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)

	h.UpsertMember("g1", core.Member{User: core.TestUser("1"), JoinedAt: j2020})
	if got := since("1"); !got.Equal(j2020) {
		t.Fatalf("new member: monitoring since %v, want the join time %v", got, j2020)
	}
	h.UpsertMember("g2", core.Member{User: core.TestUser("1"), JoinedAt: j2019})
	if got := since("1"); !got.Equal(j2019) {
		t.Fatalf("joined a second watched guild earlier: %v, want %v", got, j2019)
	}
	h.UpsertMember("g1", core.Member{User: core.TestUser("1"), JoinedAt: j2022})
	if got := since("1"); !got.Equal(j2019) {
		t.Fatalf("a later join in one of two guilds moved the earliest: %v, want %v", got, j2019)
	}

	h.UpsertMember("g1", core.Member{User: core.TestUser("2"), JoinedAt: j2022})
	if got := since("2"); !got.Equal(j2022) {
		t.Fatalf("stored start %v kept over Discord's join time: %v, want %v", imported, got, j2022)
	}

	h.UpsertMember("g1", core.Member{User: core.TestUser("3")})
	if got := since("3"); !got.Equal(now) {
		t.Fatalf("member without joined_at: %v, want now %v", got, now)
	}
	h.UpsertMember("g1", core.Member{User: core.TestUser("3"), JoinedAt: j2022})
	if got := since("3"); !got.Equal(j2022) {
		t.Fatalf("joined_at arriving later: %v, want %v", got, j2022)
	}

	// Kept across a restart: the store holds the join times, and a new
	// hub serves them before any member arrives.
	h.FlushRecords(context.Background())
	stored := map[string]time.Time{}
	if err := store.LoadUsers(t.Context(), func(r core.UserRecord) error {
		stored[r.ID] = r.MonitoringSince
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]time.Time{"1": j2019, "2": j2022, "3": j2022} {
		if !stored[id].Equal(want) {
			t.Fatalf("stored record %s: %v, want %v", id, stored[id], want)
		}
	}
	h.Close()
	now = now.Add(24 * time.Hour)
	h = open()
	defer h.Close()
	if got := since("1"); !got.Equal(j2019) {
		t.Fatalf("after a restart: %v, want %v", got, j2019)
	}
	h.UpsertMember("g1", core.Member{User: core.TestUser("1"), JoinedAt: j2022})
	h.UpsertMember("g2", core.Member{User: core.TestUser("1"), JoinedAt: j2019})
	if got := since("1"); !got.Equal(j2019) {
		t.Fatalf("after a restart and a sync: %v, want %v", got, j2019)
	}
}
