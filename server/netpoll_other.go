//go:build !linux

package server

// pollState holds the fallback waiter's turn (socket_waiter.go).
type pollState struct {
	turn chan struct{}
}

// pollStart reports that this platform has no engine poller: every socket
// is read by a goroutine (socket_waiter.go).
func (s *Socket) pollStart() bool { return false }

func (s *Socket) pollRearm() {}

func (s *Socket) pollStop() {}
