package socket

import "time"

var noDeadline time.Time

// wait is the fallback reader for a socket the engine cannot poll (TLS,
// or no epoll on this platform): one goroutine blocks until the client's
// next byte and then hands the socket to a read turn, as readiness would.
func (s *Socket) wait(done <-chan struct{}) {
	for {
		_ = s.Conn.NetConn().SetReadDeadline(noDeadline)
		// Wait for one byte beyond what a previous turn left buffered (an
		// incomplete header); an error shows up again in the read turn.
		_, _ = s.br.Peek(min(s.br.Buffered()+1, socketReadBuffer))
		s.mu.Lock()
		if s.stopped {
			s.mu.Unlock()
			return
		}
		s.poll.turn = make(chan struct{})
		turn := s.poll.turn
		s.readable = true
		s.mu.Unlock()
		s.actor.Wake()
		select {
		case <-turn:
		case <-done:
			return
		}
	}
}

// rearm ends a read turn: the socket waits for its next bytes.
func (s *Socket) rearm() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	if s.poll.turn != nil {
		close(s.poll.turn)
		s.poll.turn = nil
		return
	}
	s.pollRearm()
}
