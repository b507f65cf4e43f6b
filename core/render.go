package core

import (
	"sync"
	"sync/atomic"
)

// atomicBytes is one cached rendering.
type atomicBytes = atomic.Pointer[[]byte]

// RendererID names a renderer registered with Hub.RegisterRenderer.
type RendererID int

// RenderFunc turns a user snapshot into wire bytes (a dialect's JSON).
// It must not keep or change u.
type RenderFunc func(u *User) []byte

// renderCache holds one lazily built rendering per registered renderer.
// Snapshots are immutable, so a rendering stays valid for the snapshot's
// whole life and is rebuilt only for the next snapshot. The slots
// themselves are allocated on the first rendering: most monitored users
// are never read, and then the cache costs one pointer.
type renderCache struct {
	slots atomic.Pointer[[]atomicBytes]
}

// get returns u's rendering by renderer id (of n registered), building and
// caching it on first use; mem may evict it later.
func (c *renderCache) get(id RendererID, n int, u *User, fn RenderFunc, mem *renderBudget) []byte {
	if int(id) >= n {
		return fn(u)
	}
	slots := c.slots.Load()
	if slots == nil || len(*slots) < n {
		fresh := make([]atomicBytes, n)
		if slots != nil {
			for i := range *slots {
				fresh[i].Store((*slots)[i].Load())
			}
		}
		if !c.slots.CompareAndSwap(slots, &fresh) {
			return c.get(id, n, u, fn, mem) // another reader got there first
		}
		slots = &fresh
	}
	slot := &(*slots)[id]
	if b := slot.Load(); b != nil {
		return *b
	}
	b := fn(u)
	if slot.CompareAndSwap(nil, &b) {
		mem.add(slot, &b)
		return b
	}
	// Another reader rendered it meanwhile (a fan-out's first workers all
	// start at once): hand out its bytes, so that every subscriber gets the
	// one slice and the sockets frame it once (socket.PreparedFrames).
	if w := slot.Load(); w != nil {
		return *w
	}
	return b
}

// renderBudget bounds the bytes held by cached renderings across all
// snapshots. Renderings are evicted oldest first once the total passes the
// limit; an evicted one is simply rebuilt when read again. Without it,
// reading every user once (a bulk listing, a load test) would keep a copy
// of every user in every dialect for as long as their presence lasts.
type renderBudget struct {
	mu    sync.Mutex
	limit int64
	bytes int64
	queue []cachedRender // FIFO; queue[head:] are live
	head  int
}

type cachedRender struct {
	slot *atomicBytes
	b    *[]byte
}

// add accounts for a rendering just stored in slot and evicts the oldest
// ones while over the limit.
func (m *renderBudget) add(slot *atomicBytes, b *[]byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.queue = append(m.queue, cachedRender{slot, b})
	m.bytes += int64(cap(*b))
	for m.bytes > m.limit && m.head < len(m.queue) {
		old := m.queue[m.head]
		m.queue[m.head] = cachedRender{}
		m.head++
		m.bytes -= int64(cap(*old.b))
		old.slot.CompareAndSwap(old.b, nil) // unless already replaced
	}
	if m.head > 1024 && m.head > len(m.queue)/2 {
		m.queue = append(m.queue[:0], m.queue[m.head:]...)
		m.head = 0
	}
}
