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
	"github.com/halyardhq/halyard/socket"
)

// conn is one Lantern socket: the lifecycle every dialect shares
// (socket.Conn: socket, actor, hub subscription, caps, its place in the
// engine's "lantern" group) and Lantern's protocol on top. It holds no
// goroutine while idle: the engine's read turns parse client messages into
// its inbox, the hub notifies it of pending events, timers set flags, and
// its Actor — run on the engine's pool when there is work — owns the
// connection state (pending or active; ALL or a list of ids), every write
// and the end.
type conn struct {
	*socket.Conn
	d *Dialect

	mu      sync.Mutex
	inbox   []clientMessage
	goneErr error // why the reader ended (gone)
	closing *int  // the reader asks to close with this code

	// deadline is the INIT deadline or heartbeat timeout, in the engine's
	// wheel: it wakes the actor, which asks it whether it passed.
	deadline socket.Deadline

	// owned by the actor
	// the close frame to send when finishing (code 0: none yet) and the
	// label the close is counted under
	closeCode   int
	closeReason string
	closeLabel  string
	events      []core.Event
	list        []string

	// The flags sit together, so that a connection fills fewer bytes
	// (one size class down: 208 bytes, not 240).
	gone     bool // under mu: the reader ended, the client is gone
	finished bool // the actor's, as the rest:
	active   bool
	all      bool
	strict   bool // /lantern/socket: the INIT deadline applies
}

func newConn(d *Dialect, sock *socket.Socket, strict bool) *conn {
	c := &conn{d: d, strict: strict}
	c.Conn = d.socks.engine.NewConn(sock, socket.ConnOptions{Group: d.socks.group, Hub: d.opts.Hub,
		QueueSize: d.socks.opts.QueueSize, Caps: d.socks.opts.Caps, Run: c.run})
	c.deadline = d.socks.engine.NewDeadline(c.Actor)
	if strict {
		c.setDeadline(d.socks.opts.InitDeadline)
	}
	return c
}

// SocketMessage implements socket.Handler (at most MaxMessageSize
// bytes each, else 1009).
func (c *conn) SocketMessage(_ int, data []byte) {
	if int64(len(data)) > c.d.socks.opts.MaxMessageSize { // the shared /socket's first message
		c.readerClose(websocket.CloseMessageTooBig)
		return
	}
	if !c.Caps.AllowMessage() {
		c.readerClose(websocket.ClosePolicyViolation)
		return
	}
	c.Received()
	m := parseClientMessage(data)
	if m.ignore {
		return
	}
	c.mu.Lock()
	c.inbox = append(c.inbox, m)
	c.mu.Unlock()
	c.Actor.Wake()
}

// SocketReadEnd implements socket.Handler.
func (c *conn) SocketReadEnd(err error) {
	if errors.Is(err, websocket.ErrReadLimit) {
		_ = socket.SendClose(c.WS, websocket.CloseMessageTooBig, "")
	}
	c.mu.Lock()
	c.gone, c.goneErr = true, err
	c.mu.Unlock()
	c.Actor.Wake()
}

// readerClose asks the actor to close the socket with code.
func (c *conn) readerClose(code int) {
	c.mu.Lock()
	if c.closing == nil {
		c.closing = &code
	}
	c.mu.Unlock()
	c.Actor.Wake()
}

// setDeadline arms the INIT deadline or heartbeat timeout: a coarse
// deadline that only wakes the actor, which asks whether it passed.
func (c *conn) setDeadline(d time.Duration) { c.deadline.Set(d) }

// run is the actor: client messages, hub events, the deadline and
// shutdown, until the connection ends.
func (c *conn) run() {
	if c.finished {
		return
	}
	c.mu.Lock()
	msgs := c.inbox
	c.inbox = nil
	gone, goneErr, closing := c.gone, c.goneErr, c.closing
	c.mu.Unlock()
	if closing != nil {
		c.endWith(*closing, closeReason(*closing))
		return
	}
	if gone && c.Closing() { // the client left first: count why
		c.finish(goneLabel(goneErr))
		return
	}
	if c.Closing() { // socket.Conn.GoingAway woke us
		c.endWith(websocket.CloseGoingAway, "")
		return
	}
	for _, m := range msgs {
		if !c.handle(m) {
			c.finish(c.closeLabel)
			return
		}
	}
	if gone {
		c.finish(goneLabel(goneErr))
		return
	}
	if c.deadline.Passed() {
		if c.active {
			c.disconnect(textTimedOut)
		} else {
			c.close() // no INIT in time: closed without DISCONNECT (docs/compat/lantern.md §6.4)
		}
		c.finish(c.closeLabel)
		return
	}
	if c.Sub.Overflowed() { // a client too slow to read
		c.close()
		c.finish(c.closeLabel)
		return
	}
	c.events = c.Sub.Drain(c.events[:0])
	for _, ev := range c.events {
		if !c.event(ev) {
			c.finish(c.closeLabel)
			return
		}
	}
	clear(c.events)
	if cap(c.events) > 64 {
		c.events = nil
	}
}

// endWith sends the close frame code (with reason) and finishes.
func (c *conn) endWith(code int, reason string) {
	c.closeCode, c.closeReason = code, reason
	c.closeLabel = strconv.Itoa(code)
	c.finish(c.closeLabel)
}

// finish ends the connection with the close frame chosen so far (none:
// the client left, or a write failed): the engine waits for the client's
// reply, within the close grace, and closes it; the close is counted
// under label ("1006" when no close frame was sent or received).
func (c *conn) finish(label string) {
	c.finished = true
	c.stopTimer()
	if label == "" {
		label = "1006"
	}
	c.End(c.closeCode, c.closeReason, c.d.socks.opts.CloseGrace, false, label)
}

// stopTimer stops the INIT deadline or heartbeat timeout.
func (c *conn) stopTimer() { c.deadline.Stop() }

// goneLabel is the close label of a connection whose reading ended: the
// client's close code, 1009 for an oversize message, else 1006.
func goneLabel(err error) string {
	var ce *websocket.CloseError
	switch {
	case errors.As(err, &ce):
		return strconv.Itoa(ce.Code)
	case errors.Is(err, websocket.ErrReadLimit):
		return "1009"
	}
	return "1006"
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
		c.Sub.SetAll(true)
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
		c.Sub.SetAll(true)
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
	c.Sub.Remove(ids...)
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
		c.Sub.Remove(id)
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
	c.Sub.Add(ids...)
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

// send writes one frame (text, as every Lantern frame).
func (c *conn) send(b []byte) bool { return c.Write(websocket.TextMessage, b) }

// sendShared sends a frame many sockets send alike, framed once.
func (c *conn) sendShared(b []byte) bool { return c.WriteShared(websocket.TextMessage, b) }

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

// close chooses a close frame without a status code (clients see 1005),
// sent when the actor finishes.
func (c *conn) close() {
	c.closeCode, c.closeReason, c.closeLabel = websocket.CloseNoStatusReceived, "", "1005"
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
