package lanyard

import (
	"errors"
	"strconv"
	"time"

	"github.com/gorilla/websocket"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/server"
)

// conn is one Lanyard socket. Its reader (the HTTP handler's goroutine)
// parses client messages and passes commands, in order, to its writer
// goroutine, which alone writes data frames, owns the subscription state
// and closes the connection. Subscribing in the writer keeps Hello first
// and INIT_STATE before any PRESENCE_UPDATE of the users it covers.
type conn struct {
	s    *sockets
	ws   *websocket.Conn
	zlib bool
	sub  *core.Subscription

	ctrl      chan clientCmd
	readDone  chan struct{}
	writeDone chan struct{}

	// owned by the writer
	ids   map[string]struct{} // users followed individually (kept while they are away)
	all   bool                // subscribe_to_all
	multi bool                // subscribed by ids or all: updates carry user_id
}

func newConn(s *sockets, ws *websocket.Conn, zlib bool) *conn {
	ws.SetReadLimit(server.SocketReadLimit)
	server.KeepReadDeadline(ws, s.opts.Inactivity)
	return &conn{
		s: s, ws: ws, zlib: zlib, sub: s.hub.Subscribe(s.opts.QueueSize),
		ctrl:      make(chan clientCmd, 16),
		readDone:  make(chan struct{}),
		writeDone: make(chan struct{}),
		ids:       map[string]struct{}{},
	}
}

// readLoop reads client messages until the socket ends, first being the
// message the shared /socket already read.
func (c *conn) readLoop(first *server.SocketMessage) {
	defer close(c.readDone)
	if first != nil {
		c.s.stats.in.Add(1)
		if !c.handle(parseClientMessage(first.Type, first.Data)) {
			return
		}
	}
	for {
		_ = c.ws.SetReadDeadline(time.Now().Add(c.s.opts.Inactivity))
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			c.send(readError(err))
			return
		}
		c.s.stats.in.Add(1)
		if !c.handle(parseClientMessage(typ, data)) {
			return
		}
	}
}

// handle passes a command to the writer; false when reading should stop.
// After a closing message it keeps reading (and ignoring) until the
// client answers the close frame or the grace period ends.
func (c *conn) handle(cmd clientCmd) bool {
	switch cmd.kind {
	case cmdNone:
		return true
	case cmdClose:
		if c.send(cmd) {
			_ = c.ws.SetReadDeadline(time.Now().Add(c.s.opts.CloseGrace))
			for {
				if _, _, err := c.ws.ReadMessage(); err != nil {
					break
				}
			}
		}
		return false
	}
	return c.send(cmd)
}

// send queues a command for the writer; false once the writer has ended.
func (c *conn) send(cmd clientCmd) bool {
	select {
	case c.ctrl <- cmd:
		return true
	case <-c.writeDone:
		return false
	}
}

// readError turns the error that ended reading into the closing command.
// The library has already answered a client close (echoing its code), an
// oversize message (1009) and protocol errors (1002).
func readError(err error) clientCmd {
	var ce *websocket.CloseError
	switch {
	case server.IsSocketTimeout(err):
		return closeCmd(websocket.CloseProtocolError, "", "1002") // §5.6: no reason
	case errors.As(err, &ce):
		return closeCmd(0, "", strconv.Itoa(ce.Code))
	case errors.Is(err, websocket.ErrReadLimit):
		cmd := closeCmd(0, "", "1009") // the library sent the close frame
		cmd.linger = true              // and the rest of the message is still coming
		return cmd
	}
	return closeCmd(0, "", "1006")
}

// writeLoop writes hello (if any), then INIT_STATEs and PRESENCE_UPDATEs
// until the socket ends, and closes it.
func (c *conn) writeLoop(hello []byte) {
	defer close(c.writeDone)
	defer c.sub.Close()
	if hello != nil && !c.write(hello) {
		c.end(closeCmd(0, "", "1006"))
		return
	}
	for {
		select {
		case ev, ok := <-c.sub.Events():
			if !ok { // only the hub closes it while we run: the queue overflowed
				c.end(closeCmd(closeTooSlow, reasonTooSlow, strconv.Itoa(closeTooSlow)))
				return
			}
			if !c.update(ev) {
				c.end(closeCmd(0, "", "1006"))
				return
			}
		case cmd := <-c.ctrl:
			switch cmd.kind {
			case cmdInit:
				if !c.awaitSync() {
					c.end(closeCmd(websocket.CloseGoingAway, "", "1001"))
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
		case <-c.s.shutdown:
			c.end(closeCmd(websocket.CloseGoingAway, "", "1001"))
			return
		}
	}
}

// end sends the close frame (if any), waits briefly for the reader to see
// the client's reply, closes the connection and counts the close. When the
// client may still be sending (an oversize message), the TCP connection is
// closed gently (server.LingerClose) so the client reads the close frame
// rather than a reset.
func (c *conn) end(cmd clientCmd) {
	gentle := cmd.linger
	if cmd.code != 0 && server.CloseSocket(c.ws, cmd.code, cmd.reason) == nil {
		gentle = true
	}
	readerDone := false
	if gentle {
		t := time.NewTimer(c.s.opts.CloseGrace)
		select {
		case <-c.readDone:
			readerDone = true
		case <-t.C:
		}
		t.Stop()
	}
	if readerDone && cmd.linger {
		server.LingerClose(c.ws, c.s.opts.CloseGrace)
	} else {
		_ = c.ws.Close()
	}
	c.s.stats.closed(cmd.label)
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

// update writes the PRESENCE_UPDATE for one hub event, from the bytes the
// hub caches per snapshot.
func (c *conn) update(ev core.Event) bool {
	if ev.Type == core.MemberLeft {
		return true // §5.7: leaving produces no socket message
	}
	if _, ok := c.ids[ev.User.ID]; !ok && !c.all {
		return true // queued before an unsubscribe
	}
	return c.write(c.s.hub.Render(c.s.frames[b2i(c.multi)][b2i(c.zlib)], ev.User))
}

// syncWait bounds how long an op 2 waits for the first member sync.
const syncWait = 30 * time.Second

// awaitSync holds an op 2 that arrives before the gateway's first full
// member sync (right after a restart, when clients reconnect at once), so
// users still being loaded are not answered "not monitored" and dropped
// from the subscription. It waits at most syncWait; false means the server
// is shutting down.
func (c *conn) awaitSync() bool {
	if c.s.hub.IsSynced() {
		return true
	}
	t := time.NewTimer(syncWait)
	defer t.Stop()
	select {
	case <-c.s.hub.Synced():
	case <-t.C:
	case <-c.s.shutdown:
		return false
	}
	return true
}

// initialize subscribes (§5.3) and writes the INIT_STATE. Subscribing
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
// without duplicates. Unmonitored ids are not remembered (§5.3), except
// those this socket already followed: they keep their subscription for
// when they come back (§14).
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

// unsubscribe applies op 4 (§5.5); it never sends anything.
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
