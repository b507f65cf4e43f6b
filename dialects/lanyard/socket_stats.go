package lanyard

import (
	"sync"
	"sync/atomic"

	"github.com/halyardhq/halyard/server"
)

// socketCounters are the Lanyard sockets' metrics, updated with atomics on
// the hot paths.
type socketCounters struct {
	open, opened atomic.Int64
	in, out      atomic.Int64
	inits        [len(initLabels)][2]atomic.Int64 // [kind][zlib]
	closes       sync.Map                         // label → *atomic.Int64
}

func (s *socketCounters) initialized(kind initKind, zlib bool) {
	s.inits[kind][b2i(zlib)].Add(1)
}

// closed counts one ended socket under its close code ("4004", "1002",
// "1006" for a connection dropped without a close frame) or
// "upgrade_failed".
func (s *socketCounters) closed(label string) {
	v, ok := s.closes.Load(label)
	if !ok {
		v, _ = s.closes.LoadOrStore(label, new(atomic.Int64))
	}
	v.(*atomic.Int64).Add(1)
}

func (s *socketCounters) snapshot() server.SocketStats {
	st := server.SocketStats{
		Open: s.open.Load(), Opened: s.opened.Load(),
		Closes: map[string]int64{}, Inits: map[server.SocketInit]int64{},
		MessagesIn: s.in.Load(), MessagesOut: s.out.Load(),
	}
	s.closes.Range(func(k, v any) bool {
		st.Closes[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	for kind, label := range initLabels {
		for z, comp := range [2]string{"json", "zlib"} {
			st.Inits[server.SocketInit{Type: label, Compression: comp}] = s.inits[kind][z].Load()
		}
	}
	return st
}
