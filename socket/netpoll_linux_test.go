//go:build linux

package socket

import "testing"

// readyCount is a poll target that counts its readiness.
type readyCount struct{ n int }

func (r *readyCount) ready() { r.n++ }

// TestPollerTable: a slot is reused once its socket left, under a new
// generation, so the id of the socket that left finds nothing (a late
// event cannot reach the socket now in its slot), and removing a stale id
// leaves the new occupant in place.
func TestPollerTable(t *testing.T) {
	p := &poller{}
	a, b, c := &readyCount{}, &readyCount{}, &readyCount{}
	idA := p.insertLocked(a)
	idB := p.insertLocked(b)
	if idA == 0 || idB == 0 || idA == idB {
		t.Fatalf("ids %x, %x: want two distinct non-zero ids", idA, idB)
	}
	p.removeLocked(idA)
	if p.target(idA) != nil {
		t.Fatal("a socket that left is still found")
	}
	idC := p.insertLocked(c)
	if uint32(idC) != uint32(idA) || idC == idA {
		t.Fatalf("id %x after %x left: want its slot under a new generation", idC, idA)
	}
	if p.target(idA) != nil {
		t.Error("the id of the socket that left reaches the slot's new occupant")
	}
	p.removeLocked(idA) // stale: must not evict c
	if p.target(idC) != pollTarget(c) || p.target(idB) != pollTarget(b) {
		t.Error("removing a stale id evicted a live socket")
	}
	if p.target(uint64(99)) != nil {
		t.Error("an id beyond the table found a socket")
	}
}
