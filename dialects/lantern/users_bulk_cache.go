package lantern

import (
	"hash/maphash"
	"sync/atomic"
	"time"

	"github.com/halyardhq/halyard/core"
)

// bulkCacheSlots is how many bulk answers are kept, each in the slot its
// query hashes to.
const bulkCacheSlots = 16

// maxCachedBulk keeps an unusually large bulk answer out of the cache.
const maxCachedBulk = 512 << 10

// bulkCache keeps the last answers of the bulk route by raw query: a
// client polling the same set of users (a team page, the load tool) gets
// the bytes of the previous answer while none of its users changed, rather
// than the parse, the validation and 50 renderings copied into a new body.
//
// An answer is a function of the query, the users' snapshots and the
// Spotify clocks at the time of reading (every other part of a rendering
// is the snapshot's, docs/compat/lantern.md §3.4): a cached answer is
// served only when each id still has the same snapshot (or is still not
// monitored) and each Spotify clock still reads the same, so what it
// serves is what the route would build. A query is cached when it is seen
// the second time in a row in its slot, so that a stream of one-off sets
// costs no copy of each answer.
type bulkCache struct {
	seed  maphash.Seed
	slots [bulkCacheSlots]atomic.Pointer[bulkAnswer]
}

func newBulkCache() *bulkCache { return &bulkCache{seed: maphash.MakeSeed()} }

// bulkAnswer is a query's answer as built, or only the query when it was
// seen once (body nil). It is never changed once stored.
type bulkAnswer struct {
	query  string
	ids    []string     // the ids asked for, in request order
	users  []*core.User // each id's snapshot, nil when it was not monitored
	clocks []bulkClock  // the Spotify clocks the body shows
	body   []byte
}

// bulkClock is one Spotify activity's timestamps and the clock values the
// cached body shows for them.
type bulkClock struct {
	start, stop int64
	cur, end    string
}

func (c *bulkCache) slot(query string) *atomic.Pointer[bulkAnswer] {
	return &c.slots[maphash.String(c.seed, query)%bulkCacheSlots]
}

// get returns the cached body for query when it is still the route's
// answer at now, nil otherwise.
func (c *bulkCache) get(query string, hub *core.Hub, now time.Time) []byte {
	a := c.slot(query).Load()
	if a == nil || a.body == nil || a.query != query {
		return nil
	}
	for i, id := range a.ids {
		u, _ := hub.Get(id)
		if u != a.users[i] {
			return nil
		}
	}
	for _, k := range a.clocks {
		if cur, end := clockAt(k.start, k.stop, now); cur != k.cur || end != k.end {
			return nil
		}
	}
	return a.body
}

// put records the answer body just built for query from ids and users
// (nil where not monitored) at now; body is copied only when the query was
// the slot's last one too.
func (c *bulkCache) put(query string, ids []string, users []*core.User, body []byte, now time.Time, stamps func(*core.User) spotifyStamps) {
	slot := c.slot(query)
	if prev := slot.Load(); prev == nil || prev.query != query || len(body) > maxCachedBulk {
		slot.Store(&bulkAnswer{query: query})
		return
	}
	a := &bulkAnswer{query: query, ids: ids, users: users, body: append([]byte(nil), body...)}
	for _, u := range users {
		if u == nil {
			continue
		}
		if s := stamps(u); s.ticking() {
			cur, end := clockAt(s.start, s.end, now)
			a.clocks = append(a.clocks, bulkClock{start: s.start, stop: s.end, cur: cur, end: end})
		}
	}
	slot.Store(a)
}
