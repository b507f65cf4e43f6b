package lantern

import (
	"net/url"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/server"
)

// Lantern's socket constants (§6).
const (
	socketHello = `{"t":"HELLO","op":1,"d":{"heartbeat_interval":30000}}`
	// maxSocketMessage is Lantern's maxPayload: a larger client message
	// closes the connection with 1009.
	maxSocketMessage = 1024
)

// SocketOptions tunes the Lantern WebSocket; zero fields take Lantern's
// values (tests shorten them).
type SocketOptions struct {
	// InitDeadline closes a /lantern/socket connection that sent no INIT
	// (5 s).
	InitDeadline time.Duration
	// HeartbeatInterval is the interval the HELLO announces (30 s); a
	// connection is dropped after 1.5 × this without a heartbeat.
	HeartbeatInterval time.Duration
	// QueueSize bounds a connection's event queue (core default when 0).
	QueueSize int
}

func (o SocketOptions) withDefaults() SocketOptions {
	if o.InitDeadline <= 0 {
		o.InitDeadline = 5 * time.Second
	}
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = 30 * time.Second
	}
	return o
}

// sockets tracks the live connections so shutdown can close them.
type sockets struct {
	opts     SocketOptions
	mu       sync.Mutex
	conns    map[*conn]struct{}
	shutdown chan struct{}
	closed   bool
}

func newSockets(opts SocketOptions) *sockets {
	return &sockets{opts: opts.withDefaults(), conns: map[*conn]struct{}{}, shutdown: make(chan struct{})}
}

func (s *sockets) add(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *sockets) remove(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// registerSocket adds /lantern/socket (§6), strictly Lantern.
func (d *Dialect) registerSocket(e *echo.Echo) {
	e.GET("/lantern/socket", d.serveStrictSocket)
}

// Name names the dialect on the shared /socket.
func (d *Dialect) Name() string { return "lantern" }

// ClaimSocket claims a shared /socket whose first message is op 2 with
// user_id or user_ids, or op 12 or 14 (spec/cross-dialect.md).
func (d *Dialect) ClaimSocket(first server.SocketMessage, _ url.Values) bool {
	return claimsFirstMessage(first.Data)
}

// ServeSocket takes over a shared /socket connection whose first message
// Lantern claimed; the shared HELLO was sent and no INIT deadline applies.
func (d *Dialect) ServeSocket(sc *server.SocketConn) {
	first := sc.First
	d.run(sc.Conn, &first, false)
}

// CloseSockets closes every Lantern socket (server shutdown).
func (d *Dialect) CloseSockets() {
	s := d.socks
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.shutdown)
	}
	s.mu.Unlock()
}

// serveStrictSocket serves /lantern/socket: HELLO, then the 5 s INIT
// deadline.
func (d *Dialect) serveStrictSocket(c echo.Context) error {
	ws, err := server.UpgradeSocket(c)
	if err != nil {
		return nil
	}
	_ = ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := ws.WriteMessage(websocket.TextMessage, []byte(socketHello)); err != nil {
		_ = ws.Close()
		return nil
	}
	d.run(ws, nil, true)
	return nil
}

// run owns one connection until it ends.
func (d *Dialect) run(ws *websocket.Conn, first *server.SocketMessage, initDeadline bool) {
	c := newConn(d, ws, initDeadline)
	if !d.socks.add(c) {
		_ = server.CloseSocket(ws, websocket.CloseGoingAway, "")
		_ = ws.Close()
		return
	}
	defer d.socks.remove(c)
	go c.readLoop(first)
	c.writeLoop()
}
