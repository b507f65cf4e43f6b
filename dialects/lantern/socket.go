package lantern

import (
	"net/url"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/socket"
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
	// Engine runs the sockets and holds them in its registry (group
	// "lantern"); share one between every dialect, so that Engine.Close
	// ends them all. Nil gives the dialect an engine of its own, which
	// CloseSockets closes.
	Engine *socket.Engine
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
	Caps socket.CapsConfig
	// Conns caps the sockets per client address (close 1013); nil is no
	// cap. Share one limiter between every endpoint.
	Conns *socket.ConnLimiter
	// CloseGrace is how long a closing socket waits for the client's close
	// frame before dropping the TCP connection: 1 s.
	CloseGrace time.Duration
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
	if o.CloseGrace <= 0 {
		o.CloseGrace = time.Second
	}
	return o
}

// sockets is the dialect's group in the engine's registry: its live
// connections and their counters.
type sockets struct {
	opts   SocketOptions
	engine *socket.Engine
	own    bool // the engine is the dialect's own: CloseSockets closes it
	group  *socket.Group
}

func newSockets(opts SocketOptions) *sockets {
	s := &sockets{opts: opts.withDefaults(), engine: opts.Engine}
	if s.engine == nil {
		s.engine, s.own = socket.NewEngine(), true
	}
	s.group = s.engine.Group("lantern")
	return s
}

// SocketStats returns the Lantern sockets' counters, for /metrics.
func (d *Dialect) SocketStats() socket.Stats { return d.socks.group.Stats() }

// registerSocket adds /lantern/socket (docs/compat/lantern.md §6), strictly Lantern.
func (d *Dialect) registerSocket(e *echo.Echo) {
	e.GET("/lantern/socket", d.serveStrictSocket)
}

// Name names the dialect on the shared /socket.
func (d *Dialect) Name() string { return "lantern" }

// ClaimSocket claims a shared /socket whose first message is op 2 with
// user_id or user_ids, or op 12 or 14 (docs/compat/cross-dialect.md §2.3).
func (d *Dialect) ClaimSocket(first socket.Message, _ url.Values) bool {
	return claimsFirstMessage(first.Data)
}

// ServeSocket takes over a shared /socket connection whose first message
// Lantern claimed; the shared HELLO was sent and no INIT deadline applies.
func (d *Dialect) ServeSocket(sc *socket.Handoff) {
	first := sc.First
	d.run(sc.Socket, &first, false)
}

// CloseSockets closes every Lantern socket with 1001 (Going Away),
// refuses new ones the same way, and returns once they are all closed
// (each waits at most SocketOptions.CloseGrace for its client's reply).
// The engine's Close does the same for every dialect at once;
// CloseSockets is for a dialect alone (and closes the dialect's own
// engine, if it has one).
func (d *Dialect) CloseSockets() {
	d.socks.group.Close()
	if d.socks.own {
		d.socks.engine.Close()
	}
}

// serveStrictSocket serves /lantern/socket: HELLO, then the 5 s INIT
// deadline.
func (d *Dialect) serveStrictSocket(c echo.Context) error {
	sock, err := d.socks.engine.Upgrade(c)
	if err != nil {
		d.socks.group.CountClose("upgrade_failed")
		return nil
	}
	if !d.socks.opts.Conns.Admit(c.Request(), sock) {
		d.socks.group.CountClose("1013")
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
func (d *Dialect) run(sock *socket.Socket, first *socket.Message, initDeadline bool) {
	c := newConn(d, sock, initDeadline)
	if !c.Join(c) { // refused with 1001: the dialect is closing
		c.stopTimer()
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
