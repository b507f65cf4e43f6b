package core

import (
	"fmt"
	"testing"
	"time"
)

// kinds lists the drained events as "type:user" for comparisons.
func kinds(evs []Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = fmt.Sprintf("%v:%s", ev.Type, ev.User.ID)
	}
	return out
}

// TestSubscribeNotifyWakesOnFirstEvent: notify runs when the queue goes
// from empty to non-empty, not for every event, and again after a Drain.
func TestSubscribeNotifyWakesOnFirstEvent(t *testing.T) {
	h := openHub(t)
	h.UpsertMember("g", Member{User: testUser("1")})
	c := subscribe(h, 0)
	c.Add("1")
	h.UpdatePresence("1", online("a"))
	h.UpdatePresence("1", online("b"))
	if c.woken.Load() != 1 {
		t.Fatalf("woken %d times for two events, want once", c.woken.Load())
	}
	if got := c.Drain(nil); len(got) != 2 {
		t.Fatalf("drained %d events, want 2", len(got))
	}
	if got := c.Drain(nil); len(got) != 0 {
		t.Fatalf("second drain got %d events", len(got))
	}
	h.UpdatePresence("1", online("c"))
	if c.woken.Load() != 2 {
		t.Fatalf("not woken after the queue emptied: %d", c.woken.Load())
	}
}

// TestSubscribeNotifyMergesForAll: a subscription that follows everyone
// keeps only the latest update of one kind per user, in the place of the
// first; kinds never merge with each other, joins and leaves never merge,
// and a subscription by id gets every update, in order.
func TestSubscribeNotifyMergesForAll(t *testing.T) {
	h := openHub(t)
	ctx := t.Context()
	for _, id := range []string{"1", "2"} {
		h.UpsertMember("g", Member{User: testUser(id)})
	}
	all := subscribe(h, 0)
	all.SetAll(true)
	byID := subscribe(h, 0)
	byID.Add("1", "2")

	h.UpdatePresence("1", online("a"))
	h.UpdatePresence("2", online("a"))
	h.UpdatePresence("1", online("b"))
	if err := h.PutKV(ctx, "1", "k", "1"); err != nil {
		t.Fatal(err)
	}
	h.UpdatePresence("1", online("c")) // the last event of 1 is a KV one: queued anew
	if err := h.PutKV(ctx, "1", "k", "2"); err != nil {
		t.Fatal(err)
	}
	h.RemoveMember("g", "2")
	h.UpsertMember("g", Member{User: testUser("2")})

	got := all.Drain(nil)
	want := []string{"PresenceUpdated:1", "PresenceUpdated:2", "KVUpdated:1", "PresenceUpdated:1", "KVUpdated:1", "MemberLeft:2", "MemberJoined:2"}
	if fmt.Sprint(kinds(got)) != fmt.Sprint(want) {
		t.Fatalf("ALL queue %v, want %v", kinds(got), want)
	}
	if got[0].User.Activities()[0].Name != "b" || got[3].User.Activities()[0].Name != "c" {
		t.Fatal("a merged entry must hold the latest snapshot")
	}
	if v := got[4].User.KV.Value("k"); v != "2" {
		t.Fatalf("merged KV entry holds k=%q, want 2", v)
	}
	if byIDGot := byID.Drain(nil); len(byIDGot) != 8 {
		t.Fatalf("by-id subscription got %d events, want all 8: %v", len(byIDGot), kinds(byIDGot))
	}
}

// TestSubscribeNotifyMergesPastIndex: past mergeScan pending events the
// last event of each user is found through an index; merging still goes to
// the right entry, and a Drain forgets the index (nothing merges into an
// event already handed out).
func TestSubscribeNotifyMergesPastIndex(t *testing.T) {
	h := openHub(t)
	const users = 3 * mergeScan
	for i := range users {
		h.UpsertMember("g", Member{User: testUser(fmt.Sprint(i))})
	}
	all := subscribe(h, users)
	all.SetAll(true)
	for round := range 5 {
		for i := range users {
			h.UpdatePresence(fmt.Sprint(i), online(fmt.Sprint("r", round)))
		}
	}
	got := all.Drain(nil)
	if len(got) != users || all.Overflowed() {
		t.Fatalf("%d events after 5 rounds over %d users (overflowed %v), want one per user", len(got), users, all.Overflowed())
	}
	for i, ev := range got {
		if ev.User.ID != fmt.Sprint(i) || ev.User.Activities()[0].Name != "r4" {
			t.Fatalf("entry %d: user %s %s, want user %d at the last round", i, ev.User.ID, ev.User.Activities()[0].Name, i)
		}
	}
	h.UpdatePresence("0", online("after"))
	if got := all.Drain(nil); len(got) != 1 || got[0].User.Activities()[0].Name != "after" {
		t.Fatalf("after a drain: %v", kinds(got))
	}
}

