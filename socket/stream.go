package socket

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
)

// Stream is a long-lived HTTP answer the engine holds once it took the
// connection over from net/http (a server-sent-events stream): the server
// only writes to it from then on, and the client only closes it. While
// nothing is sent no goroutine waits on it: on Linux its descriptor sits
// in the engine's epoll set, which reports the client closing (or sending
// bytes, which are discarded) as a short read turn on the engine's pool;
// its owner's writes run on its Actor, on the same pool. Elsewhere one
// goroutine per stream waits for the client to close.
//
// A stream is a Member of its group: Engine.Close wakes its actor, whose
// run sees Closing and calls End, which ends the body cleanly (the last
// chunk) and closes the connection.
type Stream struct {
	// Actor runs the owner's run function: every Write and End happen
	// there, one at a time.
	Actor *Actor

	nc           net.Conn
	group        *Group
	lease        *Lease
	chunked      bool
	writeTimeout time.Duration
	release      func() // the client address's slot (ConnLimiter)
	e            *Engine

	gone atomic.Bool // the client closed, sent too much, or a write failed

	mu      sync.Mutex
	started bool
	stopped bool // no more reading: gone or ended
	read    int  // bytes the client sent after its request
	poll    pollState
	ended   bool
}

// StreamOptions says how a stream is opened.
type StreamOptions struct {
	// Group is the stream's group in the engine's registry.
	Group *Group
	// Conns caps the connections per client address, shared with the
	// WebSocket endpoints; nil is no cap.
	Conns *ConnLimiter
	// Header holds the answer's headers (Content-Type…), besides those
	// middleware already set on the echo response (CORS).
	Header http.Header
	// WriteTimeout bounds one write: 10 s when 0. A client that cannot
	// take a write in that time is dropped.
	WriteTimeout time.Duration
	// Run is the owner's actor.
	Run func()
}

// Errors of OpenStream that the owner answers in its own format, before
// anything was written.
var (
	// ErrTooManyConnections: the client's address holds its cap of
	// connections already.
	ErrTooManyConnections = errors.New("socket: too many connections from this address")
	// ErrClosing: the engine is shutting down.
	ErrClosing = errors.New("socket: the server is shutting down")
)

// maxClientBytes is how much a stream's client may send after its request
// (nothing is expected) before the stream is dropped.
const maxClientBytes = 64 << 10

// OpenStream answers the request with 200 and the given headers, takes
// the connection from net/http, and returns it as a stream that is
// neither in its group nor watched yet (Start); its actor must not run
// before Start succeeded. HTTP/1.1 clients get a chunked body, which End
// terminates, so they can tell a clean end from a cut; HTTP/1.0 clients a
// body that ends with the connection. With ErrTooManyConnections or
// ErrClosing nothing was written: the caller answers.
func (e *Engine) OpenStream(c echo.Context, opts StreamOptions) (*Stream, error) {
	r := c.Request()
	release, ok := opts.Conns.Reserve(r)
	if !ok {
		opts.Group.CountClose("too_many_connections")
		return nil, ErrTooManyConnections
	}
	if opts.Group.IsClosing() {
		release()
		return nil, ErrClosing
	}
	nc, _, err := http.NewResponseController(c.Response()).Hijack()
	if err != nil {
		release()
		return nil, err
	}
	nc = unwrapConn(nc)
	// net/http's read and write timeouts stay on a hijacked connection;
	// bytes the client pipelined after its request are dropped with the
	// reader.
	_ = nc.SetDeadline(time.Time{})
	s := &Stream{nc: nc, group: opts.Group, lease: opts.Group.NewLease(), chunked: r.ProtoAtLeast(1, 1),
		writeTimeout: opts.WriteTimeout, release: release, e: e}
	if s.writeTimeout <= 0 {
		s.writeTimeout = 10 * time.Second
	}
	s.Actor = e.NewActor(opts.Run)
	c.Response().Status = http.StatusOK // for the request log
	if !s.writeRaw(s.head(c, opts.Header)) {
		s.finish()
		opts.Group.CountClose("write_failed")
		return nil, errors.New("socket: the client left before the stream started")
	}
	return s, nil
}

// head is the status line and headers.
func (s *Stream) head(c echo.Context, extra http.Header) []byte {
	h := c.Response().Header().Clone()
	for k, v := range extra {
		h[k] = v
	}
	proto := "HTTP/1.0"
	if s.chunked {
		proto = "HTTP/1.1"
		h.Set("Transfer-Encoding", "chunked")
	}
	h.Set("Connection", "close") // the connection ends with the stream
	h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	var b bytes.Buffer
	b.WriteString(proto + " 200 OK\r\n")
	_ = h.Write(&b)
	b.WriteString("\r\n")
	return b.Bytes()
}

