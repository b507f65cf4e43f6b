package lanyard

import (
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/socket"
)

// conn is one Lanyard socket: the lifecycle every dialect shares
// (socket.Conn: socket, actor, hub subscription, caps, its place in the
// engine's "lanyard" group) and Lanyard's protocol on top. It holds no
// goroutine: the engine's read turns parse client messages into commands
// for its inbox, the hub notifies it of pending events, and its Actor —
// run on the engine's pool whenever there is work — writes Hello,
// INIT_STATEs and PRESENCE_UPDATEs, owns the subscription state and ends
// the socket. Subscribing in the actor keeps Hello first and INIT_STATE
// before any PRESENCE_UPDATE of the users it covers.
type conn struct {
	*socket.Conn
	s *sockets

	mu      sync.Mutex
	inbox   []clientCmd
	readEnd *clientCmd // set once reading ended

	// owned by the actor
	hello  []byte
	events []core.Event
	ids    core.IDSet // users followed individually (kept while they are away)

	// The flags sit together, so that a connection fills fewer bytes
	// (one size class down: 144 bytes, not 176).
	zlib bool
	// reader side (read turns are serialised by the engine)
	closingRead bool // a closing command was queued: ignore what follows
	// under mu
	syncOver bool
	// owned by the actor
	waitSync bool // an op 2 waits for the first member sync
	finished bool // End was called: the engine closes the socket
	all      bool // subscribe_to_all
	multi    bool // subscribed by ids or all: updates carry user_id
}

func newConn(s *sockets, sock *socket.Socket, zlib bool, hello []byte) *conn {
	sock.Conn.SetReadLimit(s.opts.MaxMessageSize)
	c := &conn{s: s, zlib: zlib, hello: hello}
	c.Conn = s.engine.NewConn(sock, socket.ConnOptions{Group: s.group, Hub: s.hub, QueueSize: s.opts.QueueSize,
		Caps: s.opts.Caps, WriteTimeout: s.opts.WriteTimeout, Run: c.run})
	sock.SetIdle(s.opts.Inactivity)
	return c
}

// SocketMessage implements socket.Handler: one client message,
// parsed on the read turn and queued for the actor.
func (c *conn) SocketMessage(typ int, data []byte) {
	if c.closingRead {
		return // after a closing message: read (and ignore) until the client answers
	}
	c.Received()
	cmd := parseClientMessage(typ, data)
	if !c.Caps.AllowMessage() { // every message counts, heartbeats too
		cmd = closeCmd(websocket.ClosePolicyViolation, reasonRateLimited, labelPolicyViolated)
	}
	if cmd.kind == cmdNone {
		return
	}
	if cmd.kind == cmdClose {
		c.closingRead = true
	}
	c.mu.Lock()
	c.inbox = append(c.inbox, cmd)
	c.mu.Unlock()
	c.Actor.Wake()
}

// SocketReadEnd implements socket.Handler.
func (c *conn) SocketReadEnd(err error) {
	cmd := readError(err)
	c.mu.Lock()
	c.readEnd = &cmd
	c.mu.Unlock()
	c.Actor.Wake()
}

// readError turns the error that ended reading into the closing command.
// The library has already answered a client close (echoing its code), an
// oversize message (1009) and protocol errors (1002).
func readError(err error) clientCmd {
	var ce *websocket.CloseError
	switch {
	case socket.IsTimeout(err):
		return closeCmd(websocket.CloseProtocolError, "", "1002") // docs/compat/lanyard.md §5.6: no reason
	case errors.As(err, &ce):
		return closeCmd(0, "", strconv.Itoa(ce.Code))
	case errors.Is(err, websocket.ErrReadLimit):
		cmd := closeCmd(0, "", "1009") // the library sent the close frame
		cmd.linger = true              // and the rest of the message is still coming
		return cmd
	}
	return closeCmd(0, "", "1006")
}

