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
	// a ping, for this long: 60 s (§5.6).
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

	mu       sync.Mutex
	closed   bool
	conns    sync.WaitGroup
	shutdown chan struct{}
}

func newSockets(hub *core.Hub, presence core.RendererID, opts SocketOptions) *sockets {
	return &sockets{
		hub: hub, opts: opts.withDefaults(), presence: presence,
		frames:   registerFrames(hub, presence),
		hello:    [2][]byte{[]byte(helloFrame), deflate([]byte(helloFrame))},
		shutdown: make(chan struct{}),
	}
}

// registerSocket adds the strictly-Lanyard WebSocket endpoint
// /lanyard/socket (§5); the shared /socket is the server's
// (server.RegisterSocket), which hands Lanyard clients over through
// ClaimSocket and ServeSocket.
func (d *Dialect) registerSocket(e *echo.Echo) {
	e.GET("/lanyard/socket", func(c echo.Context) error {
		ws, err := server.UpgradeSocket(c)
		if err != nil {
			d.sockets.stats.closed("upgrade_failed")
			return nil
		}
		zlib := c.QueryParam("compression") == server.CompressionZlib
		d.sockets.serve(ws, zlib, true, nil)
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
	d.sockets.serve(c.Conn, c.Query.Get("compression") == server.CompressionZlib, false, &first)
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
	s.mu.Unlock()
	s.conns.Wait()
}

// SocketStats returns the Lanyard sockets' counters, for /metrics.
func (d *Dialect) SocketStats() server.SocketStats { return d.sockets.stats.snapshot() }

// serve runs one upgraded socket until it closes. sendHello is false when
// the shared /socket already greeted the client; first is the message it
// read, if any.
func (s *sockets) serve(ws *websocket.Conn, zlib, sendHello bool, first *server.SocketMessage) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = server.CloseSocket(ws, websocket.CloseGoingAway, "")
		_ = ws.Close()
		s.stats.closed("1001")
		return
	}
	s.conns.Add(1)
	s.mu.Unlock()
	defer s.conns.Done()

	s.stats.opened.Add(1)
	s.stats.open.Add(1)
	defer s.stats.open.Add(-1)

	c := newConn(s, ws, zlib)
	var hello []byte
	if sendHello {
		hello = s.hello[0]
		if zlib {
			hello = s.hello[1]
		}
	}
	go c.writeLoop(hello)
	c.readLoop(first)
	<-c.writeDone
}
