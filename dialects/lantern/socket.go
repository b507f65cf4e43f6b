package lantern

import (
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/server"
)

// Lantern's socket constants (docs/compat/lantern.md §6).
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
	// MaxMessageSize is the largest client message (close 1009 beyond
	// it): Lantern's maxPayload, 1024 bytes.
	MaxMessageSize int64
	// Caps are the per-socket abuse caps: message rate (close 1008
	// rate_limited) and users followed (an ERROR, like Lantern's other
	// refused subscriptions); zero fields are off.
	Caps server.SocketCapsConfig
	// Conns caps the sockets per client address (close 1013); nil is no
	// cap. Share one limiter between every endpoint.
	Conns *server.ConnLimiter
}

func (o SocketOptions) withDefaults() SocketOptions {
	if o.InitDeadline <= 0 {
		o.InitDeadline = 5 * time.Second
	}
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = 30 * time.Second
	}
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = maxSocketMessage
	}
	return o
}

// sockets tracks the live connections so shutdown can close them.
type sockets struct {
	opts     SocketOptions
	prepared server.PreparedFrames
	mu       sync.Mutex
	conns    map[*conn]struct{}
	shutdown chan struct{}
	closed   bool

	opened, in, out atomic.Int64 // for /metrics
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
	s.opened.Add(1)
	return true
}

// SocketStats returns the Lantern sockets' counters, for /metrics.
func (d *Dialect) SocketStats() server.SocketStats {
	s := d.socks
	s.mu.Lock()
	open := len(s.conns)
	s.mu.Unlock()
	return server.SocketStats{Open: int64(open), Opened: s.opened.Load(),
		MessagesIn: s.in.Load(), MessagesOut: s.out.Load()}
}

// isClosed reports whether CloseSockets was called.
func (s *sockets) isClosed() bool {
	select {
	case <-s.shutdown:
		return true
	default:
		return false
	}
}

func (s *sockets) remove(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// registerSocket adds /lantern/socket (docs/compat/lantern.md §6), strictly Lantern.
func (d *Dialect) registerSocket(e *echo.Echo) {
	e.GET("/lantern/socket", d.serveStrictSocket)
}

// Name names the dialect on the shared /socket.
func (d *Dialect) Name() string { return "lantern" }

// ClaimSocket claims a shared /socket whose first message is op 2 with
// user_id or user_ids, or op 12 or 14 (docs/compat/cross-dialect.md §2.3).
func (d *Dialect) ClaimSocket(first server.SocketMessage, _ url.Values) bool {
	return claimsFirstMessage(first.Data)
}

// ServeSocket takes over a shared /socket connection whose first message
// Lantern claimed; the shared HELLO was sent and no INIT deadline applies.
func (d *Dialect) ServeSocket(sc *server.SocketConn) {
	first := sc.First
	d.run(sc.Socket, &first, false)
}

// CloseSockets closes every Lantern socket (server shutdown).
func (d *Dialect) CloseSockets() {
	s := d.socks
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.shutdown)
	}
	live := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		live = append(live, c)
	}
	s.mu.Unlock()
	for _, c := range live {
		c.actor.Wake()
	}
}

// serveStrictSocket serves /lantern/socket: HELLO, then the 5 s INIT
// deadline.
func (d *Dialect) serveStrictSocket(c echo.Context) error {
	sock, err := server.UpgradeSocket(c)
	if err != nil {
		return nil
	}
	if !d.socks.opts.Conns.Admit(c.Request(), sock) {
		return nil
	}
	ws := sock.Conn
	_ = ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := ws.WriteMessage(websocket.TextMessage, []byte(socketHello)); err != nil {
		sock.Close()
		return nil
	}
	d.run(sock, nil, true)
	return nil
}

// run takes over one connection and returns at once; its read turns and
// actor run it from here on. first is the shared /socket's first message
// (run is then called from that read turn).
func (d *Dialect) run(sock *server.Socket, first *server.SocketMessage, initDeadline bool) {
	c := newConn(d, sock, initDeadline)
	if !d.socks.add(c) {
		_ = server.CloseSocket(sock.Conn, websocket.CloseGoingAway, "")
		c.sub.Close()
		sock.Close()
		return
	}
	// Liveness is Lantern's heartbeat (op 4), not the shared endpoint's
	// idle rule.
	sock.SetIdle(0)
	if first != nil {
		sock.SetHandler(c)
		c.SocketMessage(first.Type, first.Data)
		sock.Conn.SetReadLimit(d.socks.opts.MaxMessageSize)
		return
	}
	sock.Conn.SetReadLimit(d.socks.opts.MaxMessageSize)
	sock.Start(c)
}
