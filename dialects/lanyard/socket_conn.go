package lanyard

import (
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/server"
)

// conn is one Lanyard socket. It holds no goroutine: the engine's read
// turns (server.Socket) parse client messages into commands for its
// inbox, the hub notifies it of pending events, and its Actor — run on the
// shared pool whenever there is work — writes Hello, INIT_STATEs and
// PRESENCE_UPDATEs, owns the subscription state and closes the socket.
// Subscribing in the actor keeps Hello first and INIT_STATE before any
// PRESENCE_UPDATE of the users it covers.
type conn struct {
	s     *sockets
	sock  *server.Socket
	ws    *websocket.Conn
	zlib  bool
	sub   *core.Subscription
	actor *server.Actor
	caps  *server.SocketCaps

	// reader side (read turns are serialised by the engine)
	closingRead bool // a closing command was queued: ignore what follows

	mu        sync.Mutex
	inbox     []clientCmd
	readEnd   *clientCmd // set once reading ended
	graceOver bool
	syncOver  bool

	// owned by the actor
	hello     []byte
	events    []core.Event
	waitSync  bool // an op 2 waits for the first member sync
	ending    bool // close sent; waiting for the client's reply or the grace period
	endCmd    clientCmd
	finished  bool
	readDone  bool
	graceTime *time.Timer
	ids       map[string]struct{} // users followed individually (kept while they are away)
	all       bool                // subscribe_to_all
	multi     bool                // subscribed by ids or all: updates carry user_id
}

func newConn(s *sockets, sock *server.Socket, zlib bool, hello []byte) *conn {
	ws := sock.Conn
	ws.SetReadLimit(s.opts.MaxMessageSize)
	c := &conn{s: s, sock: sock, ws: ws, zlib: zlib, hello: hello, ids: map[string]struct{}{},
		caps: server.NewSocketCaps(s.opts.Caps)}
	c.actor = server.NewActor(c.run)
	c.sub = s.hub.SubscribeNotify(s.opts.QueueSize, c.actor.Wake)
	sock.SetIdle(s.opts.Inactivity)
	return c
}

