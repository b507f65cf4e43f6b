//go:build !linux

package socket

import "net"

// pollState holds the fallback waiter's turn (waiter.go).
type pollState struct {
	turn chan struct{}
}

// poller is absent on this platform.
type poller struct{}

// pollTarget is what a poller would wake.
type pollTarget interface{ ready() }

func newPoller() *poller { return nil }

func (p *poller) close() {}

// add reports that this platform has no engine poller: every connection
// is read by a goroutine.
func (p *poller) add(net.Conn, pollTarget) (pollState, bool) { return pollState{}, false }

func (st *pollState) rearm() {}

func (st *pollState) remove() {}

// pollStart reports that this platform has no engine poller: every socket
// is read by a goroutine (waiter.go).
func (s *Socket) pollStart() bool { return false }

func (s *Socket) pollRearm() {}

func (s *Socket) pollStop() {}

// drainNonblocking is never called here: streams are read by a goroutine.
func drainNonblocking(net.Conn, int) (int, bool) { return 0, false }
