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

// optOutHub opens a hub on a memstore with members "1", "2" and "3" in
// guild "g", "1" holding a KV pair.
func optOutHub(t *testing.T, store *memstore.Store) *core.Hub {
	t.Helper()
	if err := store.SaveKV(t.Context(), "1", core.KVOf("a", "1")); err != nil {
		t.Fatal(err)
	}
	h := core.NewHub(core.HubOptions{Store: store, RecordFlushInterval: time.Hour})
	if err := h.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	for _, id := range []string{"1", "2", "3"} {
		h.UpsertMember("g", core.Member{User: core.TestUser(id), Presence: core.Online("a"), SetPresence: true})
	}
	return h
}

// optOutEvents collects the pending events' types and users.
func optOutEvents(s *core.Subscription) []string {
	var out []string
	for _, ev := range s.Drain(nil) {
		out = append(out, ev.Type.String()+":"+ev.User.ID)
	}
	return out
}

func ids(users []*core.User) []string {
	var out []string
	for _, u := range users {
		out = append(out, u.ID)
	}
	slices.Sort(out)
	return out
}

// TestOptOutHidesEverywhere: an opted-out member is absent from every read
// (Get, IsMonitored, All, Page, Count), leaves with one MemberLeft to both
// kinds of subscriber, and then nothing about them is published — presence
// changes are absorbed, so opting back in publishes MemberJoined with the
// latest presence. KV writes are refused as for an unmonitored user and
// the KV is kept.
func TestOptOutHidesEverywhere(t *testing.T) {
	store := memstore.New()
	h := optOutHub(t, store)
	byID := h.SubscribeNotify(0, func() {})
	byID.Add("1")
	all := h.SubscribeNotify(0, func() {})
	all.SetAll(true)
	defer byID.Close()
	defer all.Close()

	changed, err := h.SetOptOut(t.Context(), "1", true)
	if err != nil || !changed {
		t.Fatalf("SetOptOut = %v, %v", changed, err)
	}
	if !store.OptedOut("1") || !h.OptedOut("1") {
		t.Fatal("opt-out not stored or not held")
	}
	if got := optOutEvents(byID); !slices.Equal(got, []string{"MemberLeft:1"}) {
		t.Errorf("by-id subscriber got %v", got)
	}
	if got := optOutEvents(all); !slices.Equal(got, []string{"MemberLeft:1"}) {
		t.Errorf("all-users subscriber got %v", got)
	}
	if _, ok := h.Get("1"); ok || h.IsMonitored("1") {
		t.Error("Get/IsMonitored still see the opted-out user")
	}
	if got := ids(h.All()); !slices.Equal(got, []string{"2", "3"}) {
		t.Errorf("All = %v", got)
	}
	if got := ids(h.Page("", 10)); !slices.Equal(got, []string{"2", "3"}) {
		t.Errorf("Page = %v", got)
	}
	if n := h.Count(); n != 2 {
		t.Errorf("Count = %d", n)
	}
	if m := h.Stats().Monitored; m != 2 {
		t.Errorf("Stats.Monitored = %d", m)
	}

	// Gateway changes are absorbed silently; KV writes are refused.
	h.UpdatePresence("1", core.Online("b"))
	h.UpsertMember("g2", core.Member{User: core.TestUser("1"), Presence: core.Online("c"), SetPresence: true})
	if err := h.PutKV(t.Context(), "1", "x", "y"); core.ErrorCode(err) != core.ENOTMONITORED {
		t.Errorf("PutKV of an opted-out user: %v", err)
	}
	if got := optOutEvents(byID); len(got) != 0 {
		t.Errorf("events after the opt-out (by id): %v", got)
	}
	if got := optOutEvents(all); len(got) != 0 {
		t.Errorf("events after the opt-out (all): %v", got)
	}
	if kv := store.KV("1"); !kv.Equal(core.KVOf("a", "1")) {
		t.Errorf("stored KV after opt-out: %v", kv)
	}
	// Opting out again changes nothing.
	if changed, err := h.SetOptOut(t.Context(), "1", true); err != nil || changed {
		t.Errorf("second SetOptOut = %v, %v", changed, err)
	}

	// Opting in: MemberJoined with the presence absorbed meanwhile.
	if changed, err := h.SetOptOut(t.Context(), "1", false); err != nil || !changed {
		t.Fatalf("opt in = %v, %v", changed, err)
	}
	evs := all.Drain(nil)
	if len(evs) != 1 || evs[0].Type != core.MemberJoined || evs[0].User.Presence.Activities[0].Name != "c" ||
		!slices.Equal(evs[0].User.Guilds(), []string{"g", "g2"}) || !evs[0].User.KV.Equal(core.KVOf("a", "1")) {
		t.Errorf("after opt-in the all-users subscriber got %+v", evs)
	}
	if got := optOutEvents(byID); !slices.Equal(got, []string{"MemberJoined:1"}) {
		t.Errorf("by-id subscriber got %v after opt-in", got)
	}
	if u, ok := h.Get("1"); !ok || u.Presence.Activities[0].Name != "c" || h.Count() != 3 || store.OptedOut("1") {
		t.Errorf("after opt-in: %v %v count %d stored %v", u, ok, h.Count(), store.OptedOut("1"))
	}
	if err := h.PutKV(t.Context(), "1", "x", "y"); err != nil {
		t.Errorf("PutKV after opt-in: %v", err)
	}
}