// run is the actor: it writes Hello, then runs queued commands and hub
// events until the socket ends.
func (c *conn) run() {
	if c.finished {
		return
	}
	c.mu.Lock()
	cmds := c.inbox
	c.inbox = nil
	readEnd, syncOver := c.readEnd, c.syncOver
	c.mu.Unlock()
	if c.hello != nil {
		hello := c.hello
		c.hello = nil
		if !c.write(hello) {
			c.end(closeCmd(0, "", "1006"))
			return
		}
	}
	if c.Closing() { // socket.Conn.GoingAway woke us
		if readEnd != nil { // the client left first: count why
			c.end(*readEnd)
			return
		}
		c.end(closeCmd(websocket.CloseGoingAway, "", "1001"))
		return
	}
	if c.waitSync {
		if !syncOver && !c.s.hub.IsSynced() {
			c.requeue(cmds)
			if readEnd != nil {
				c.end(*readEnd)
			}
			return
		}
		c.waitSync = false
	}
	for i, cmd := range cmds {
		switch cmd.kind {
		case cmdInit:
			if !syncOver && !c.s.hub.IsSynced() {
				c.waitSync = true
				c.requeue(cmds[i:])
				go c.awaitSync()
				return
			}
			if c.overSubscribed(cmd.ids) {
				c.end(closeCmd(websocket.ClosePolicyViolation, reasonTooManySubs, labelPolicyViolated))
				return
			}
			if !c.initialize(cmd) {
				c.end(closeCmd(0, "", "1006"))
				return
			}
		case cmdUnsub:
			c.unsubscribe(cmd)
		case cmdClose:
			c.end(cmd)
			return
		}
	}
	if readEnd != nil {
		c.end(*readEnd)
		return
	}
	if c.Sub.Overflowed() { // the hub dropped a client too slow to read
		c.end(closeCmd(closeTooSlow, reasonTooSlow, strconv.Itoa(closeTooSlow)))
		return
	}
	c.events = c.Sub.Drain(c.events[:0])
	for _, ev := range c.events {
		if !c.update(ev) {
			c.end(closeCmd(0, "", "1006"))
			return
		}
	}
	clear(c.events)
	if cap(c.events) > 64 {
		c.events = nil
	}
}

// requeue puts commands the actor cannot run yet back in front of the
// inbox.
func (c *conn) requeue(cmds []clientCmd) {
	if len(cmds) == 0 {
		return
	}
	c.mu.Lock()
	c.inbox = append(append([]clientCmd(nil), cmds...), c.inbox...)
	c.mu.Unlock()
}

// end ends the socket: the engine sends the close frame (if any) and,
// when the client may answer, waits — without holding a goroutine — for
// its reply or the grace period before closing (socket.Socket.End); then
// the close is counted under cmd's label. When the client may still be
// sending (an oversize message), the TCP connection is closed gently.
func (c *conn) end(cmd clientCmd) {
	c.finished = true
	c.Conn.End(cmd.code, cmd.reason, c.s.opts.CloseGrace, cmd.linger, cmd.label)
}

// frameType is the WebSocket message type of this socket's frames:
// binary zlib streams in zlib_json mode, else text.
func (c *conn) frameType() int {
	if c.zlib {
		return websocket.BinaryMessage
	}
	return websocket.TextMessage
}

// write sends one data frame within the write timeout.
func (c *conn) write(frame []byte) bool { return c.Write(c.frameType(), frame) }

// writeShared sends a frame that many sockets send alike, framed once
// (socket.PreparedFrames).
func (c *conn) writeShared(frame []byte) bool { return c.WriteShared(c.frameType(), frame) }

// update writes the PRESENCE_UPDATE for one hub event, from the bytes the
// hub caches per snapshot.
func (c *conn) update(ev core.Event) bool {
	if ev.Type == core.MemberLeft {
		return true // docs/compat/lanyard.md §5.7: leaving produces no socket message
	}
	if !c.all && !c.ids.Has(ev.User.ID) {
		return true // queued before an unsubscribe
	}
	return c.writeShared(c.s.hub.Render(c.s.frames[b2i(c.multi)][b2i(c.zlib)], ev.User))
}

// syncWait bounds how long an op 2 waits for the first member sync.
const syncWait = 30 * time.Second

