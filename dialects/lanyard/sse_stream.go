package lanyard

import (
	"sync/atomic"
	"time"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/socket"
)

// sseStream is one server-sent-events stream. It holds no goroutine: the
// engine watches its connection, the hub wakes its actor when events are
// pending, a timer when a ping is due, and run — on the engine's pool —
// writes.
type sseStream struct {
	s      *streams
	stream *socket.Stream
	sub    *core.Subscription

	ready     atomic.Bool // set up and started: run may act
	ping      atomic.Bool
	pingTimer *time.Timer

	// owned by the actor
	initial  []*core.User // the state to send first; nil once sent
	started  bool
	finished bool
	events   []core.Event
}

func (st *sseStream) pingDue() {
	st.ping.Store(true)
	st.stream.Actor.Wake()
}

// run is the actor: the initial state first, then every change in order,
// and a ping when due, until the client leaves or the server closes.
func (st *sseStream) run() {
	if !st.ready.Load() || st.finished {
		return
	}
	switch {
	case st.stream.Gone():
		st.end("client_closed")
		return
	case st.stream.Closing():
		st.end("going_away")
		return
	}
	if !st.started {
		st.started = true
		// retry: and the initial state in one write.
		out := append([]byte(nil), st.s.retry...)
		for _, u := range st.initial {
			out = append(out, st.s.hub.Render(st.s.frame, u)...)
		}
		st.initial = nil
		if !st.stream.Write(out) {
			st.end("write_failed")
			return
		}
	}
	if st.sub.Overflowed() { // the hub dropped a client too slow to read
		st.end("too_slow")
		return
	}
	st.events = st.sub.Drain(st.events[:0])
	for _, ev := range st.events {
		if ev.Type == core.MemberLeft {
			continue // as on Lanyard's socket, leaving sends nothing; the user streams again on return
		}
		if !st.stream.Write(st.s.hub.Render(st.s.frame, ev.User)) {
			st.end("write_failed")
			return
		}
	}
	clear(st.events)
	if cap(st.events) > 64 {
		st.events = nil
	}
	if st.ping.Swap(false) {
		if !st.stream.Write(st.s.ping) {
			st.end("write_failed")
			return
		}
		st.pingTimer.Reset(st.s.opts.Ping)
	}
}

// end ends the stream and lets go of its subscription and timer.
func (st *sseStream) end(label string) {
	st.finished = true
	st.pingTimer.Stop()
	st.sub.Close()
	st.stream.End(label)
}