// TestOptOutBeforeJoining: a user who is not monitored may opt out; when
// they join a watched guild later they stay hidden and nothing is
// published; opting in shows them.
func TestOptOutBeforeJoining(t *testing.T) {
	h := optOutHub(t, memstore.New())
	all := h.SubscribeNotify(0, func() {})
	all.SetAll(true)
	defer all.Close()
	if changed, err := h.SetOptOut(t.Context(), "9", true); err != nil || !changed {
		t.Fatalf("SetOptOut = %v, %v", changed, err)
	}
	h.UpsertMember("g", core.Member{User: core.TestUser("9"), Presence: core.Online("a"), SetPresence: true})
	if _, ok := h.Get("9"); ok {
		t.Error("a hidden user who joined is served")
	}
	if got := optOutEvents(all); len(got) != 0 {
		t.Errorf("events of a hidden user joining: %v", got)
	}
	if _, member := h.Member("9"); !member {
		t.Error("Member does not see the hidden member")
	}
	h.RemoveMember("g", "9")
	if got := optOutEvents(all); len(got) != 0 {
		t.Errorf("events of a hidden user leaving: %v", got)
	}
	if _, err := h.SetOptOut(t.Context(), "9", false); err != nil {
		t.Fatal(err)
	}
	if got := optOutEvents(all); len(got) != 0 {
		t.Errorf("opting in a user in no guild published %v", got)
	}
}

// TestOptOutSurvivesReopenAndPurge: a new hub on the same store loads the
// opt-out before it serves (the member is hidden from the first event);
// a purge deletes KV and record but keeps the opt-out, and no record is
// written again until the user opts in.
func TestOptOutSurvivesReopenAndPurge(t *testing.T) {
	store := memstore.New()
	h := optOutHub(t, store)
	if _, err := h.SetOptOut(t.Context(), "1", true); err != nil {
		t.Fatal(err)
	}
	h.FlushRecords(t.Context())
	h.Close()

	h2 := optOutHub(t, store)
	if _, ok := h2.Get("1"); ok || !h2.OptedOut("1") {
		t.Fatal("the reopened hub serves the opted-out user")
	}
	if _, err := h2.Purge(t.Context(), "1"); err != nil {
		t.Fatal(err)
	}
	h2.FlushRecords(t.Context())
	if store.KV("1").Len() != 0 || !store.OptedOut("1") || !h2.OptedOut("1") {
		t.Errorf("after purge: KV %v, stored opt-out %v, held %v", store.KV("1"), store.OptedOut("1"), h2.OptedOut("1"))
	}
	if _, ok := h2.Get("1"); ok {
		t.Error("purge brought the opted-out user back")
	}
	// While hidden nothing new is written: the purge's fresh record stays
	// in memory until the user opts in.
	h2.UpdatePresence("1", core.Online("z"))
	h2.FlushRecords(t.Context())
	if r, ok := store.Record("1"); ok {
		t.Errorf("a record written while opted out: %+v", r)
	}
	if _, err := h2.SetOptOut(t.Context(), "1", false); err != nil {
		t.Fatal(err)
	}
	h2.FlushRecords(t.Context())
	if r, ok := store.Record("1"); !ok || r.LastSeen.IsZero() {
		t.Errorf("the record after opting in: %+v, %v", r, ok)
	}
}

