package lanyard

import (
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/socket"
)

// SocketOptions tunes the Lanyard WebSocket; zero fields take the defaults.
type SocketOptions struct {
	// Engine runs the sockets and holds them in its registry (group
	// "lanyard"); share one between every dialect, so that Engine.Close
	// ends them all. Nil gives the dialect an engine of its own, which
	// CloseSockets closes.
	Engine *socket.Engine
	// Inactivity closes (1002) a socket whose client sent nothing, not even
	// a ping, for this long: 60 s (docs/compat/lanyard.md §5.6).
	Inactivity time.Duration
	// WriteTimeout bounds one write to a client; a client that cannot take
	// a frame in that time is dropped: 10 s.
	WriteTimeout time.Duration
	// QueueSize bounds the events waiting to be written to one client; on
	// overflow the socket is closed with 1013: 1024.
	QueueSize int
	// CloseGrace is how long a closing socket waits for the client's close
	// frame before dropping the TCP connection: 1 s.
	CloseGrace time.Duration
	// MaxMessageSize is the largest client message (close 1009 beyond
	// it): socket.ReadLimit, Lanyard's own limit.
	MaxMessageSize int64
	// Caps are the per-socket abuse caps (message rate: close 1008
	// rate_limited; subscribe_to_ids length: close 1008
	// too_many_subscriptions); zero fields are off.
	Caps socket.CapsConfig
	// Conns caps the sockets per client address (close 1013); nil is no
	// cap. Share one limiter between every endpoint.
	Conns *socket.ConnLimiter
}

func (o SocketOptions) withDefaults() SocketOptions {
	if o.Inactivity <= 0 {
		o.Inactivity = socket.Inactivity
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 1024
	}
	if o.CloseGrace <= 0 {
		o.CloseGrace = time.Second
	}
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = socket.ReadLimit
	}
	return o
}

// sockets is the dialect's WebSocket side: its renderers and its group
// in the engine's registry (open connections and their counters).
type sockets struct {
	hub      *core.Hub
	opts     SocketOptions
	presence core.RendererID
	frames   frameRenderers
	hello    [2][]byte // plain, zlib
	engine   *socket.Engine
	own      bool // the engine is the dialect's own: CloseSockets closes it
	group    *socket.Group
}

func newSockets(hub *core.Hub, presence core.RendererID, opts SocketOptions) *sockets {
	s := &sockets{
		hub: hub, opts: opts.withDefaults(), presence: presence,
		frames: registerFrames(hub, presence),
		hello:  [2][]byte{[]byte(helloFrame), deflate([]byte(helloFrame))},
		engine: opts.Engine,
	}
	if s.engine == nil {
		s.engine, s.own = socket.NewEngine(), true
	}
	s.group = s.engine.Group("lanyard")
	for _, label := range initLabels {
		for _, comp := range [...]string{"json", "zlib"} {
			s.group.DeclareInits(socket.Init{Type: label, Compression: comp})
		}
	}
	return s
}

// registerSocket adds the strictly-Lanyard WebSocket endpoint
// /lanyard/socket (docs/compat/lanyard.md §5); the shared /socket is the server's
// (socket.Engine.Shared), which hands Lanyard clients over through
// ClaimSocket and ServeSocket.
func (d *Dialect) registerSocket(e *echo.Echo) {
	e.GET("/lanyard/socket", func(c echo.Context) error {
		sock, err := d.sockets.engine.Upgrade(c)
		if err != nil {
			d.sockets.group.CountClose("upgrade_failed")
			return nil
		}
		if !d.sockets.opts.Conns.Admit(c.Request(), sock) {
			d.sockets.group.CountClose("1013")
			return nil
		}
		zlib := c.QueryParam("compression") == socket.CompressionZlib
		d.sockets.serve(sock, zlib, true, nil)
		return nil
	})
}

// Name implements socket.Dialect.
func (d *Dialect) Name() string { return "lanyard" }

// ClaimSocket implements socket.Dialect: Lanyard takes every
// ?compression=zlib_json socket, op 2 with a subscribe_to_* key or without
// an object d, op 3, op 4, and anything that is not a JSON object. List
// Lanyard first in socket.Engine.Shared so that it also receives the
// messages no dialect claims.
func (d *Dialect) ClaimSocket(first socket.Message, query url.Values) bool {
	return query.Get("compression") == socket.CompressionZlib || claimsFirstMessage(first.Type, first.Data)
}

// ServeSocket implements socket.Dialect: the shared Hello was sent, and
// the first message is processed as this socket's first frame.
func (d *Dialect) ServeSocket(c *socket.Handoff) {
	first := c.First
	d.sockets.serve(c.Socket, c.Query.Get("compression") == socket.CompressionZlib, false, &first)
}

// CloseSockets closes every Lanyard socket with 1001 (Going Away) and
// ends every event stream, refuses new ones the same way, and returns once they are all closed (each waits
// at most SocketOptions.CloseGrace for its client's reply). The engine's
// Close does the same for every dialect at once; CloseSockets is for a
// dialect alone (and closes the dialect's own engine, if it has one).
func (d *Dialect) CloseSockets() {
	d.sockets.group.Close()
	d.streams.group.Close()
	if d.sockets.own {
		d.sockets.engine.Close()
	}
}

// SocketStats returns the Lanyard sockets' counters, for /metrics.
func (d *Dialect) SocketStats() socket.Stats { return d.sockets.group.Stats() }

// serve takes over one upgraded socket and returns at once: from here on
// the socket's read turns and its actor run it. sendHello is false when the
// shared /socket already greeted the client; first is the message it
// read, if any (serve is then called from that read turn).
func (s *sockets) serve(sock *socket.Socket, zlib, sendHello bool, first *socket.Message) {
	var hello []byte
	if sendHello {
		hello = s.hello[0]
		if zlib {
			hello = s.hello[1]
		}
	}
	c := newConn(s, sock, zlib, hello)
	if !c.Join(c) { // refused with 1001: the dialect is closing
		return
	}

	if first != nil {
		sock.SetHandler(c)
		c.SocketMessage(first.Type, first.Data)
	} else {
		sock.Start(c)
	}
	c.Actor.Wake() // Hello, or the first message's command
}
