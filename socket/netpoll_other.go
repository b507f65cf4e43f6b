//go:build !linux

package socket

// pollState holds the fallback waiter's turn (waiter.go).
type pollState struct {
	turn chan struct{}
}

// poller is absent on this platform.
type poller struct{}

func newPoller() *poller { return nil }

func (p *poller) close() {}

// pollStart reports that this platform has no engine poller: every socket
// is read by a goroutine (waiter.go).
func (s *Socket) pollStart() bool { return false }

func (s *Socket) pollRearm() {}

func (s *Socket) pollStop() {}