// SocketMessage implements server.SocketHandler: one client message,
// parsed on the read turn and queued for the actor.
func (c *conn) SocketMessage(typ int, data []byte) {
	if c.closingRead {
		return // after a closing message: read (and ignore) until the client answers
	}
	c.s.stats.in.Add(1)
	cmd := parseClientMessage(typ, data)
	if !c.caps.AllowMessage() { // every message counts, heartbeats too
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
	c.actor.Wake()
}

// SocketReadEnd implements server.SocketHandler.
func (c *conn) SocketReadEnd(err error) {
	cmd := readError(err)
	c.mu.Lock()
	c.readEnd = &cmd
	c.mu.Unlock()
	c.actor.Wake()
}

// readError turns the error that ended reading into the closing command.
// The library has already answered a client close (echoing its code), an
// oversize message (1009) and protocol errors (1002).
func readError(err error) clientCmd {
	var ce *websocket.CloseError
	switch {
	case server.IsSocketTimeout(err):
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
	readEnd, graceOver, syncOver := c.readEnd, c.graceOver, c.syncOver
	c.mu.Unlock()
	if readEnd != nil {
		c.readDone = true
	}
	if c.ending {
		if c.readDone || graceOver {
			c.finish()
		}
		return
	}
	if c.hello != nil {
		hello := c.hello
		c.hello = nil
		if !c.write(hello) {
			c.end(closeCmd(0, "", "1006"))
			return
		}
	}
	if c.s.isClosed() {
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
	if c.sub.Overflowed() { // the hub dropped a client too slow to read
		c.end(closeCmd(closeTooSlow, reasonTooSlow, strconv.Itoa(closeTooSlow)))
		return
	}
	c.events = c.sub.Drain(c.events[:0])
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

// end sends the close frame (if any) and, when the client may answer it,
// waits — without holding a goroutine — for the reader to see the reply
// or the grace period to end before finishing.
func (c *conn) end(cmd clientCmd) {
	c.ending, c.endCmd = true, cmd
	gentle := cmd.linger
	if cmd.code != 0 && server.CloseSocket(c.ws, cmd.code, cmd.reason) == nil {
		gentle = true
	}
	if !gentle || c.readDone {
		c.finish()
		return
	}
	c.graceTime = time.AfterFunc(c.s.opts.CloseGrace, func() {
		c.mu.Lock()
		c.graceOver = true
		c.mu.Unlock()
		c.actor.Wake()
	})
}

// finish closes the connection and counts the close. When the client may
// still be sending (an oversize message), the TCP connection is closed
// gently (server.LingerClose) so the client reads the close frame rather
// than a reset.
func (c *conn) finish() {
	c.finished = true
	if c.graceTime != nil {
		c.graceTime.Stop()
	}
	c.sub.Close()
	if c.readDone && c.endCmd.linger {
		c.sock.LingerClose(c.s.opts.CloseGrace)
	} else {
		c.sock.Close()
	}
	c.s.stats.closed(c.endCmd.label)
	c.s.remove(c)
}

// write sends one data frame within the write timeout.
func (c *conn) write(frame []byte) bool {
	typ := websocket.TextMessage
	if c.zlib {
		typ = websocket.BinaryMessage
	}
	_ = c.ws.SetWriteDeadline(time.Now().Add(c.s.opts.WriteTimeout))
	if c.ws.WriteMessage(typ, frame) != nil {
		return false
	}
	c.s.stats.out.Add(1)
	return true
}

// writeShared sends a frame that many sockets send alike, framed once
// (server.PreparedFrames).
func (c *conn) writeShared(frame []byte) bool {
	typ := websocket.TextMessage
	if c.zlib {
		typ = websocket.BinaryMessage
	}
	pm := c.s.prepared.Get(typ, frame)
	if pm == nil {
		return c.write(frame)
	}
	_ = c.ws.SetWriteDeadline(time.Now().Add(c.s.opts.WriteTimeout))
	if c.ws.WritePreparedMessage(pm) != nil {
		return false
	}
	c.s.stats.out.Add(1)
	return true
}

// update writes the PRESENCE_UPDATE for one hub event, from the bytes the
// hub caches per snapshot.
func (c *conn) update(ev core.Event) bool {
	if ev.Type == core.MemberLeft {
		return true // docs/compat/lanyard.md §5.7: leaving produces no socket message
	}
	if _, ok := c.ids[ev.User.ID]; !ok && !c.all {
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
	case <-c.s.shutdown:
	}
	c.mu.Lock()
	c.syncOver = true
	c.mu.Unlock()
	c.actor.Wake()
}

// initialize subscribes (docs/compat/lanyard.md §5.3) and writes the INIT_STATE. Subscribing
// comes before reading the snapshots, so no change falls in between.
func (c *conn) initialize(cmd clientCmd) bool {
	var frame []byte
	switch cmd.init {
	case initAll:
		c.all, c.multi = true, true
		c.sub.SetAll(true)
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
	c.s.stats.initialized(cmd.init, c.zlib)
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
		if _, ok := c.ids[id]; !ok {
			fresh = append(fresh, id)
		}
	}
	c.sub.Add(fresh...)
	users := make([]*core.User, 0, len(uniq))
	var gone []string
	for _, id := range uniq {
		if u, ok := c.s.hub.Get(id); ok {
			users = append(users, u)
			c.ids[id] = struct{}{}
		} else if _, had := c.ids[id]; !had {
			gone = append(gone, id)
		}
	}
	c.sub.Remove(gone...)
	return users
}

// unsubscribe applies op 4 (docs/compat/lanyard.md §5.5); it never sends anything.
func (c *conn) unsubscribe(cmd clientCmd) {
	if cmd.all {
		c.all = false
		c.sub.SetAll(false)
		ids := make([]string, 0, len(c.ids))
		for id := range c.ids {
			ids = append(ids, id)
		}
		c.sub.Remove(ids...)
		clear(c.ids)
		return
	}
	for _, id := range cmd.ids {
		delete(c.ids, id)
	}
	c.sub.Remove(cmd.ids...)
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
	if max <= 0 || len(ids)+len(c.ids) <= max {
		return false
	}
	n := len(c.ids)
	seen := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		if _, ok := c.ids[id]; ok {
			continue
		}
		if _, ok := seen[id]; !ok {
			seen[id] = struct{}{}
			n++
		}
	}
	return n > max
}
