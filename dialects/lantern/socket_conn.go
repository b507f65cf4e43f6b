package lantern

import (
	"bytes"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/server"
)

// conn is one Lantern socket. It holds no goroutine while idle: the
// engine's read turns (server.Socket) parse client messages into its
// inbox, the hub notifies it of pending events, timers set flags, and its
// Actor — run on the shared pool when there is work — owns the connection
// state (pending or active; ALL or a list of ids) and every write.
type conn struct {
	d     *Dialect
	sock  *server.Socket
	ws    *websocket.Conn
	sub   *core.Subscription
	actor *server.Actor
	caps  *server.SocketCaps

	mu       sync.Mutex
	inbox    []clientMessage
	gone     bool      // the reader ended: the client is gone
	closing  *int      // the reader asks to close with this code
	due      time.Time // when the deadline below expires (zero: none)
	deadline *time.Timer

	// owned by the actor
	finished bool
	events   []core.Event
	active   bool
	all      bool
	list     []string
	strict   bool // /lantern/socket: the INIT deadline applies
}

func newConn(d *Dialect, sock *server.Socket, strict bool) *conn {
	c := &conn{d: d, sock: sock, ws: sock.Conn, strict: strict, caps: server.NewSocketCaps(d.socks.opts.Caps)}
	c.actor = server.NewActor(c.run)
	c.sub = d.opts.Hub.SubscribeNotify(d.socks.opts.QueueSize, c.actor.Wake)
	if strict {
		c.setDeadline(d.socks.opts.InitDeadline)
	}
	return c
}

// SocketMessage implements server.SocketHandler (at most MaxMessageSize
// bytes each, else 1009).
func (c *conn) SocketMessage(_ int, data []byte) {
	if int64(len(data)) > c.d.socks.opts.MaxMessageSize { // the shared /socket's first message
		c.readerClose(websocket.CloseMessageTooBig)
		return
	}
	if !c.caps.AllowMessage() {
		c.readerClose(websocket.ClosePolicyViolation)
		return
	}
	c.d.socks.in.Add(1)
	m := parseClientMessage(data)
	if m.ignore {
		return
	}
	c.mu.Lock()
	c.inbox = append(c.inbox, m)
	c.mu.Unlock()
	c.actor.Wake()
}

// SocketReadEnd implements server.SocketHandler.
func (c *conn) SocketReadEnd(err error) {
	if errors.Is(err, websocket.ErrReadLimit) {
		_ = server.CloseSocket(c.ws, websocket.CloseMessageTooBig, "")
	}
	c.mu.Lock()
	c.gone = true
	c.mu.Unlock()
	c.actor.Wake()
}

// readerClose asks the actor to close the socket with code.
func (c *conn) readerClose(code int) {
	c.mu.Lock()
	if c.closing == nil {
		c.closing = &code
	}
	c.mu.Unlock()
	c.actor.Wake()
}

// setDeadline arms the INIT deadline or heartbeat timeout: a coarse timer
// that only wakes the actor, which compares the clock with due.
func (c *conn) setDeadline(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.due = time.Now().Add(d)
	if c.deadline == nil {
		c.deadline = time.AfterFunc(d, c.actor.Wake)
	} else {
		c.deadline.Reset(d)
	}
}

// run is the actor: client messages, hub events, the deadline and
// shutdown, until the connection ends.
func (c *conn) run() {
	if c.finished {
		return
	}
	c.mu.Lock()
	msgs := c.inbox
	c.inbox = nil
	gone, closing, due := c.gone, c.closing, c.due
	c.mu.Unlock()
	if closing != nil {
		_ = server.CloseSocket(c.ws, *closing, closeReason(*closing))
		c.finish()
		return
	}
	if c.d.socks.isClosed() {
		_ = server.CloseSocket(c.ws, websocket.CloseGoingAway, "")
		c.finish()
		return
	}
	for _, m := range msgs {
		if !c.handle(m) {
			c.finish()
			return
		}
	}
	if gone {
		c.finish()
		return
	}
	if !due.IsZero() && !time.Now().Before(due) {
		if c.active {
			c.disconnect(textTimedOut)
		} else {
			c.close() // no INIT in time: closed without DISCONNECT (docs/compat/lantern.md §6.4)
		}
		c.finish()
		return
	}
	if c.sub.Overflowed() { // a client too slow to read
		c.close()
		c.finish()
		return
	}
	c.events = c.sub.Drain(c.events[:0])
	for _, ev := range c.events {
		if !c.event(ev) {
			c.finish()
			return
		}
	}
	clear(c.events)
	if cap(c.events) > 64 {
		c.events = nil
	}
}

// finish closes the connection and forgets it.
func (c *conn) finish() {
	c.finished = true
	c.mu.Lock()
	if c.deadline != nil {
		c.deadline.Stop()
	}
	c.mu.Unlock()
	c.sub.Close()
	c.sock.Close()
	c.d.socks.remove(c)
}

