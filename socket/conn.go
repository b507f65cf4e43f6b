package socket

import (
	"time"

	"github.com/gorilla/websocket"

	"github.com/halyardhq/halyard/core"
)

// Conn is what every dialect's WebSocket connection has alike, so that
// they share one lifecycle: open (NewConn, then Join — refused with 1001
// once the group is closing), subscribe (a hub subscription that wakes
// the connection's actor), write (counted, within the write timeout;
// shared payloads framed once), and end (End: the close frame, the grace
// period, then the subscription and the registry let go, the close
// counted). A dialect embeds it in its connection and keeps only its
// protocol: parsing, rendering, ops.
//
// Conn implements Member: GoingAway wakes the actor, whose run sees
// Group.IsClosing and ends the socket with the dialect's going-away code.
type Conn struct {
	// Socket is the engine's socket; WS its WebSocket.
	Socket *Socket
	WS     *websocket.Conn
	// Actor runs the dialect's run function on the engine's pool.
	Actor *Actor
	// Sub is the connection's hub subscription; it notifies the actor.
	Sub *core.Subscription
	// Caps is the socket's message-rate window (nil: no cap).
	Caps *Caps

	group        *Group
	lease        *Lease
	prepared     *PreparedFrames
	writeTimeout time.Duration
}

// ConnOptions says how a dialect's connections are opened.
type ConnOptions struct {
	// Group is the dialect's group in the engine's registry.
	Group *Group
	// Hub is subscribed to, with QueueSize events at most pending (the
	// hub's default when 0).
	Hub       *core.Hub
	QueueSize int
	// Caps are the per-socket caps.
	Caps CapsConfig
	// WriteTimeout bounds one write: 10 s when 0.
	WriteTimeout time.Duration
	// Run is the dialect's actor: it owns the connection's state and
	// every write.
	Run func()
}

// NewConn prepares a connection on sock: its actor, hub subscription and
// caps. Call Join next.
func (e *Engine) NewConn(sock *Socket, opts ConnOptions) *Conn {
	c := &Conn{Socket: sock, WS: sock.Conn, Caps: e.limits.newCaps(opts.Caps), group: opts.Group,
		lease: opts.Group.NewLease(), prepared: &e.Prepared, writeTimeout: opts.WriteTimeout}
	if c.writeTimeout <= 0 {
		c.writeTimeout = 10 * time.Second
	}
	c.Actor = e.NewActor(opts.Run)
	c.Sub = opts.Hub.SubscribeNotify(opts.QueueSize, c.Actor.Wake)
	return c
}

// Join registers the connection as m (the dialect's connection, which
// embeds c) in its group. Once the group is closing it refuses: the
// socket is closed with 1001 (Going Away), counted, and false returned.
func (c *Conn) Join(m Member) bool {
	if c.lease.Join(m) {
		return true
	}
	c.Sub.Close()
	_ = SendClose(c.WS, websocket.CloseGoingAway, "")
	c.Socket.Close()
	c.group.CountClose("1001")
	return false
}

// GoingAway implements Member: the actor sees the group closing.
func (c *Conn) GoingAway() { c.Actor.Wake() }

// Closing reports whether the connection's group is closing: the actor
// then ends the socket with its going-away code.
func (c *Conn) Closing() bool { return c.group.IsClosing() }

// ClosingChan is closed once the connection's group closes.
func (c *Conn) ClosingChan() <-chan struct{} { return c.group.Closing() }

// Received counts one client message.
func (c *Conn) Received() { c.lease.In() }

// Write sends one data frame of type typ within the write timeout and
// counts it; false when the write failed.
func (c *Conn) Write(typ int, frame []byte) bool {
	_ = c.WS.SetWriteDeadline(time.Now().Add(c.writeTimeout))
	if c.WS.WriteMessage(typ, frame) != nil {
		return false
	}
	c.lease.Out()
	return true
}

// WriteShared sends a frame that many sockets send alike (a hub-cached
// rendering), framed once for all of them (PreparedFrames).
func (c *Conn) WriteShared(typ int, frame []byte) bool {
	pm := c.prepared.Get(typ, frame)
	if pm == nil {
		return c.Write(typ, frame)
	}
	_ = c.WS.SetWriteDeadline(time.Now().Add(c.writeTimeout))
	if c.WS.WritePreparedMessage(pm) != nil {
		return false
	}
	c.lease.Out()
	return true
}

// End ends the connection (Socket.End: the close frame code with reason,
// 0 for none; then the client's reply or grace; linger for a client that
// may still be sending), then closes the subscription and leaves the
// group, counting the close under label. Call it once, from the actor.
func (c *Conn) End(code int, reason string, grace time.Duration, linger bool, label string) {
	c.Socket.End(code, reason, grace, linger, func() {
		c.Sub.Close()
		c.Caps.release()
		c.lease.Done(label)
	})
}