// awaitSync holds an op 2 that arrives before the gateway's first full
// member sync (right after a restart, when clients reconnect at once), so
// users still being loaded are not answered "not monitored" and dropped
// from the subscription. It waits (on its own short-lived goroutine, only
// during that window) at most syncWait, then wakes the actor.
func (c *conn) awaitSync() {
	t := time.NewTimer(syncWait)
	defer t.Stop()
	select {
	case <-c.s.hub.Synced():
	case <-t.C:
	case <-c.ClosingChan():
	}
	c.mu.Lock()
	c.syncOver = true
	c.mu.Unlock()
	c.Actor.Wake()
}

// initialize subscribes (docs/compat/lanyard.md §5.3) and writes the INIT_STATE. Subscribing
// comes before reading the snapshots, so no change falls in between.
func (c *conn) initialize(cmd clientCmd) bool {
	var frame []byte
	switch cmd.init {
	case initAll:
		c.all, c.multi = true, true
		c.Sub.SetAll(true)
		frame = c.s.initMapFrame(c.s.hub.All())
	case initIDs, initSingle:
		c.multi = c.multi || cmd.init == initIDs
		users := c.follow(cmd.ids)
		if cmd.init == initIDs {
			frame = c.s.initMapFrame(users)
		} else if len(users) == 1 {
			frame = c.s.initSingleFrame(users[0])
		} else {
			frame = c.s.initSingleFrame(nil)
		}
	}
	comp := "json"
	if c.zlib {
		comp = "zlib"
	}
	c.s.group.CountInit(socket.Init{Type: initLabels[cmd.init], Compression: comp})
	if c.zlib {
		frame = deflate(frame)
	}
	return c.write(frame)
}

// follow subscribes to the monitored users among ids and returns them,
// without duplicates. Unmonitored ids are not remembered (docs/compat/lanyard.md §5.3), except
// those this socket already followed: they keep their subscription for
// when they come back (§9).
func (c *conn) follow(ids []string) []*core.User {
	uniq := make([]string, 0, len(ids))
	seen := make(map[string]struct{}, len(ids))
	var fresh []string
	for _, id := range ids {
		if _, dup := seen[id]; dup {
			continue
		}
		seen[id] = struct{}{}
		uniq = append(uniq, id)
		if !c.ids.Has(id) {
			fresh = append(fresh, id)
		}
	}
	c.Sub.Add(fresh...)
	users := make([]*core.User, 0, len(uniq))
	var gone []string
	for _, id := range uniq {
		if u, ok := c.s.hub.Get(id); ok {
			users = append(users, u)
			c.ids.Add(id)
		} else if !c.ids.Has(id) {
			gone = append(gone, id)
		}
	}
	c.Sub.Remove(gone...)
	return users
}

// unsubscribe applies op 4 (docs/compat/lanyard.md §5.5); it never sends anything.
func (c *conn) unsubscribe(cmd clientCmd) {
	if cmd.all {
		c.all = false
		c.Sub.SetAll(false)
		c.Sub.Remove(c.ids.List()...)
		c.ids.Clear()
		return
	}
	for _, id := range cmd.ids {
		c.ids.Remove(id)
	}
	c.Sub.Remove(cmd.ids...)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Close codes of the per-socket caps, where Lanyard's spec is silent:
// 1008 Policy Violation with a reason naming the cap.
const (
	reasonRateLimited   = "rate_limited"
	reasonTooManySubs   = "too_many_subscriptions"
	labelPolicyViolated = "1008"
)

// overSubscribed reports whether following ids as well would take the
// socket past its subscription cap.
func (c *conn) overSubscribed(ids []string) bool {
	max := c.s.opts.Caps.MaxSubscriptions
	if max <= 0 || len(ids)+c.ids.Len() <= max {
		return false
	}
	n := c.ids.Len()
	seen := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		if c.ids.Has(id) {
			continue
		}
		if _, ok := seen[id]; !ok {
			seen[id] = struct{}{}
			n++
		}
	}
	return n > max
}
