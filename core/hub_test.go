package core

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

func testUser(id string) DiscordUser {
	return DiscordUser{ID: id, Username: "u" + id, Raw: json.RawMessage(fmt.Sprintf(`{"id":%q,"username":"u%s"}`, id, id))}
}

func online(name string) *Presence {
	return &Presence{Status: StatusOnline, ClientStatus: &ClientStatus{Desktop: StatusOnline},
		Activities: []Activity{{Raw: json.RawMessage(fmt.Sprintf(`{"name":%q,"type":0}`, name)), Name: name}}}
}

func openHub(t *testing.T) *Hub {
	t.Helper()
	h := NewHub(HubOptions{})
	if err := h.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// collector is a subscription held as a socket holds it (SubscribeNotify):
// the hub queues and wakes, the owner drains. The hub publishes before the
// call that changed a user returns, so a test drains without waiting.
type collector struct {
	*Subscription
	woken atomic.Int32 // notify calls
	buf   []Event      // drained, not yet taken by next
}

func subscribe(h *Hub, queue int) *collector {
	c := &collector{}
	c.Subscription = h.SubscribeNotify(queue, func() { c.woken.Add(1) })
	return c
}

// next takes the oldest queued event.
func next(t *testing.T, c *collector) Event {
	t.Helper()
	if c.Overflowed() {
		t.Fatal("subscription dropped")
	}
	if len(c.buf) == 0 {
		c.buf = c.Drain(c.buf)
	}
	if len(c.buf) == 0 {
		t.Fatal("no event")
	}
	ev := c.buf[0]
	c.buf = c.buf[1:]
	return ev
}

// none fails when an event is queued.
func none(t *testing.T, c *collector, why string) {
	t.Helper()
	if evs := append(c.buf, c.Drain(nil)...); len(evs) > 0 {
		t.Fatalf("%s: unexpected %v", why, evs[0].Type)
	}
}

func TestHubMembershipAndEvents(t *testing.T) {
	h := openHub(t)
	all := subscribe(h, 0)
	all.SetAll(true)
	one := subscribe(h, 0)
	one.Add("1")

	h.UpsertMember("g1", Member{User: testUser("1"), Presence: online("a"), SetPresence: true})
	if ev := next(t, all); ev.Type != MemberJoined || ev.User.Status() != StatusOnline {
		t.Fatalf("got %v", ev.Type)
	}
	next(t, one)
	h.UpsertMember("g2", Member{User: testUser("1")})
	h.UpdatePresence("1", online("b"))
	if ev := next(t, one); ev.Type != PresenceUpdated || ev.User.Activities()[0].Name != "b" {
		t.Fatalf("got %v", ev)
	}
	// The same presence again (one event per shared guild) is published once.
	h.UpdatePresence("1", online("b"))
	h.UpdatePresence("2", online("b")) // not monitored: ignored
	none(t, one, "same presence again")
	h.RemoveMember("g1", "1")
	if !h.IsMonitored("1") {
		t.Fatal("still in g2, must stay monitored")
	}
	h.RemoveMember("g2", "1")
	if h.IsMonitored("1") {
		t.Fatal("in no guild, must not be monitored")
	}
	if ev := next(t, one); ev.Type != MemberLeft {
		t.Fatalf("got %v", ev.Type)
	}
	// Rejoining keeps the subscription.
	h.UpsertMember("g1", Member{User: testUser("1")})
	if ev := next(t, one); ev.Type != MemberJoined || ev.User.Presence != nil {
		t.Fatalf("got %v", ev.Type)
	}
}

func TestHubPruneGuild(t *testing.T) {
	h := openHub(t)
	for _, id := range []string{"1", "2", "3"} {
		h.UpsertMember("g", Member{User: testUser(id)})
	}
	h.UpsertMember("other", Member{User: testUser("3")})
	h.PruneGuild("g", func(id string) bool { return id == "1" })
	if !h.IsMonitored("1") || h.IsMonitored("2") || !h.IsMonitored("3") {
		t.Fatalf("after prune: 1=%v 2=%v 3=%v", h.IsMonitored("1"), h.IsMonitored("2"), h.IsMonitored("3"))
	}
}

func TestHubSlowSubscriberDropped(t *testing.T) {
	h := openHub(t)
	h.UpsertMember("g", Member{User: testUser("1")})
	slow := subscribe(h, 4)
	slow.Add("1")
	fast := subscribe(h, 0)
	fast.Add("1")
	for i := range 100 {
		h.UpdatePresence("1", online(fmt.Sprint(i)))
		if i == 3 && slow.Overflowed() {
			t.Fatal("slow subscriber dropped with 4 events queued, its bound")
		}
		if i%10 == 9 { // fast drains as it goes, as a socket does
			fast.buf = fast.Drain(fast.buf)
		}
	}
	if len(fast.buf) != 100 || fast.buf[99].User.Activities()[0].Name != "99" {
		t.Fatalf("fast subscriber got %d events, want every one of 100", len(fast.buf))
	}
	if !slow.Overflowed() || slow.woken.Load() != 2 { // first event, then the drop
		t.Fatalf("slow subscriber not dropped (overflowed %v, woken %d)", slow.Overflowed(), slow.woken.Load())
	}
	if n := len(slow.Drain(nil)); n != 5 {
		t.Fatalf("slow subscriber queued %d events, want its 4 and the one that overflowed it", n)
	}
	if h.Stats().Dropped != 1 {
		t.Fatalf("dropped = %d", h.Stats().Dropped)
	}
	fast.Close()
	fast.Close()
}

func TestHubRenderCachedPerSnapshot(t *testing.T) {
	h := NewHub(HubOptions{})
	calls := 0
	id := h.RegisterRenderer(func(u *User) []byte { calls++; return []byte(u.Status()) })
	h.UpsertMember("g", Member{User: testUser("1"), Presence: online("a"), SetPresence: true})
	u, _ := h.Get("1")
	for range 3 {
		if string(h.Render(id, u)) != "online" {
			t.Fatal("render")
		}
	}
	if calls != 1 {
		t.Fatalf("rendered %d times for one snapshot", calls)
	}
	h.UpdatePresence("1", &Presence{Status: StatusIdle})
	u, _ = h.Get("1")
	if string(h.Render(id, u)) != "idle" || calls != 2 {
		t.Fatalf("not re-rendered after change: calls=%d", calls)
	}
}

func TestHubKVRequiresMonitored(t *testing.T) {
	h := openHub(t)
	ctx := context.Background()
	if err := h.PutKV(ctx, "9", "k", "v"); ErrorCode(err) != ENOTMONITORED {
		t.Fatalf("got %v", err)
	}
	h.UpsertMember("g", Member{User: testUser("9")})
	s := subscribe(h, 0)
	s.Add("9")
	if err := h.PutKV(ctx, "9", "k", "v"); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, s); ev.Type != KVUpdated || !ev.User.KV.Equal(KVOf("k", "v")) {
		t.Fatalf("got %v", ev)
	}
	if err := h.PatchKV(ctx, "9", KVOf("ok", "1", "bad-key", "2")); ErrorCode(err) != EINVALID {
		t.Fatalf("got %v", err)
	}
	if h.KV("9").Has("ok") {
		t.Fatal("half-written patch")
	}
	big := KV{}
	for i := range MaxKVPairs {
		big.Set(fmt.Sprint("k", i), "v")
	}
	if err := h.PatchKV(ctx, "9", big); ErrorCode(err) != EINVALID {
		t.Fatalf("513 pairs accepted: %v", err)
	}
	if err := h.DeleteKV(ctx, "9", "absent"); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, s); ev.Type != KVUpdated {
		t.Fatalf("delete of absent key: %v", ev.Type)
	}
}