// closeReason names the cap behind a reader-requested close.
func closeReason(code int) string {
	if code == websocket.ClosePolicyViolation {
		return "rate_limited"
	}
	return ""
}

// handle runs one client message; false ends the connection.
func (c *conn) handle(m clientMessage) bool {
	if m.disconnect != "" {
		c.disconnect(m.disconnect)
		return false
	}
	switch m.op {
	case opInit:
		return c.init(m)
	case opHeartbeat:
		if !c.active {
			c.disconnect(textInvalidConn)
			return false
		}
		c.beat()
		return c.send(frame(opHeartbeatAck, nil))
	case opSubscribe, opUnsubscribe:
		if !c.active {
			c.disconnect(textInvalidConn)
			return false
		}
		t, msg := validateTarget(m.d)
		if msg != "" {
			return c.sendError(msg)
		}
		if m.op == opSubscribe {
			return c.subscribe(t)
		}
		return c.unsubscribe(t)
	}
	return true
}

// init handles INIT (docs/compat/lantern.md §6.5 with §9's choices).
func (c *conn) init(m clientMessage) bool {
	t, msg := validateTarget(m.d)
	if msg != "" {
		c.disconnect(msg)
		return false
	}
	if c.active { // an INIT on an active connection is a SUBSCRIBE, then a fresh INIT_ACK
		if !c.subscribe(t) {
			return false
		}
		return c.sendInitAck(t)
	}
	if msg := c.overCap(t); msg != "" {
		return c.sendError(msg)
	}
	if !t.all() {
		if missing := c.missing(t); len(missing) > 0 {
			if c.strict {
				c.setDeadline(c.d.socks.opts.InitDeadline)
			}
			return c.sendError(usersNotFound(t, missing))
		}
	}
	c.active = true
	if t.all() {
		c.all = true
		c.sub.SetAll(true)
	} else {
		c.follow(t.ids, t.id, t.single)
	}
	c.beat()
	return c.sendInitAck(t)
}

// sendInitAck sends INIT_ACK: the user object for one id, else an array
// (every monitored user for ALL, request order for a list).
func (c *conn) sendInitAck(t target) bool {
	hub := c.d.opts.Hub
	if t.single && !t.all() {
		u, ok := hub.Get(t.id)
		if !ok {
			return true
		}
		return c.send(frame(opInitAck, c.d.UserJSON(u)))
	}
	var users []*core.User
	if t.all() {
		users = hub.Page("", hub.Count()+1)
	} else {
		for _, id := range dedupe(t.ids) {
			if u, ok := hub.Get(id); ok {
				users = append(users, u)
			}
		}
	}
	var b bytes.Buffer
	b.WriteByte('[')
	for i, u := range users {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(c.d.UserJSON(u))
	}
	b.WriteByte(']')
	return c.send(frame(opInitAck, b.Bytes()))
}

// subscribe handles SUBSCRIBE (docs/compat/lantern.md §6.7 with §9's fixes).
func (c *conn) subscribe(t target) bool {
	if c.all {
		return c.sendError(textAlreadyAll)
	}
	if t.all() {
		c.all, c.list = true, nil
		c.sub.SetAll(true)
		c.beat()
		return c.send(frame(opSubscribeAck, nil))
	}
	if msg := c.overCap(t); msg != "" {
		return c.sendError(msg)
	}
	if missing := c.missing(t); len(missing) > 0 {
		return c.sendError(usersNotFound(t, missing))
	}
	if t.single {
		if slices.Contains(c.list, t.id) {
			return c.sendError("You are already subscribed to user " + t.id + ".")
		}
	} else if overlap := intersect(t.ids, c.list); len(overlap) > 0 {
		return c.sendError("You are already subscribed to user(s) " + strings.Join(overlap, ", ") + ".")
	}
	c.follow(t.ids, t.id, t.single)
	c.beat()
	return c.send(frame(opSubscribeAck, nil))
}

// unsubscribe handles UNSUBSCRIBE (docs/compat/lantern.md §6.7).
func (c *conn) unsubscribe(t target) bool {
	if c.all {
		return c.sendError(textSubscribedAll)
	}
	ids := t.ids
	if t.single {
		ids = []string{t.id}
	}
	var absent []string
	for _, id := range dedupe(ids) {
		if !slices.Contains(c.list, id) {
			absent = append(absent, id)
		}
	}
	if len(absent) > 0 {
		if t.single {
			return c.sendError("You are not subscribed to user " + t.id + ".")
		}
		return c.sendError("You are not subscribed to user(s) " + strings.Join(absent, ", ") + ".")
	}
	c.list = slices.DeleteFunc(c.list, func(id string) bool { return slices.Contains(ids, id) })
	c.sub.Remove(ids...)
	if len(c.list) == 0 {
		c.disconnect(textNeedOneUser)
		return false
	}
	c.beat()
	return c.send(frame(opUnsubscribeAck, nil))
}

