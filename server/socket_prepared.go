package server

import (
	"sync"
	"unsafe"

	"github.com/gorilla/websocket"
)

// PreparedFrames frames a payload that many sockets send alike (one
// event's cached rendering) once, as a websocket.PreparedMessage, instead
// of once per subscriber. Payloads are recognised by identity — the
// hub's render cache hands every subscriber the same slice — in a small
// ring of the most recent ones: a fan-out sends one payload to all its
// subscribers within moments. Entries keep their payload alive, so an
// address cannot be reused by another payload while it is in the ring.
type PreparedFrames struct {
	mu   sync.Mutex
	ring [64]preparedFrame
	next int
}

type preparedFrame struct {
	data []byte
	typ  int
	pm   *websocket.PreparedMessage
}

// Get returns the prepared message of data sent as typ (text or binary);
// nil when it cannot be built (the caller then writes data itself).
func (p *PreparedFrames) Get(typ int, data []byte) *websocket.PreparedMessage {
	if len(data) == 0 {
		return nil
	}
	key := unsafe.SliceData(data)
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range p.ring {
		e := &p.ring[i]
		if e.pm != nil && e.typ == typ && len(e.data) == len(data) && unsafe.SliceData(e.data) == key {
			return e.pm
		}
	}
	pm, err := websocket.NewPreparedMessage(typ, data)
	if err != nil {
		return nil
	}
	p.ring[p.next] = preparedFrame{data: data, typ: typ, pm: pm}
	p.next = (p.next + 1) % len(p.ring)
	return pm
}