func TestHubPage(t *testing.T) {
	h := NewHub(HubOptions{})
	for _, id := range []string{"10", "9", "100", "11"} {
		h.UpsertMember("g", Member{User: testUser(id)})
	}
	var got []string
	for _, u := range h.Page("", 2) {
		got = append(got, u.ID)
	}
	for _, u := range h.Page("10", 10) {
		got = append(got, u.ID)
	}
	if fmt.Sprint(got) != "[9 10 11 100]" {
		t.Fatalf("page order %v", got)
	}
}

func TestHubClearKV(t *testing.T) {
	h := openHub(t)
	ctx := context.Background()
	h.UpsertMember("g", Member{User: testUser("5")})
	if err := h.PatchKV(ctx, "5", KVOf("a", "1", "b", "2")); err != nil {
		t.Fatal(err)
	}
	s := subscribe(h, 0)
	s.Add("5")
	if err := h.ClearKV(ctx, "5"); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, s); ev.Type != KVUpdated || ev.User.KV.Len() != 0 {
		t.Fatalf("got %v %v", ev.Type, ev.User.KV)
	}
	none(t, s, "one clear published twice")
	if h.HasKV("5") {
		t.Fatal("pairs left")
	}
}

func TestHubSynced(t *testing.T) {
	h := NewHub(HubOptions{})
	if h.IsSynced() {
		t.Fatal("synced before MarkSynced")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := h.WaitSynced(ctx); err == nil {
		t.Fatal("WaitSynced returned before MarkSynced")
	}
	h.MarkSynced()
	h.MarkSynced()
	if !h.IsSynced() || h.WaitSynced(context.Background()) != nil {
		t.Fatal("not synced after MarkSynced")
	}
}