// TestSubscribeNotifyOverflow: the queue bound counts distinct entries, so
// an ALL subscription survives any number of updates of queue users and is
// dropped by the next user; the drop closes it, wakes the owner and counts
// in the hub's stats, and nothing is queued after it.
func TestSubscribeNotifyOverflow(t *testing.T) {
	h := openHub(t)
	const queue = 8
	for i := range queue + 1 {
		h.UpsertMember("g", Member{User: testUser(fmt.Sprint(i))})
	}
	all := subscribe(h, queue)
	all.SetAll(true)
	for round := range 50 {
		for i := range queue {
			h.UpdatePresence(fmt.Sprint(i), online(fmt.Sprint(round)))
		}
	}
	if all.Overflowed() || all.woken.Load() != 1 || h.Stats().Dropped != 0 {
		t.Fatalf("dropped after updates of %d users (overflowed %v, woken %d)", queue, all.Overflowed(), all.woken.Load())
	}
	h.UpdatePresence(fmt.Sprint(queue), online("one more"))
	if !all.Overflowed() || all.woken.Load() != 2 || h.Stats().Dropped != 1 {
		t.Fatalf("not dropped by user %d (overflowed %v, woken %d, dropped %d)", queue+1, all.Overflowed(), all.woken.Load(), h.Stats().Dropped)
	}
	if n := len(all.Drain(nil)); n != queue+1 {
		t.Fatalf("%d events queued at the drop, want %d", n, queue+1)
	}
	h.UpdatePresence("0", online("after the drop"))
	if n := len(all.Drain(nil)); n != 0 || all.Follows("0") {
		t.Fatalf("a dropped subscription still receives (%d events)", n)
	}
	if h.Stats().Dropped != 1 {
		t.Fatalf("dropped counted %d times", h.Stats().Dropped)
	}
}

// TestSubscriptionClose: nothing is queued after Close, and closing twice
// is safe.
func TestSubscriptionClose(t *testing.T) {
	h := openHub(t)
	h.UpsertMember("g", Member{User: testUser("1")})
	c := subscribe(h, 0)
	c.Add("1")
	c.Close()
	c.Close()
	h.UpdatePresence("1", online("a"))
	if n := len(c.Drain(nil)); n != 0 || c.woken.Load() != 0 || c.Overflowed() {
		t.Fatalf("closed subscription got %d events, woken %d", n, c.woken.Load())
	}
	c.Add("1") // after Close: ignored
	h.UpdatePresence("1", online("b"))
	if n := len(c.Drain(nil)); n != 0 {
		t.Fatalf("re-added after Close got %d events", n)
	}
}

// TestSubscribeNotifyIndexAfterSetAll: events queued while a subscription
// did not follow everyone are not in the merge index, so following
// everyone again must not merge a newer update into an older entry (which
// would put it before the user's later events).
func TestSubscribeNotifyIndexAfterSetAll(t *testing.T) {
	h := openHub(t)
	const users = mergeScan + 4
	for i := range users {
		h.UpsertMember("g", Member{User: testUser(fmt.Sprint(i))})
	}
	c := subscribe(h, 0)
	c.SetAll(true)
	c.Add("0")
	for i := range users {
		h.UpdatePresence(fmt.Sprint(i), online("first")) // past mergeScan: indexed
	}
	c.SetAll(false)
	if err := h.PutKV(t.Context(), "0", "k", "v"); err != nil {
		t.Fatal(err)
	}
	c.SetAll(true)
	h.UpdatePresence("0", online("second"))
	got := c.Drain(nil)
	if len(got) != users+2 {
		t.Fatalf("%d events, want %d: %v", len(got), users+2, kinds(got))
	}
	if got[0].User.Activities()[0].Name != "first" || got[users].Type != KVUpdated ||
		got[users+1].Type != PresenceUpdated || got[users+1].User.Activities()[0].Name != "second" {
		t.Fatalf("queue %v: the second presence must follow the KV update", kinds(got))
	}
}

// TestFanOutNotifiesLargeFanOutAfterPublish: in a fan-out to more than
// notifyInline subscribers, whose owners are notified on the notifier's
// goroutine once the hub's locks are released, every owner is still
// notified once per empty→non-empty transition and once for its drop, and
// each subscription's events stay complete and in order.
func TestFanOutNotifiesLargeFanOutAfterPublish(t *testing.T) {
	h := openHub(t)
	h.UpsertMember("g", Member{User: testUser("1")})
	const subs = 3 * notifyInline
	woken := make(chan int, 4*subs)
	list := make([]*Subscription, subs)
	for i := range list {
		list[i] = h.SubscribeNotify(4, func() { woken <- i })
		list[i].Add("1")
	}
	// wait takes want notifications and returns how often each
	// subscription was notified among them.
	wait := func(want int) []int {
		t.Helper()
		got := make([]int, subs)
		for range want {
			select {
			case i := <-woken:
				got[i]++
			case <-time.After(30 * time.Second): // a liveness guard, not a timing
				t.Fatalf("notifications missing: %v", got)
			}
		}
		return got
	}
	h.UpdatePresence("1", online("a"))
	a, _ := h.Get("1")
	h.UpdatePresence("1", online("b")) // queued behind "a": no second notify
	b, _ := h.Get("1")
	for i, n := range wait(subs) {
		if n != 1 {
			t.Fatalf("subscription %d notified %d times for its first event", i, n)
		}
	}
	for i, s := range list {
		got := s.Drain(nil)
		if len(got) != 2 || got[0].User != a || got[1].User != b {
			t.Fatalf("subscription %d drained %v", i, kinds(got))
		}
	}
	// Every queue is empty again: the next event notifies all once more;
	// then the queues (4) overflow on the fifth pending event, and each
	// drop is notified too.
	for k := range 5 {
		h.UpdatePresence("1", online(fmt.Sprint(k)))
	}
	for i, n := range wait(2 * subs) {
		if n != 2 {
			t.Fatalf("subscription %d notified %d times for its first event and its drop, want 2", i, n)
		}
	}
	for i, s := range list {
		if !s.Overflowed() {
			t.Fatalf("subscription %d not dropped", i)
		}
	}
	if d := h.Stats().Dropped; d != subs {
		t.Fatalf("dropped %d, want %d", d, subs)
	}
	select {
	case i := <-woken:
		t.Fatalf("subscription %d notified once more", i)
	default:
	}
}
