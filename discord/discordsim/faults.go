package discordsim

import "time"

// conns snapshots the open connections. Sim.mu must be held.
func (s *Sim) connsLocked() []*gwConn {
	out := make([]*gwConn, 0, len(s.conns))
	for c := range s.conns {
		out = append(out, c)
	}
	return out
}

// DropConnections closes every gateway connection's TCP socket without a
// close frame. Sessions stay resumable for SessionTTL.
func (s *Sim) DropConnections() {
	s.mu.Lock()
	conns := s.connsLocked()
	for _, c := range conns {
		s.detachLocked(c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.kill()
	}
}

// reconnectGrace is how long a connection told to reconnect (op 7) may
// stay open: Discord drops it itself a few seconds later if the client
// does not (docs/compat/discord.md §2.2).
const reconnectGrace = 5 * time.Second

// SendReconnect sends op 7 RECONNECT to every connection and drops those
// still open reconnectGrace later. Sessions stay resumable.
func (s *Sim) SendReconnect() {
	s.mu.Lock()
	conns := s.connsLocked()
	for _, c := range conns {
		c.sendOp(7, "null")
	}
	s.mu.Unlock()
	for _, c := range conns {
		time.AfterFunc(reconnectGrace, func() {
			select {
			case <-c.done: // the client reconnected, or the simulator closed
			default:
				s.log.Debug("gateway: op 7 ignored, dropping the connection")
				c.kill()
			}
		})
	}
}

// SendInvalidSession sends op 9 to every connection. With resumable=false
// the sessions are forgotten; with true they stay resumable. Either way the
// connection may IDENTIFY again (arikawa does so on the same socket after
// op 9 true).
func (s *Sim) SendInvalidSession(resumable bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := "false"
	if resumable {
		d = "true"
	}
	for _, c := range s.connsLocked() {
		if resumable {
			s.detachLocked(c)
		} else {
			s.invalidateLocked(c)
		}
		c.touchBeat() // the client may stall before re-identifying
		c.sendOp(9, d)
	}
}

// CloseConnections sends a close frame with code to every connection, then
// closes it. Sessions stay resumable, except after 4007 and 4009 which
// (as on Discord) invalidate them.
func (s *Sim) CloseConnections(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.connsLocked() {
		if code == 4007 || code == 4009 {
			s.invalidateLocked(c)
		} else {
			s.detachLocked(c)
		}
		c.closeWith(code, "discordsim")
	}
}
