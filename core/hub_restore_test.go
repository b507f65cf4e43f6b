package core_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/internal/memstore"
)

func openRestoreHub(t *testing.T, store *memstore.Store) *core.Hub {
	t.Helper()
	h := core.NewHub(core.HubOptions{Store: store})
	if err := h.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// drainTypes returns the types of the events queued on s.
func drainTypes(s *core.Subscription) []core.EventType {
	var types []core.EventType
	for _, ev := range s.Drain(nil) {
		types = append(types, ev.Type)
	}
	return types
}

// TestRestoreKV: a restored map is stored, served and published as a KV
// write is, for monitored and unmonitored users; the same map again, or
// a dry run, changes nothing; a map breaking the KV rules is refused.
func TestRestoreKV(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	h := openRestoreHub(t, store)
	h.UpsertMember("g", core.Member{User: core.TestUser("10")})
	sub := h.SubscribeNotify(0, func() {})
	sub.Add("10")
	drainTypes(sub)

	want := core.KVOf("zeta", "1", "alpha", "ünïcødé ✓", "", "empty key")
	changed, err := h.RestoreKV(ctx, "10", want, false)
	if err != nil || !changed {
		t.Fatalf("restore: changed=%v err=%v", changed, err)
	}
	if got := h.KV("10"); !got.Equal(want) {
		t.Fatalf("hub KV %v, want %v (insertion order kept)", got, want)
	}
	if got := store.KV("10"); !got.Equal(want) {
		t.Fatalf("stored KV %v, want %v", got, want)
	}
	if u, _ := h.Get("10"); !u.KV.Equal(want) {
		t.Fatalf("snapshot KV %v", u.KV)
	}
	if types := drainTypes(sub); len(types) != 1 || types[0] != core.KVUpdated {
		t.Fatalf("events %v, want one KVUpdated", types)
	}

	if changed, err := h.RestoreKV(ctx, "10", want.Clone(), false); err != nil || changed {
		t.Fatalf("second restore: changed=%v err=%v", changed, err)
	}
	if types := drainTypes(sub); len(types) != 0 {
		t.Fatalf("an unchanged restore published %v", types)
	}

	other := core.KVOf("a", "b")
	if changed, err := h.RestoreKV(ctx, "10", other, true); err != nil || !changed {
		t.Fatalf("dry run: changed=%v err=%v", changed, err)
	}
	if !h.KV("10").Equal(want) || !store.KV("10").Equal(want) || len(drainTypes(sub)) != 0 {
		t.Fatal("a dry run wrote")
	}

	// A user not monitored now keeps KV too (it loads at start as well).
	if changed, err := h.RestoreKV(ctx, "99", other, false); err != nil || !changed {
		t.Fatalf("unmonitored: changed=%v err=%v", changed, err)
	}
	if !h.KV("99").Equal(other) || !store.KV("99").Equal(other) {
		t.Fatal("unmonitored user's KV not restored")
	}

	for _, bad := range []core.KV{core.KVOf("bad key", "v"), core.KVOf("k", "\xff")} {
		if _, err := h.RestoreKV(ctx, "10", bad, false); core.ErrorCode(err) != core.EINVALID {
			t.Errorf("restore %v: %v, want EINVALID", bad, err)
		}
	}
	if !h.KV("10").Equal(want) {
		t.Fatal("a refused map changed the KV")
	}

	// The store refusing leaves memory as it was.
	store.SetDown(context.DeadlineExceeded)
	if _, err := h.RestoreKV(ctx, "10", other, false); core.ErrorCode(err) != core.EUNAVAILABLE {
		t.Fatalf("store down: %v, want EUNAVAILABLE", err)
	}
	if !h.KV("10").Equal(want) {
		t.Fatal("a failed store write changed memory")
	}
}

// TestRestoreRecords: records merge as a start-up load does, are written
// before RestoreRecords returns, and a second restore changes nothing.
func TestRestoreRecords(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	h := openRestoreHub(t, store)
	h.UpsertMember("g", core.Member{User: core.TestUser("10")})
	now, _ := h.Record("10")

	early := now.MonitoringSince.Add(-48 * time.Hour).UTC()
	seen := now.MonitoringSince.Add(-time.Hour).UTC()
	recs := []core.UserRecord{
		{ID: "10", Username: "old name", MonitoringSince: early, LastSeen: seen, GitHubLogin: "octo"},
		{ID: "99", Username: "gone", MonitoringSince: early, LastSeen: seen},
	}
	n, err := h.RestoreRecords(ctx, recs, true)
	if err != nil || n != 2 {
		t.Fatalf("dry run: %d changed, %v", n, err)
	}
	if _, ok := h.Record("99"); ok {
		t.Fatal("a dry run wrote a record")
	}
	if n, err = h.RestoreRecords(ctx, recs, false); err != nil || n != 2 {
		t.Fatalf("restore: %d changed, %v", n, err)
	}
	got, _ := h.Record("10")
	if !got.MonitoringSince.Equal(early) || got.GitHubLogin != "octo" || got.Username != "u10" {
		t.Fatalf("monitored record %+v: the earlier start and the link restored, Discord's name kept", got)
	}
	if u, _ := h.Get("10"); !u.MonitoringSince().Equal(early) {
		t.Fatalf("snapshot monitoring since %v", u.MonitoringSince())
	}
	if r, ok := store.Record("99"); !ok || r.Username != "gone" || !r.LastSeen.Equal(seen) {
		t.Fatalf("stored record %+v %v", r, ok)
	}
	if r, ok := store.Record("10"); !ok || !r.MonitoringSince.Equal(early) || r.GitHubLogin != "octo" {
		t.Fatalf("stored monitored record %+v %v", r, ok)
	}
	if n, err = h.RestoreRecords(ctx, recs, false); err != nil || n != 0 {
		t.Fatalf("second restore: %d changed, %v", n, err)
	}
}

// TestRestoreTokenHash: a restored hash verifies the token it was made
// from at once; the same hash again changes nothing; KeyCheck tells
// secrets apart.
func TestRestoreTokenHash(t *testing.T) {
	ctx := context.Background()
	secret := bytes.Repeat([]byte("s"), 32)
	from, _ := core.NewTokens(secret, memstore.New())
	tok, err := from.Issue(ctx, "10")
	if err != nil {
		t.Fatal(err)
	}
	snap := from.HashSnapshot()
	if len(snap) != 1 || snap[0].UserID != "10" {
		t.Fatalf("snapshot %+v", snap)
	}

	store := memstore.New()
	to, _ := core.NewTokens(secret, store)
	if _, err := to.Verify(tok); err == nil {
		t.Fatal("token valid before the restore")
	}
	if changed, err := to.RestoreHash(ctx, "10", snap[0].Hash, true); err != nil || !changed {
		t.Fatalf("dry run: %v %v", changed, err)
	}
	if _, err := to.Verify(tok); err == nil {
		t.Fatal("a dry run installed the hash")
	}
	if changed, err := to.RestoreHash(ctx, "10", snap[0].Hash, false); err != nil || !changed {
		t.Fatalf("restore: %v %v", changed, err)
	}
	if owner, err := to.Verify(tok); err != nil || owner != "10" {
		t.Fatalf("verify after restore: %q %v", owner, err)
	}
	if h, ok := store.TokenHash("10"); !ok || !bytes.Equal(h, snap[0].Hash) {
		t.Fatal("hash not stored")
	}
	if changed, err := to.RestoreHash(ctx, "10", snap[0].Hash, false); err != nil || changed {
		t.Fatalf("second restore: %v %v", changed, err)
	}
	if _, err := to.RestoreHash(ctx, "10", []byte("short"), false); core.ErrorCode(err) != core.EINVALID {
		t.Fatalf("short hash: %v", err)
	}
	other, _ := core.NewTokens(bytes.Repeat([]byte("o"), 32), memstore.New())
	if from.KeyCheck() != to.KeyCheck() || from.KeyCheck() == other.KeyCheck() {
		t.Fatal("KeyCheck does not tell secrets apart")
	}
}

// TestSnapshotOrder: KV maps and records come in numeric id order, and
// records include monitored and remembered users.
func TestSnapshotOrder(t *testing.T) {
	ctx := context.Background()
	h := openRestoreHub(t, memstore.New())
	for _, id := range []string{"100", "9", "20"} {
		h.UpsertMember("g", core.Member{User: core.TestUser(id)})
		if err := h.PutKV(ctx, id, "k", id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.RestoreRecords(ctx, []core.UserRecord{{ID: "15", Username: "left"}}, false); err != nil {
		t.Fatal(err)
	}
	kvs, recs := h.Snapshot()
	var kvIDs, recIDs []string
	for _, u := range kvs {
		kvIDs = append(kvIDs, u.UserID)
	}
	for _, r := range recs {
		recIDs = append(recIDs, r.ID)
	}
	if got := fmtIDs(kvIDs); got != "9,20,100" {
		t.Fatalf("KV order %s", got)
	}
	if got := fmtIDs(recIDs); got != "9,15,20,100" {
		t.Fatalf("record order %s", got)
	}
}

func fmtIDs(ids []string) string {
	var b bytes.Buffer
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(id)
	}
	return b.String()
}