// TestOptOutStoreDown: a store that refuses the write leaves the user as
// they were (served, nothing published) and says the database is
// unavailable.
func TestOptOutStoreDown(t *testing.T) {
	store := memstore.New()
	h := optOutHub(t, store)
	all := h.SubscribeNotify(0, func() {})
	all.SetAll(true)
	defer all.Close()
	store.SetDown(errors.New("down"))
	changed, err := h.SetOptOut(t.Context(), "2", true)
	if changed || core.ErrorCode(err) != core.EUNAVAILABLE {
		t.Fatalf("SetOptOut on a down store = %v, %v", changed, err)
	}
	if _, ok := h.Get("2"); !ok || h.OptedOut("2") {
		t.Error("a failed opt-out hid the user")
	}
	if got := optOutEvents(all); len(got) != 0 {
		t.Errorf("a failed opt-out published %v", got)
	}
	store.SetDown(nil)
	// A cancelled request still completes the write (as KV writes do).
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if changed, err := h.SetOptOut(ctx, "2", true); err != nil || !changed || !store.OptedOut("2") {
		t.Errorf("SetOptOut with a cancelled context = %v, %v", changed, err)
	}
}

// TestLoadStoredHidesOptedOut: a hub that opened without its store (it
// was unreachable) served everyone; once the store loads, the opted-out
// member leaves subscribers (MemberLeft) and is hidden from then on.
func TestLoadStoredHidesOptedOut(t *testing.T) {
	store := memstore.New()
	if err := store.SaveOptOut(t.Context(), "2", time.Now()); err != nil {
		t.Fatal(err)
	}
	store.SetDown(errors.New("unreachable"))
	h := core.NewHub(core.HubOptions{Store: store, RecordFlushInterval: time.Hour})
	if err := h.Open(t.Context()); err == nil {
		t.Fatal("Open succeeded on a down store")
	}
	for _, id := range []string{"1", "2"} {
		h.UpsertMember("g", core.Member{User: core.TestUser(id), Presence: core.Online("a"), SetPresence: true})
	}
	all := h.SubscribeNotify(0, func() {})
	all.SetAll(true)
	defer all.Close()
	store.SetDown(nil)
	if err := h.LoadStored(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := optOutEvents(all); !slices.Equal(got, []string{"MemberLeft:2"}) {
		t.Errorf("LoadStored published %v", got)
	}
	if _, ok := h.Get("2"); ok || h.Count() != 1 {
		t.Error("the opted-out member is still served after LoadStored")
	}
}

// TestApplyOptOut: a change stored elsewhere (another node) hides and
// shows the user with the same events, writing nothing.
func TestApplyOptOut(t *testing.T) {
	store := memstore.New()
	h := optOutHub(t, store)
	all := h.SubscribeNotify(0, func() {})
	all.SetAll(true)
	defer all.Close()
	h.ApplyOptOut("3", true, time.Now())
	if _, ok := h.Get("3"); ok || store.OptedOut("3") {
		t.Errorf("after ApplyOptOut: served %v, stored %v", ok, store.OptedOut("3"))
	}
	h.ApplyOptOut("3", true, time.Now()) // repeated: nothing more
	h.ApplyOptOut("3", false, time.Time{})
	if got := optOutEvents(all); !slices.Equal(got, []string{"MemberLeft:3", "MemberJoined:3"}) {
		t.Errorf("events %v", got)
	}
}
