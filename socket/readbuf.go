package socket

import (
	"bufio"
	"net"
	"sync"
)

// Read buffers are lent to sockets for their read turns only. gorilla
// keeps a pointer to one *bufio.Reader per connection (Socket.br) for
// good; between read turns of a socket in the epoll set nothing reads
// it — the engine runs a turn only once the descriptor is readable — so
// the 512-byte buffer inside it goes back to a pool, and an idle socket
// keeps only the empty reader. Lending swaps the reader's value:
// bufio.Reader is a plain struct (no lock, nothing that refers to its
// own address), so copying it moves the buffer and the read state.
//
// A socket keeps its buffer while bytes of an unfinished frame wait in it
// (the turn resumes when the rest arrives), and for good when a waiter
// goroutine (waiter.go) peeks into it instead of the epoll set.
var readBuffers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, socketReadBuffer) }}

// lendReadBuffer gives br (an empty reader) a pooled buffer reading nc
// and returns the pooled reader that lent it.
func lendReadBuffer(br *bufio.Reader, nc net.Conn) (lent *bufio.Reader) {
	lent = readBuffers.Get().(*bufio.Reader)
	lent.Reset(nc)
	*br = *lent
	return lent
}

// borrowReadBuffer gives the socket's reader a buffer for a read turn,
// unless it has one. Only the read turn (or Start, before reading)
// touches br; s.mu guards lent for readBufferHeld.
func (s *Socket) borrowReadBuffer() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.borrowReadBufferLocked()
}

func (s *Socket) borrowReadBufferLocked() {
	if s.lent == nil {
		s.lent = lendReadBuffer(s.br, s.Conn.NetConn())
	}
}

// returnReadBuffer gives the buffer back after a read turn of a polled
// socket whose reader holds no unread byte; the reader stays empty until
// the next turn borrows again.
func (s *Socket) returnReadBuffer() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.returnReadBufferLocked()
}

func (s *Socket) returnReadBufferLocked() {
	if s.lent == nil || !s.polled || s.br.Buffered() > 0 {
		return
	}
	*s.lent = *s.br
	*s.br = bufio.Reader{}
	s.lent.Reset(nil) // the pool keeps no connection alive
	readBuffers.Put(s.lent)
	s.lent = nil
}

// readBufferHeld reports whether the socket holds a read buffer now.
func (s *Socket) readBufferHeld() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lent != nil
}