// event forwards a hub event (docs/compat/lantern.md §6.8); false ends the connection.
func (c *conn) event(ev core.Event) bool {
	if !c.active {
		return true
	}
	id := ev.User.ID
	inList := slices.Contains(c.list, id)
	if !c.all && !inList {
		return true
	}
	switch ev.Type {
	case core.PresenceUpdated:
		return c.sendShared(c.d.opts.Hub.Render(c.d.frames[opPresenceUpdate], ev.User))
	case core.KVUpdated:
		return c.sendShared(c.d.opts.Hub.Render(c.d.frames[opStorageUpdate], ev.User))
	case core.MemberJoined:
		if c.all {
			return c.sendShared(c.d.opts.Hub.Render(c.d.frames[opUserJoined], ev.User))
		}
	case core.MemberLeft:
		if c.all {
			return true
		}
		if !c.send(frame(opUserLeft, []byte(`{"user_id":`+string(jsonString(id))+`}`))) {
			return false
		}
		c.list = slices.DeleteFunc(c.list, func(x string) bool { return x == id })
		c.sub.Remove(id)
		if len(c.list) == 0 {
			c.disconnect(textNoUserLeft)
			return false
		}
	}
	return true
}

// follow adds ids (or the single id) to the list and the subscription.
func (c *conn) follow(ids []string, id string, single bool) {
	if single {
		ids = []string{id}
	}
	for _, id := range dedupe(ids) {
		if !slices.Contains(c.list, id) {
			c.list = append(c.list, id)
		}
	}
	c.sub.Add(ids...)
}

// missing returns the ids of t that are not monitored.
func (c *conn) missing(t target) []string {
	ids := t.ids
	if t.single {
		ids = []string{t.id}
	}
	var out []string
	for _, id := range ids {
		if !c.d.opts.Hub.IsMonitored(id) {
			out = append(out, id)
		}
	}
	return out
}

// beat records client activity: the timeout is 1.5 × the heartbeat
// interval after the last heartbeat, INIT, SUBSCRIBE or UNSUBSCRIBE.
func (c *conn) beat() {
	c.setDeadline(c.d.socks.opts.HeartbeatInterval * 3 / 2)
}

func (c *conn) send(b []byte) bool {
	c.d.socks.out.Add(1)
	_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return c.ws.WriteMessage(websocket.TextMessage, b) == nil
}

// sendShared sends a frame many sockets send alike, framed once.
func (c *conn) sendShared(b []byte) bool {
	pm := c.d.socks.prepared.Get(websocket.TextMessage, b)
	if pm == nil {
		return c.send(b)
	}
	c.d.socks.out.Add(1)
	_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return c.ws.WritePreparedMessage(pm) == nil
}

func (c *conn) sendError(text string) bool {
	return c.send(frame(opError, jsonString(text)))
}

// disconnect sends DISCONNECT with the reason under both `error` and
// `reason` (docs/compat/lantern.md §6.4, §9 #20), then a close frame without status code.
func (c *conn) disconnect(reason string) {
	r := string(jsonString(reason))
	c.send(frame(opDisconnect, []byte(`{"error":`+r+`,"reason":`+r+`}`)))
	c.close()
}

// close sends a close frame without a status code (clients see 1005).
func (c *conn) close() {
	_ = server.CloseSocket(c.ws, websocket.CloseNoStatusReceived, "")
}

// usersNotFound is the ERROR for unknown ids (docs/compat/lantern.md §6.5).
func usersNotFound(t target, missing []string) string {
	if t.single {
		return "User " + t.id + " not found."
	}
	return "User(s) " + strings.Join(missing, ", ") + " not found."
}

func dedupe(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

func intersect(a, b []string) []string {
	var out []string
	for _, x := range dedupe(a) {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// overCap is the ERROR for a SUBSCRIBE (or INIT) that would take the
// socket past its subscription cap (SocketOptions.Caps), "" when within
// it. Lantern's spec has no cap; an ERROR keeps the connection, like its
// other refused subscriptions.
func (c *conn) overCap(t target) string {
	max := c.d.socks.opts.Caps.MaxSubscriptions
	if max <= 0 || t.all() {
		return ""
	}
	ids := t.ids
	if t.single {
		ids = []string{t.id}
	}
	n := len(c.list)
	for _, id := range dedupe(ids) {
		if !slices.Contains(c.list, id) {
			n++
		}
	}
	if n <= max {
		return ""
	}
	return "You can subscribe to at most " + strconv.Itoa(max) + " users."
}
