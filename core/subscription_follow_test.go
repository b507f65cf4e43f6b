package core

import (
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
)

// TestFollowSnapshotsAtOnce: Follow returns the monitored users among the
// ids, in order, and — while another goroutine keeps changing one of them
// — every event queued afterwards is newer than the snapshot it returned
// (no stale state replayed after the current one, no change lost).
func TestFollowSnapshotsAtOnce(t *testing.T) {
	h := openHub(t)
	for _, id := range []string{"1", "2"} {
		h.UpsertMember("g", Member{User: testUser(id)})
	}
	c := subscribe(h, 100_000)
	if got := c.Follow("2", "absent", "1"); len(got) != 2 || got[0].ID != "2" || got[1].ID != "1" {
		t.Fatalf("Follow: %v", got)
	}
	c.Close()

	version := func(u *User) int {
		if acts := u.Activities(); len(acts) == 1 {
			n, _ := strconv.Atoi(acts[0].Name)
			return n
		}
		return -1
	}
	const changes = 2000
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range changes {
			h.UpdatePresence("1", online(strconv.Itoa(i)))
		}
	}()
	var subs []*collector
	var initial []int
	for range 50 {
		s := subscribe(h, 100_000)
		initial = append(initial, version(s.Follow("1")[0]))
		subs = append(subs, s)
	}
	wg.Wait()
	for i, s := range subs {
		var seen []int
		for _, ev := range s.Drain(nil) {
			seen = append(seen, version(ev.User))
		}
		want := []int{}
		for v := initial[i] + 1; v < changes; v++ {
			want = append(want, v)
		}
		if !slices.Equal(seen, want) {
			t.Fatalf("subscriber %d followed at version %d, then got %s", i, initial[i], summary(seen))
		}
	}
}

func summary(v []int) string {
	if len(v) <= 6 {
		return fmt.Sprint(v)
	}
	return fmt.Sprintf("%v … %v (%d events)", v[:3], v[len(v)-3:], len(v))
}
