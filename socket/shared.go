package socket

import (
	"bytes"
	"compress/zlib"
	"errors"
	"net/url"
	"strconv"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"
)

// Dialect is a dialect that speaks on the shared /socket
// (docs/compat/cross-dialect.md §2). The endpoint upgrades the
// connection, sends the shared Hello, reads the client's first message and
// hands the connection to the first dialect that claims that message.
type Dialect interface {
	// Name names the dialect in logs and metrics ("lanyard").
	Name() string
	// ClaimSocket reports whether the client's first message (and the
	// upgrade request's query) identify this dialect. It must not keep
	// first.Data.
	ClaimSocket(first Message, query url.Values) bool
	// ServeSocket takes over the connection: it processes c.First as the
	// client's first message and owns c.Socket from then on (it calls
	// c.Socket.SetHandler at once, writes and closes it). It is called
	// from the socket's read turn and must not block. The shared Hello has
	// been sent.
	ServeSocket(c *Handoff)
}

// Message is one data message from a WebSocket client.
type Message struct {
	// Type is websocket.TextMessage or websocket.BinaryMessage.
	Type int
	Data []byte
}

// Handoff is a /socket connection handed to the dialect that claimed it.
type Handoff struct {
	Conn   *websocket.Conn
	Socket *Socket
	Query  url.Values
	// First is the client's first message, already read.
	First Message
}

// Hello is the shared endpoint's Hello, sent before the dialect is known.
// Its keys are in Lantern's order (`t`, `op`, `d`), byte for byte what
// Lantern sends, so a Lantern client that diffs frames against Lantern
// sees no difference; Lanyard clients decode JSON and ignore `t`, so the
// same bytes serve them too (docs/compat/cross-dialect.md §2).
const Hello = `{"t":"HELLO","op":1,"d":{"heartbeat_interval":30000}}`

// SharedGroup is the registry group of shared /socket connections still
// waiting for their first message; once a dialect claims one, it joins
// that dialect's group.
const SharedGroup = "socket"

// Shared is the /socket endpoint that Lanyard and Lantern share: it
// greets every client with the shared Hello, waits for the first client
// message under Lanyard's inactivity rule, and hands the connection to the
// dialect that message belongs to.
type Shared struct {
	// Inactivity closes (1002) a client that sends nothing before its
	// first message; socket.Inactivity when zero. Set it before serving.
	Inactivity time.Duration
	// MaxMessageSize is the largest first message (close 1009 beyond it):
	// ReadLimit when zero. Set it before serving.
	MaxMessageSize int64
	// Conns caps the sockets per client address (close 1013); nil is no
	// cap. Set it before serving.
	Conns *ConnLimiter

	e        *Engine
	g        *Group
	dialects []Dialect
	hello    [2][]byte // plain, zlib_json
}

// Shared returns the shared /socket endpoint for the given dialects; mount
// its Serve on GET /socket. The first message is offered to each dialect
// in order and the first to claim it gets the connection; a message
// nobody claims goes to the first dialect, so list the dialect that takes
// ambiguous messages (Lanyard) first. Engine.Close closes sockets still
// waiting for a first message with 1001; once handed over, closing is the
// dialect's (in its own group).
func (e *Engine) Shared(dialects ...Dialect) *Shared {
	if len(dialects) == 0 {
		panic("socket: Shared needs at least one dialect")
	}
	sh := &Shared{e: e, g: e.Group(SharedGroup), dialects: dialects}
	sh.hello[0] = []byte(Hello)
	sh.hello[1] = zlibOnce([]byte(Hello))
	return sh
}

// Serve is the GET /socket handler.
func (sh *Shared) Serve(c echo.Context) error {
	sock, err := sh.e.Upgrade(c)
	if err != nil {
		sh.g.CountClose("upgrade_failed")
		return nil
	}
	if !sh.Conns.Admit(c.Request(), sock) {
		sh.g.CountClose(strconv.Itoa(CloseTooManyConnections))
		return nil
	}
	ws := sock.Conn
	query := c.Request().URL.Query()
	lease := sh.g.NewLease()
	f := &firstMessage{sh: sh, sock: sock, query: query, lease: lease}
	if !lease.Join(f) {
		_ = SendClose(ws, websocket.CloseGoingAway, "")
		sock.Close()
		sh.g.CountClose("1001")
		return nil
	}

	kind, hello := websocket.TextMessage, sh.hello[0]
	if query.Get("compression") == CompressionZlib {
		kind, hello = websocket.BinaryMessage, sh.hello[1]
	}
	idle := sh.Inactivity
	if idle <= 0 {
		idle = Inactivity
	}
	_ = ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := ws.WriteMessage(kind, hello); err != nil {
		if lease.Claim() {
			sock.Close()
			lease.Done("1006")
		}
		return nil
	}
	lease.Out()
	limit := sh.MaxMessageSize
	if limit <= 0 {
		limit = ReadLimit
	}
	ws.SetReadLimit(limit)
	sock.SetIdle(idle)
	// The handler returns now: until its first message the socket holds
	// no goroutine.
	sock.Start(f)
	return nil
}

// firstMessage reads a shared socket's first message and hands the
// socket to the dialect it belongs to. It is the socket's member of the
// shared group until then.
type firstMessage struct {
	sh    *Shared
	sock  *Socket
	query url.Values
	lease *Lease
}

// SocketMessage implements Handler.
func (f *firstMessage) SocketMessage(typ int, data []byte) {
	if !f.lease.Claim() { // closed by Engine.Close meanwhile
		return
	}
	f.lease.In()
	f.lease.Done("") // handed over, not closed
	sh := f.sh
	first := Message{Type: typ, Data: data}
	d := sh.dialects[0]
	for _, cand := range sh.dialects {
		if cand.ClaimSocket(first, f.query) {
			d = cand
			break
		}
	}
	d.ServeSocket(&Handoff{Conn: f.sock.Conn, Socket: f.sock, Query: f.query, First: first})
}

// SocketReadEnd implements Handler: the first read failed. The socket
// closes with 1002 after the inactivity timeout; otherwise the library
// has already answered (a client close, 1009 for an oversize message,
// 1002 for a protocol error) or the peer is gone.
func (f *firstMessage) SocketReadEnd(err error) {
	if !f.lease.Claim() {
		return
	}
	sock := f.sock
	var ce *websocket.CloseError
	label := "1006"
	switch {
	case IsTimeout(err):
		_ = SendClose(sock.Conn, websocket.CloseProtocolError, "")
		label = "1002"
	case errors.As(err, &ce):
		label = strconv.Itoa(ce.Code)
	case errors.Is(err, websocket.ErrReadLimit):
		sock.LingerClose(time.Second) // the rest of the message is still coming
		f.lease.Done("1009")
		return
	}
	sock.Close()
	f.lease.Done(label)
}

// GoingAway implements Member: the engine is closing; the socket is
// closed with 1001 (Going Away).
func (f *firstMessage) GoingAway() {
	if !f.lease.Claim() {
		return // its first message or its end won
	}
	go func() {
		_ = SendClose(f.sock.Conn, websocket.CloseGoingAway, "")
		f.sock.Close()
		f.lease.Done("1001")
	}()
}

// Stats returns the endpoint's counters for the phase before a dialect
// takes over: Open counts sockets waiting for their first message, Closes
// the sockets that ended in that phase (and "upgrade_failed"), MessagesOut
// the Hellos, MessagesIn the first messages.
func (sh *Shared) Stats() Stats { return sh.g.Stats() }

// zlibOnce compresses b as one complete zlib stream (78 9c …).
func zlibOnce(b []byte) []byte {
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}
