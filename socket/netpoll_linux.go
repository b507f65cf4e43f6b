//go:build linux

package socket

import (
	"net"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// pollState is a socket's registration in the engine's epoll set.
type pollState struct {
	p    *poller
	fd   int
	id   uint64
	turn chan struct{} // the fallback waiter's turn (waiter.go)
}

// poller is the engine's epoll instance. Sockets are registered
// level-triggered with EPOLLONESHOT: one event disarms the descriptor
// until its read turn ends and re-arms it, so at most one turn per socket
// runs, and level triggering means bytes that arrived during the turn
// fire again at once on re-arm — no wake-up can be lost between the last
// read and the re-arm. Go's own netpoller watches the same descriptors
// (edge-triggered, for the goroutines that read or write them); two epoll
// sets on one descriptor are independent, so each sees the readiness.
// Events carry a socket id, not the descriptor, and the descriptor leaves
// the set before it is closed, so a reused number never reaches the wrong
// socket. An id is a slot of the poller's table (low 32 bits) and the
// slot's generation (high 32 bits): a slot is reused once its socket left,
// and an event of the socket that left finds a newer generation there.
// A table rather than a map: ≈ 20 B less for every idle socket (issue 17).
type poller struct {
	epfd  int
	file  *os.File // epfd, watched by Go's netpoller (see loop)
	mu    sync.Mutex
	slots []pollSlot
	free  []uint32 // indexes of empty slots
	shut  bool     // closed: the descriptor number may belong to another file now
}

// pollSlot is one entry of the poller's table.
type pollSlot struct {
	t   pollTarget // nil: empty
	gen uint32
}

const pollEvents = unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT

// pollTarget is what the poller wakes when a descriptor is readable: a
// WebSocket (Socket) or a server-sent-events stream (Stream).
type pollTarget interface{ ready() }

// newPoller creates an engine's epoll set and starts its loop; nil when
// the platform refuses (every socket then gets a waiter goroutine).
func newPoller() *poller {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil
	}
	if unix.SetNonblock(fd, true) != nil {
		_ = unix.Close(fd)
		return nil
	}
	p := &poller{epfd: fd, file: os.NewFile(uintptr(fd), "halyard-epoll")}
	rc, err := p.file.SyscallConn()
	if err != nil {
		_ = p.file.Close()
		return nil
	}
	go p.loop(rc)
	return p
}

// close ends the loop and releases the epoll descriptor. Sockets still
// registered (none once the engine's registry is empty) fall back to
// nothing: close it last.
func (p *poller) close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.shut = true
	p.mu.Unlock()
	_ = p.file.Close()
}

// loop dispatches readiness to read turns; it runs until the engine
// closes the epoll descriptor. It never blocks in epoll_wait: a goroutine parked in a blocking
// system call keeps its P until sysmon takes it back (up to 10 ms on an
// idle process), which stalls everything else on a 2-core machine.
// Instead the epoll descriptor itself is registered with Go's netpoller
// (an epoll set is readable while it has ready descriptors): loop polls
// it with a zero timeout and parks like any network read when it is
// empty.
func (p *poller) loop(rc syscall.RawConn) {
	events := make([]unix.EpollEvent, 256)
	for {
		var n int
		err := rc.Read(func(fd uintptr) bool {
			var err error
			n, err = unix.EpollWait(int(fd), events, 0)
			return n > 0 || (err != nil && err != unix.EINTR)
		})
		if err != nil {
			return // the descriptor was closed (Engine.Close)
		}
		if n <= 0 {
			continue
		}
		p.mu.Lock()
		ready := make([]pollTarget, 0, n)
		for _, ev := range events[:n] {
			if s := p.target(uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32); s != nil {
				ready = append(ready, s)
			}
		}
		p.mu.Unlock()
		for _, s := range ready {
			s.ready()
		}
	}
}

// pollStart registers a TCP socket with the epoll set; false when the
// socket must be read by a goroutine instead.
func (s *Socket) pollStart() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return true
	}
	// Before the descriptor is in the set: from then on read turns may
	// run, and they own br.
	s.polled = true
	s.returnReadBufferLocked()
	st, ok := s.e.poller().add(s.Conn.NetConn(), s)
	if ok {
		s.poll = st
	} else {
		s.polled = false
		s.borrowReadBufferLocked() // a waiter peeks into br while the socket is idle
	}
	return ok
}

