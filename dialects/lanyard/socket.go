package lanyard

import (
	"net/url"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/server"
)

// SocketOptions tunes the Lanyard WebSocket; zero fields take the defaults.
type SocketOptions struct {
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
	// it): server.SocketReadLimit, Lanyard's own limit.
	MaxMessageSize int64
	// Caps are the per-socket abuse caps (message rate: close 1008
	// rate_limited; subscribe_to_ids length: close 1008
	// too_many_subscriptions); zero fields are off.
	Caps server.SocketCapsConfig
	// Conns caps the sockets per client address (close 1013); nil is no
	// cap. Share one limiter between every endpoint.
	Conns *server.ConnLimiter
}

func (o SocketOptions) withDefaults() SocketOptions {
	if o.Inactivity <= 0 {
		o.Inactivity = server.SocketInactivity
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
		o.MaxMessageSize = server.SocketReadLimit
	}
	return o
}

// sockets is the dialect's WebSocket side: its renderers, its open
// connections and their counters.
type sockets struct {
	hub      *core.Hub
	opts     SocketOptions
	presence core.RendererID
	frames   frameRenderers
	hello    [2][]byte // plain, zlib
	stats    socketCounters
	prepared server.PreparedFrames

	mu       sync.Mutex
	closed   bool
	live     map[*conn]struct{}
	conns    sync.WaitGroup
	shutdown chan struct{}
}

func newSockets(hub *core.Hub, presence core.RendererID, opts SocketOptions) *sockets {
	return &sockets{
		hub: hub, opts: opts.withDefaults(), presence: presence,
		frames:   registerFrames(hub, presence),
		hello:    [2][]byte{[]byte(helloFrame), deflate([]byte(helloFrame))},
		shutdown: make(chan struct{}),
		live:     map[*conn]struct{}{},
	}
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

// remove forgets a finished connection.
func (s *sockets) remove(c *conn) {
	s.mu.Lock()
	delete(s.live, c)
	s.mu.Unlock()
	s.stats.open.Add(-1)
	s.conns.Done()
}

// registerSocket adds the strictly-Lanyard WebSocket endpoint
// /lanyard/socket (docs/compat/lanyard.md §5); the shared /socket is the server's
// (server.RegisterSocket), which hands Lanyard clients over through
// ClaimSocket and ServeSocket.
func (d *Dialect) registerSocket(e *echo.Echo) {
	e.GET("/lanyard/socket", func(c echo.Context) error {
		sock, err := server.UpgradeSocket(c)
		if err != nil {
			d.sockets.stats.closed("upgrade_failed")
			return nil
		}
		if !d.sockets.opts.Conns.Admit(c.Request(), sock) {
			d.sockets.stats.closed("1013")
			return nil
		}
		zlib := c.QueryParam("compression") == server.CompressionZlib
		d.sockets.serve(sock, zlib, true, nil)
		return nil
	})
}

// Name implements server.SocketDialect.
func (d *Dialect) Name() string { return "lanyard" }

// ClaimSocket implements server.SocketDialect: Lanyard takes every
// ?compression=zlib_json socket, op 2 with a subscribe_to_* key or without
// an object d, op 3, op 4, and anything that is not a JSON object. List
// Lanyard first in server.RegisterSocket so that it also receives the
// messages no dialect claims.
func (d *Dialect) ClaimSocket(first server.SocketMessage, query url.Values) bool {
	return query.Get("compression") == server.CompressionZlib || claimsFirstMessage(first.Type, first.Data)
}

// ServeSocket implements server.SocketDialect: the shared Hello was sent, and
// the first message is processed as this socket's first frame.
func (d *Dialect) ServeSocket(c *server.SocketConn) {
	first := c.First
	d.sockets.serve(c.Socket, c.Query.Get("compression") == server.CompressionZlib, false, &first)
}

// CloseSockets closes every Lanyard socket with 1001 (Going Away), refuses
// new ones the same way, and returns once they are all closed (each waits
// at most SocketOptions.CloseGrace for its client's reply). Call it on
// shutdown, after the HTTP server stopped accepting requests.
func (d *Dialect) CloseSockets() {
	s := d.sockets
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.shutdown)
	}
	live := make([]*conn, 0, len(s.live))
	for c := range s.live {
		live = append(live, c)
	}
	s.mu.Unlock()
	for _, c := range live {
		c.actor.Wake()
	}
	s.conns.Wait()
}

// SocketStats returns the Lanyard sockets' counters, for /metrics.
func (d *Dialect) SocketStats() server.SocketStats { return d.sockets.stats.snapshot() }

// serve takes over one upgraded socket and returns at once: from here on
// the socket's read turns and its actor run it. sendHello is false when the
// shared /socket already greeted the client; first is the message it
// read, if any (serve is then called from that read turn).
func (s *sockets) serve(sock *server.Socket, zlib, sendHello bool, first *server.SocketMessage) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = server.CloseSocket(sock.Conn, websocket.CloseGoingAway, "")
		sock.Close()
		s.stats.closed("1001")
		return
	}
	s.conns.Add(1)
	s.stats.opened.Add(1)
	s.stats.open.Add(1)
	var hello []byte
	if sendHello {
		hello = s.hello[0]
		if zlib {
			hello = s.hello[1]
		}
	}
	c := newConn(s, sock, zlib, hello)
	s.live[c] = struct{}{}
	s.mu.Unlock()

	if first != nil {
		sock.SetHandler(c)
		c.SocketMessage(first.Type, first.Data)
	} else {
		sock.Start(c)
	}
	c.actor.Wake() // Hello, or the first message's command
}
