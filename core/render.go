package core

import "sync/atomic"

// atomicBytes is one cached rendering.
type atomicBytes = atomic.Pointer[[]byte]

// RendererID names a renderer registered with Hub.RegisterRenderer.
type RendererID int

// RenderFunc turns a user snapshot into wire bytes (a dialect's JSON).
// It must not keep or change u.
type RenderFunc func(u *User) []byte

// renderCache holds one lazily built rendering per registered renderer.
// Snapshots are immutable, so a rendering stays valid for the snapshot's
// whole life and is rebuilt only for the next snapshot.
type renderCache struct {
	slots []atomicBytes
}

func (c *renderCache) get(id RendererID, u *User, fn RenderFunc) []byte {
	if int(id) >= len(c.slots) {
		return fn(u)
	}
	slot := &c.slots[id]
	if b := slot.Load(); b != nil {
		return *b
	}
	b := fn(u)
	slot.Store(&b)
	return b
}