// pollRearm re-enables the one-shot registration. Called with s.mu held
// and the socket not stopped, so the descriptor is still open.
func (s *Socket) pollRearm() { s.poll.rearm() }

// pollStop removes the socket from the epoll set. Called with s.mu held,
// before the connection is closed.
func (s *Socket) pollStop() { s.poll.remove() }

// add registers a TCP connection's descriptor, waking t when it is
// readable; ok is false when the platform or the connection cannot be
// polled (the caller then reads with a goroutine).
func (p *poller) add(nc net.Conn, t pollTarget) (st pollState, ok bool) {
	tc, isTCP := nc.(*net.TCPConn)
	if p == nil || !isTCP {
		return st, false
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return st, false
	}
	fd := -1
	if rc.Control(func(f uintptr) { fd = int(f) }) != nil || fd < 0 {
		return st, false
	}
	p.mu.Lock()
	if p.shut {
		p.mu.Unlock()
		return st, false
	}
	id := p.insertLocked(t)
	p.mu.Unlock()
	ev := unix.EpollEvent{Events: pollEvents, Fd: int32(uint32(id)), Pad: int32(uint32(id >> 32))}
	if unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, &ev) != nil {
		p.mu.Lock()
		p.removeLocked(id)
		p.mu.Unlock()
		return st, false
	}
	return pollState{p: p, fd: fd, id: id}, true
}

// insertLocked puts t in an empty slot and returns its id (never 0: the
// generation of a slot's first use is 1).
func (p *poller) insertLocked(t pollTarget) uint64 {
	var i uint32
	if n := len(p.free); n > 0 {
		i = p.free[n-1]
		p.free = p.free[:n-1]
	} else {
		p.slots = append(p.slots, pollSlot{})
		i = uint32(len(p.slots) - 1)
	}
	sl := &p.slots[i]
	sl.gen++
	if sl.gen == 0 { // wrapped: 0 would make the id look unset
		sl.gen = 1
	}
	sl.t = t
	return uint64(i) | uint64(sl.gen)<<32
}

// removeLocked empties id's slot, if id is still its occupant.
func (p *poller) removeLocked(id uint64) {
	i := uint32(id)
	if int(i) >= len(p.slots) || p.slots[i].gen != uint32(id>>32) || p.slots[i].t == nil {
		return
	}
	p.slots[i].t = nil
	p.free = append(p.free, i) // the table keeps its size, as a map would: generations must not restart
}

// target is the socket registered under id; nil once it left.
func (p *poller) target(id uint64) pollTarget {
	i := uint32(id)
	if int(i) >= len(p.slots) || p.slots[i].gen != uint32(id>>32) {
		return nil
	}
	return p.slots[i].t
}

// rearm re-enables a one-shot registration; the descriptor must still be
// open.
func (st *pollState) rearm() {
	if st.id == 0 {
		return
	}
	id := st.id
	ev := unix.EpollEvent{Events: pollEvents, Fd: int32(uint32(id)), Pad: int32(uint32(id >> 32))}
	_ = unix.EpollCtl(st.p.epfd, unix.EPOLL_CTL_MOD, st.fd, &ev)
}

// remove takes the descriptor out of the epoll set, before it is closed.
func (st *pollState) remove() {
	if st.id == 0 {
		return
	}
	p := st.p
	p.mu.Lock()
	if !p.shut {
		_ = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, st.fd, nil)
	}
	p.removeLocked(st.id)
	p.mu.Unlock()
	st.id = 0
}

// drainNonblocking reads and discards what the peer sent, without
// waiting: at most limit bytes. gone is true once the peer closed its side
// (or the connection failed).
func drainNonblocking(nc net.Conn, limit int) (n int, gone bool) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return 0, false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0, true
	}
	var buf [512]byte
	for n < limit {
		var got int
		var rerr error
		if err := rc.Read(func(fd uintptr) bool {
			got, rerr = unix.Read(int(fd), buf[:])
			return true // one attempt: never wait
		}); err != nil {
			return n, true
		}
		switch {
		case rerr == unix.EAGAIN || rerr == unix.EINTR:
			return n, false
		case rerr != nil || got == 0:
			return n, true
		}
		n += got
	}
	return n, false
}
