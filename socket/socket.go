package socket

import (
	"bufio"
	"errors"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Handler receives what a Socket's client sends. The engine calls it
// from the socket's read turns — on the engine's pool, one call at a
// time, in order — so a handler must not block: it queues work for its
// own Actor.
type Handler interface {
	// SocketMessage is one client data message; data is the handler's to
	// keep.
	SocketMessage(typ int, data []byte)
	// SocketReadEnd reports the error that ended reading: the client's
	// close frame (*websocket.CloseError, already answered by the
	// library), websocket.ErrReadLimit (answered with 1009), an idle
	// timeout (IsTimeout; see Socket.SetIdle) or a dead connection.
	// It is called at most once, and not at all after Close or End.
	SocketReadEnd(err error)
}

// Socket is an upgraded WebSocket whose reading the engine drives. While
// the client is silent no goroutine waits on it: on Linux its descriptor is
// in the engine's epoll set (netpoll_linux.go) and a pool goroutine runs
// a read turn only when bytes arrive; elsewhere one goroutine per socket
// waits for the first byte (waiter.go). gorilla/websocket still does
// the framing, reading from a 512-byte buffer that the engine can see into
// and lends only for read turns (readbuf.go).
type Socket struct {
	// Conn is the WebSocket. Its writes are the owner's; its reads are the
	// engine's.
	Conn *websocket.Conn

	e     *Engine
	br    *bufio.Reader // the reader gorilla reads from; its buffer is lent (readbuf.go)
	lent  *bufio.Reader // the pooled reader whose buffer br holds; nil while br holds none
	actor *Actor
	h     Handler

	idle   time.Duration
	idleAt Deadline     // when to check the idle rule next
	last   atomic.Int64 // unix nanoseconds of the last client frame

	mu       sync.Mutex
	readable bool // bytes (or EOF) may be waiting
	started  bool
	stopped  bool
	polled   bool          // in the epoll set: read turns run only on readiness, so br's buffer goes back between them
	done     chan struct{} // closed once reading stopped; only a waiter (waiter.go) has one
	poll     pollState     // platform registration
	onClose  func()        // releases the client's connection slot (ConnLimiter)

	// ending is End's state, set once End is called: client messages
	// are then dropped and the end of reading closes the connection. A
	// pointer, so that the sockets that are not ending (nearly all) do not
	// carry it.
	ending atomic.Pointer[endState]
}

// endState is an ending socket's: how to close it, and when at the latest.
type endState struct {
	once   sync.Once
	linger bool
	grace  time.Duration
	timer  *time.Timer // guarded by the socket's mu
	done   func()
}

// Timings of a read turn.
const (
	// headerWait is how long a read turn waits for the rest of a frame
	// header (or a whole control frame) that arrived in pieces before it
	// gives the goroutine back; the bytes stay buffered and the next
	// readiness resumes.
	headerWait = 2 * time.Millisecond
	// messageWait bounds reading one data message once its header is in.
	messageWait = 10 * time.Second
	// socketReadBuffer is gorilla's read buffer: more than the 256 bytes
	// under which gorilla would allocate its own, and enough for any
	// control frame (131 bytes with the mask).
	socketReadBuffer = 512
)

func (e *Engine) newSocket(ws *websocket.Conn, br, lent *bufio.Reader) *Socket {
	s := &Socket{Conn: ws, e: e, br: br, lent: lent}
	s.actor = e.NewActor(s.run)
	s.idleAt = e.NewDeadline(s.actor)
	s.last.Store(time.Now().UnixNano())
	return s
}

// Start begins reading with h as the handler. Call it once.
func (s *Socket) Start(h Handler) {
	s.mu.Lock()
	if s.started || s.stopped {
		s.mu.Unlock()
		return
	}
	s.started = true
	s.h = h
	s.mu.Unlock()
	if s.pollStart() {
		return
	}
	s.mu.Lock()
	if !s.stopped {
		s.done = make(chan struct{})
		go s.wait(s.done) // not a pollable descriptor, or no epoll here
	}
	s.mu.Unlock()
}

// SetHandler hands the socket to another handler. Call it only from a
// handler method (the read turn), e.g. when a dialect takes over.
func (s *Socket) SetHandler(h Handler) { s.h = h }

// SetIdle makes a client that sends no frame at all (data, ping or pong)
// for d end reading with a timeout error; 0 turns the rule off. A coarse
// deadline in the engine's wheel, re-armed lazily, replaces a read
// deadline.
func (s *Socket) SetIdle(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.idle = d
	s.last.Store(time.Now().UnixNano())
	if s.stopped {
		return
	}
	if d > 0 {
		s.idleAt.Set(d)
	} else {
		s.idleAt.Stop()
	}
}

// ready marks the socket readable and schedules a read turn.
func (s *Socket) ready() {
	s.mu.Lock()
	s.readable = true
	s.mu.Unlock()
	s.actor.Wake()
}

// errIdle is the idle rule's error: a timeout, as a read deadline's was.
var errIdle = os.ErrDeadlineExceeded

// run is the socket's actor: read turns and idle checks. It runs when
// the socket is readable or its idle deadline fired; the idle rule is
// checked against the clock either way.
func (s *Socket) run() {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	readable := s.readable
	s.readable = false
	idle := s.idle
	s.mu.Unlock()
	// Read first: frames that arrived before the idle deadline fired but
	// were not read yet (a busy machine) count as activity.
	if readable {
		s.borrowReadBuffer()
		if err := s.readTurn(); err != nil {
			s.end(err)
			return
		}
		s.returnReadBuffer()
		s.rearm()
	}
	if idle > 0 {
		left := idle - time.Duration(time.Now().UnixNano()-s.last.Load())
		if left <= 0 {
			s.end(errIdle)
			return
		}
		s.mu.Lock()
		if !s.stopped && s.idle > 0 {
			// A pending deadline is earlier than last+idle: it re-arms
			// in turn when it fires.
			s.idleAt.SetIfUnset(left)
		}
		s.mu.Unlock()
	}
}

// readTurn reads every frame the client has sent so far. Ping and pong
// frames are handled here (gorilla would, but would then block waiting for
// the next frame); data and close frames go to gorilla once their header
// is buffered. A frame whose header is incomplete stays buffered for the
// next turn.
func (s *Socket) readTurn() error {
	nc := s.Conn.NetConn()
	for {
		_ = nc.SetReadDeadline(time.Now().Add(headerWait))
		b, err := s.br.Peek(2)
		if err != nil {
			if IsTimeout(err) {
				return nil // nothing more yet
			}
			return err
		}
		op, masked, n7 := b[0]&0x0f, b[1]&0x80 != 0, int(b[1]&0x7f)
		hdr := 2
		switch n7 {
		case 126:
			hdr += 2
		case 127:
			hdr += 8
		}
		if masked {
			hdr += 4
		}
		if (op == websocket.PingMessage || op == websocket.PongMessage) && masked && n7 <= 125 && b[0]&0xf0 == 0x80 {
			frame, err := s.br.Peek(hdr + n7)
			if err != nil {
				if IsTimeout(err) {
					return nil
				}
				return err
			}
			payload := make([]byte, n7)
			for i := range payload {
				payload[i] = frame[hdr+i] ^ frame[hdr-4+i%4]
			}
			_, _ = s.br.Discard(hdr + n7)
			s.touch()
			if op == websocket.PingMessage {
				err := s.Conn.WriteControl(websocket.PongMessage, payload, time.Now().Add(time.Second))
				if err != nil && !errors.Is(err, websocket.ErrCloseSent) && !IsTimeout(err) {
					return err
				}
			}
		} else {
			if _, err := s.br.Peek(hdr); err != nil {
				if IsTimeout(err) {
					return nil
				}
				return err
			}
			_ = nc.SetReadDeadline(time.Now().Add(messageWait))
			typ, r, err := s.Conn.NextReader()
			if err != nil {
				return err
			}
			data, err := io.ReadAll(r)
			if err != nil {
				return err
			}
			s.touch()
			if s.ending.Load() == nil {
				s.h.SocketMessage(typ, data)
			}
		}
		if s.br.Buffered() == 0 {
			return nil
		}
	}
}

func (s *Socket) touch() { s.last.Store(time.Now().UnixNano()) }

// end stops reading and tells the handler why; a socket that is ending
// (End) closes instead: the client answered or left.
func (s *Socket) end(err error) {
	if !s.stopReading() {
		return
	}
	if s.ending.Load() != nil {
		s.finishEnd()
		return
	}
	s.h.SocketReadEnd(err)
}

// stopReading takes the socket out of the engine; false if it already was.
func (s *Socket) stopReading() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return false
	}
	s.stopped = true
	s.idleAt.Stop()
	s.pollStop()
	if s.done != nil {
		close(s.done)
	}
	if s.onClose != nil {
		s.onClose()
	}
	return true
}

