package server

import (
	"bytes"
	"compress/zlib"
	"errors"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"
)

// SharedSocket is the /socket endpoint that Lanyard and Lantern share: it
// greets every client with the shared Hello, waits for the first client
// message under Lanyard's inactivity rule, and hands the connection to the
// dialect that message belongs to.
type SharedSocket struct {
	// Inactivity closes (1002) a client that sends nothing before its
	// first message; SocketInactivity when zero. Set it before serving.
	Inactivity time.Duration
	// MaxMessageSize is the largest first message (close 1009 beyond it):
	// SocketReadLimit when zero. Set it before serving.
	MaxMessageSize int64
	// Conns caps the sockets per client address (close 1013); nil is no
	// cap. Set it before serving.
	Conns *ConnLimiter

	dialects []SocketDialect
	hello    [2][]byte // plain, zlib_json

	mu      sync.Mutex
	pending map[*Socket]struct{} // waiting for their first message
	closed  bool

	opened, helloSent, firstRead atomic.Int64
	closes                       sync.Map // string → *atomic.Int64
}

// RegisterSocket serves the shared /socket for the given dialects. The
// first message is offered to each dialect in order and the first to claim
// it gets the connection; a message nobody claims goes to the first
// dialect, so list the dialect that takes ambiguous messages (Lanyard)
// first. Server.Shutdown closes sockets still waiting for a first message
// with 1001; once handed over, closing is the dialect's.
func (s *Server) RegisterSocket(dialects ...SocketDialect) *SharedSocket {
	if len(dialects) == 0 {
		panic("server: RegisterSocket needs at least one dialect")
	}
	ss := &SharedSocket{dialects: dialects, pending: map[*Socket]struct{}{}}
	ss.hello[0] = []byte(SocketHello)
	ss.hello[1] = zlibOnce([]byte(SocketHello))
	s.socket = ss
	s.echo.GET("/socket", ss.serve)
	return ss
}

func (ss *SharedSocket) serve(c echo.Context) error {
	sock, err := UpgradeSocket(c)
	if err != nil {
		ss.count("upgrade_failed")
		return nil
	}
	ss.opened.Add(1)
	if !ss.Conns.Admit(c.Request(), sock) {
		ss.count(strconv.Itoa(CloseTooManyConnections))
		return nil
	}
	ws := sock.Conn
	query := c.Request().URL.Query()
	if !ss.track(sock) {
		_ = CloseSocket(ws, websocket.CloseGoingAway, "")
		sock.Close()
		ss.count("1001")
		return nil
	}

	kind, hello := websocket.TextMessage, ss.hello[0]
	if query.Get("compression") == CompressionZlib {
		kind, hello = websocket.BinaryMessage, ss.hello[1]
	}
	idle := ss.Inactivity
	if idle <= 0 {
		idle = SocketInactivity
	}
	_ = ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := ws.WriteMessage(kind, hello); err != nil {
		ss.untrack(sock)
		sock.Close()
		ss.count("1006")
		return nil
	}
	ss.helloSent.Add(1)
	limit := ss.MaxMessageSize
	if limit <= 0 {
		limit = SocketReadLimit
	}
	ws.SetReadLimit(limit)
	sock.SetIdle(idle)
	// The handler returns now: until its first message the socket holds
	// no goroutine.
	sock.Start(&firstMessage{ss: ss, sock: sock, query: query})
	return nil
}

// firstMessage reads a shared socket's first message and hands the
// socket to the dialect it belongs to.
type firstMessage struct {
	ss    *SharedSocket
	sock  *Socket
	query url.Values
}

// SocketMessage implements SocketHandler.
func (f *firstMessage) SocketMessage(typ int, data []byte) {
	ss := f.ss
	if !ss.untrack(f.sock) { // closed by Shutdown meanwhile
		return
	}
	ss.firstRead.Add(1)
	first := SocketMessage{Type: typ, Data: data}
	d := ss.dialects[0]
	for _, cand := range ss.dialects {
		if cand.ClaimSocket(first, f.query) {
			d = cand
			break
		}
	}
	d.ServeSocket(&SocketConn{Conn: f.sock.Conn, Socket: f.sock, Query: f.query, First: first})
}

// SocketReadEnd implements SocketHandler.
func (f *firstMessage) SocketReadEnd(err error) {
	if f.ss.untrack(f.sock) {
		f.ss.readFailed(f.sock, err)
	}
}

// readFailed ends a socket whose first read failed: 1002 after the
// inactivity timeout; otherwise the library has already answered (a client
// close, 1009 for an oversize message, 1002 for a protocol error) or the
// peer is gone.
func (ss *SharedSocket) readFailed(sock *Socket, err error) {
	var ce *websocket.CloseError
	switch {
	case IsSocketTimeout(err):
		_ = CloseSocket(sock.Conn, websocket.CloseProtocolError, "")
		ss.count("1002")
	case errors.As(err, &ce):
		ss.count(strconv.Itoa(ce.Code))
	case errors.Is(err, websocket.ErrReadLimit):
		ss.count("1009")
		sock.LingerClose(time.Second) // the rest of the message is still coming
		return
	default:
		ss.count("1006")
	}
	sock.Close()
}

// track registers a socket waiting for its first message; false once the
// endpoint is closed.
func (ss *SharedSocket) track(ws *Socket) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return false
	}
	ss.pending[ws] = struct{}{}
	return true
}

// untrack removes a socket from the waiting set; false when Shutdown
// already closed it.
func (ss *SharedSocket) untrack(ws *Socket) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if _, ok := ss.pending[ws]; !ok {
		return false
	}
	delete(ss.pending, ws)
	return true
}

// close ends every socket still waiting for its first message with 1001
// (Going Away) and refuses new ones. Safe on a nil receiver.
func (ss *SharedSocket) close() {
	if ss == nil {
		return
	}
	ss.mu.Lock()
	ss.closed = true
	pending := ss.pending
	ss.pending = map[*Socket]struct{}{}
	ss.mu.Unlock()
	for sock := range pending {
		_ = CloseSocket(sock.Conn, websocket.CloseGoingAway, "")
		sock.Close()
		ss.count("1001")
	}
}

func (ss *SharedSocket) count(code string) {
	v, ok := ss.closes.Load(code)
	if !ok {
		v, _ = ss.closes.LoadOrStore(code, new(atomic.Int64))
	}
	v.(*atomic.Int64).Add(1)
}

// Stats returns the endpoint's counters for the phase before a dialect
// takes over: Open counts sockets waiting for their first message, Closes
// the sockets that ended in that phase (and "upgrade_failed"), MessagesOut
// the Hellos, MessagesIn the first messages.
func (ss *SharedSocket) Stats() SocketStats {
	ss.mu.Lock()
	open := len(ss.pending)
	ss.mu.Unlock()
	st := SocketStats{
		Open: int64(open), Opened: ss.opened.Load(), Closes: map[string]int64{}, Inits: map[SocketInit]int64{},
		MessagesIn: ss.firstRead.Load(), MessagesOut: ss.helloSent.Load(),
	}
	ss.closes.Range(func(k, v any) bool {
		st.Closes[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	return st
}

// zlibOnce compresses b as one complete zlib stream (78 9c …).
func zlibOnce(b []byte) []byte {
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}