// Start joins the stream's group and watches the connection for the
// client closing. Once the group is closing it refuses: the stream is
// ended (the last chunk, then closed), counted, and false returned. Call
// it once, when the owner is ready for its actor to run.
func (s *Stream) Start() bool {
	if !s.lease.Join(s) {
		s.finish()
		s.group.CountClose("going_away")
		return false
	}
	s.mu.Lock()
	if s.started || s.stopped {
		s.mu.Unlock()
		return true
	}
	s.started = true
	st, polled := s.e.poller().add(s.nc, s)
	if polled {
		s.poll = st
	}
	s.mu.Unlock()
	if !polled {
		go s.waitClose() // not a pollable descriptor, or no epoll here
	}
	return true
}

// ready implements pollTarget: the client closed or sent something.
func (s *Stream) ready() { s.e.pool.submit(s.readTurn) }

// readTurn discards what the client sent, without waiting; a client that
// closed (or sends too much) ends the stream.
func (s *Stream) readTurn() {
	n, gone := drainNonblocking(s.nc, maxClientBytes)
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	s.read += n
	if gone || s.read > maxClientBytes {
		s.stopReadingLocked()
		s.mu.Unlock()
		s.markGone()
		return
	}
	s.poll.rearm()
	s.mu.Unlock()
}

// waitClose is the fallback reader: one goroutine blocks until the client
// closes.
func (s *Stream) waitClose() {
	var buf [512]byte
	for {
		n, err := s.nc.Read(buf[:])
		s.mu.Lock()
		s.read += n
		over := s.read > maxClientBytes
		s.mu.Unlock()
		if err != nil || over {
			s.markGone()
			return
		}
	}
}

// stopReadingLocked takes the descriptor out of the epoll set. Called
// with s.mu held.
func (s *Stream) stopReadingLocked() {
	if !s.stopped {
		s.stopped = true
		s.poll.remove()
	}
}

// markGone records that the client is gone and wakes the owner, which
// ends the stream.
func (s *Stream) markGone() {
	s.gone.Store(true)
	s.Actor.Wake()
}

// Gone reports whether the client closed the connection (or a write
// failed): the owner then calls End.
func (s *Stream) Gone() bool { return s.gone.Load() }

// Closing reports whether the stream's group is closing: the owner then
// calls End.
func (s *Stream) Closing() bool { return s.group.IsClosing() }

// GoingAway implements Member: the owner's actor sees Closing.
func (s *Stream) GoingAway() { s.Actor.Wake() }

// Write sends p as one piece of the body within the write timeout and
// counts it; false when the write failed (the client is then Gone). Call
// it from the actor.
func (s *Stream) Write(p []byte) bool {
	if len(p) == 0 {
		return true
	}
	if !s.writeRaw(s.frame(p)...) {
		return false
	}
	s.lease.Out()
	return true
}

// frame wraps p in a chunk when the body is chunked.
func (s *Stream) frame(p []byte) [][]byte {
	if !s.chunked {
		return [][]byte{p}
	}
	size := strconv.AppendInt(make([]byte, 0, 10), int64(len(p)), 16)
	return [][]byte{append(size, '\r', '\n'), p, crlf}
}

var crlf = []byte("\r\n")

func (s *Stream) writeRaw(parts ...[]byte) bool {
	if s.gone.Load() {
		return false
	}
	_ = s.nc.SetWriteDeadline(time.Now().Add(s.writeTimeout))
	bufs := net.Buffers(parts) // one writev on TCP connections
	if _, err := bufs.WriteTo(s.nc); err != nil {
		s.gone.Store(true)
		return false
	}
	return true
}

// End ends the body (the last chunk, unless the client is gone), closes
// the connection, gives the address's slot back and leaves the group,
// counting the close under label. Call it once, from the actor, after
// Start succeeded.
func (s *Stream) End(label string) {
	if s.finish() {
		s.lease.Done(label)
	}
}

// finish ends the body and closes the connection, once; false if it was
// already.
func (s *Stream) finish() bool {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return false
	}
	s.ended = true
	s.stopReadingLocked()
	s.mu.Unlock()
	if s.chunked && !s.gone.Load() {
		_ = s.nc.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = s.nc.Write([]byte("0\r\n\r\n"))
	}
	_ = s.nc.Close()
	s.release()
	return true
}