// Close stops reading and closes the connection. Safe to call twice and
// from any goroutine.
func (s *Socket) Close() {
	s.stopReading()
	_ = s.Conn.Close()
}

// LingerClose stops reading and closes the TCP connection gently (see
// the function LingerClose), in the background.
func (s *Socket) LingerClose(grace time.Duration) {
	s.stopReading()
	go LingerClose(s.Conn, grace)
}

// End is the one way a dialect's connection ends. It sends the close
// frame (code 0: none, e.g. when the library already sent one); then,
// when the client may answer, it keeps reading — dropping data messages
// — until the client's close frame arrives or grace passes, and closes
// the TCP connection, so clients read our close frame rather than a
// reset. linger closes it gently (LingerClose) because the client may
// still be sending a message we refused (1009). done runs once, after
// the connection is closed, on whichever goroutine closed it. Call End
// once, from the socket's owner.
func (s *Socket) End(code int, reason string, grace time.Duration, linger bool, done func()) {
	st := &endState{linger: linger, grace: grace, done: done}
	s.ending.Store(st)
	gentle := linger
	if code != 0 && SendClose(s.Conn, code, reason) == nil {
		gentle = true
	}
	s.mu.Lock()
	stopped := s.stopped
	if gentle && !stopped {
		st.timer = time.AfterFunc(grace, s.finishEnd)
	}
	s.mu.Unlock()
	if !gentle || stopped {
		s.finishEnd()
	}
}

// finishEnd closes an ending socket, once.
func (s *Socket) finishEnd() {
	st := s.ending.Load()
	st.once.Do(func() {
		s.mu.Lock()
		if st.timer != nil {
			st.timer.Stop()
		}
		s.mu.Unlock()
		if st.linger {
			s.LingerClose(st.grace)
		} else {
			s.Close()
		}
		if st.done != nil {
			st.done()
		}
	})
}
