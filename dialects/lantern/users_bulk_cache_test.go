package lantern

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/internal/memstore"
)

// TestBulkCache: a repeated bulk query is answered from the bulk cache,
// and every answer, cached or built, is the one the route builds — the
// users' single answers in request order — through each change that makes
// a new one: a presence, a user joining, an opt-out, the Spotify clock
// moving, a storage write.
func TestBulkCache(t *testing.T) {
	s := newTestServer(t, memstore.New())
	const idD = "444444444444444444" // joins during the test
	s.member(aliceJSON, alicePresence(t))
	s.simpleMember(idB)
	s.simpleMember(idC)
	ids := []string{idA, idD, idB, idC}
	raw := strings.TrimPrefix(idsQuery(ids...), "?")
	ctx := context.Background()

	last := ""
	step := func(name string, change func()) {
		t.Helper()
		change()
		var users []string
		for _, id := range ids {
			if r := s.do("GET", "/api/v1/users/"+id, ""); r.status == 200 {
				users = append(users, string(r.body))
			}
		}
		want := "[" + strings.Join(users, ",") + "]"
		if want == last {
			t.Fatalf("%s: the change shows in no user's answer", name)
		}
		last = want
		for i := range 3 {
			if r := s.do("GET", "/api/v1/users?"+raw, ""); r.status != 200 || string(r.body) != want {
				t.Fatalf("%s, request %d: %d %s\nwant %s", name, i+1, r.status, r.body, want)
			}
		}
		if s.dialect.bulk.get(raw, s.hub, s.dialectClock()) == nil {
			t.Fatalf("%s: the repeated query is not answered from the cache", name)
		}
	}
	step("first", func() {})
	step("a presence", func() {
		s.hub.UpdatePresence(idB, &core.Presence{Status: core.StatusDND, ClientStatus: &core.ClientStatus{Web: core.StatusDND}})
	})
	step("a user joins", func() { s.simpleMember(idD) })
	step("an opt-out", func() {
		if _, err := s.hub.SetOptOut(ctx, idC, true); err != nil {
			t.Fatal(err)
		}
	})
	step("the Spotify clock moves", func() { s.setDialectNow(testNow.Add(time.Second)) })
	if !strings.Contains(last, `"current_human_readable":"01:06","end_human_readable":"03:05"`) {
		t.Fatalf("the clock did not move in the answers: %s", last)
	}
	step("a storage write", func() {
		if err := s.hub.PutKV(ctx, idA, "k", "v"); err != nil {
			t.Fatal(err)
		}
	})
}

// TestBulkCacheOneOffQueries: a query seen once is not copied into the
// cache (only a second sighting in its slot is), and each answer is still
// the route's.
func TestBulkCacheOneOffQueries(t *testing.T) {
	s := newTestServer(t, nil)
	s.simpleMember(idA)
	s.simpleMember(idB)
	for _, q := range []string{idsQuery(idA, idB), idsQuery(idB, idA), idsQuery(idA), idsQuery(idB)} {
		r := s.do("GET", "/api/v1/users"+q, "")
		if r.status != 200 {
			t.Fatalf("%s: %d %s", q, r.status, r.body)
		}
		if a := s.dialect.bulk.slot(q[1:]).Load(); a == nil || a.query != q[1:] || a.body != nil {
			t.Fatalf("%s: after one request the slot holds %+v, want the query alone", q, a)
		}
	}
}
