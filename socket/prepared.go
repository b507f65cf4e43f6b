package socket

import (
	"sync"
	"unsafe"

	"github.com/gorilla/websocket"
)

// PreparedFrames frames a payload that many sockets send alike (one
// event's cached rendering) once, as a websocket.PreparedMessage, instead
// of once per subscriber. Payloads are recognised by identity — the hub's
// render cache hands every subscriber the same slice — among the most
// recent preparedLimit payloads (a fan-out sends one payload to all its
// subscribers within moments). A payload is prepared on its second send
// only: one sent to a single socket costs no framing copy, and a backlog
// wider than the table (sockets far behind on different payloads) costs a
// lookup, never a PreparedMessage per socket. Entries keep their payload
// alive, so an address cannot be reused by another payload while listed.
type PreparedFrames struct {
	mu    sync.Mutex
	byKey map[preparedKey]*preparedFrame
	fifo  []preparedKey // insertion order, for eviction
	head  int
}

type preparedKey struct {
	p   *byte
	n   int
	typ int
}

type preparedFrame struct {
	data []byte
	pm   *websocket.PreparedMessage
}

const preparedLimit = 1024

// Get returns the prepared message of data sent as typ (text or binary);
// nil when the caller should write data itself (its first send, or a
// payload that cannot be prepared).
func (p *PreparedFrames) Get(typ int, data []byte) *websocket.PreparedMessage {
	if len(data) == 0 {
		return nil
	}
	key := preparedKey{unsafe.SliceData(data), len(data), typ}
	p.mu.Lock()
	if p.byKey == nil {
		p.byKey = make(map[preparedKey]*preparedFrame, preparedLimit)
	}
	f, ok := p.byKey[key]
	if !ok {
		if len(p.byKey) >= preparedLimit {
			delete(p.byKey, p.fifo[p.head])
			p.fifo[p.head] = key
			p.head = (p.head + 1) % preparedLimit
		} else {
			p.fifo = append(p.fifo, key)
		}
		p.byKey[key] = &preparedFrame{data: data}
		p.mu.Unlock()
		return nil
	}
	if f.pm == nil {
		f.pm, _ = websocket.NewPreparedMessage(typ, data) // never fails uncompressed
	}
	pm := f.pm
	p.mu.Unlock()
	return pm
}
