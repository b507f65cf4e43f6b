package lantern

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/server"
)

// conn is one Lantern socket. The reader goroutine parses client messages
// and hands them to the writer goroutine, which owns the connection state
// (pending or active; ALL or a list of ids) and every write.
type conn struct {
	d    *Dialect
	ws   *websocket.Conn
	sub  *core.Subscription
	msgs chan clientMessage
	gone chan struct{} // closed by the reader when the client is gone
	stop chan struct{} // closed by the writer when the connection ends

	// owned by the writer
	active   bool
	all      bool
	list     []string
	deadline *time.Timer // INIT deadline (strict path) or heartbeat timeout
	strict   bool        // /lantern/socket: the INIT deadline applies
}

func newConn(d *Dialect, ws *websocket.Conn, strict bool) *conn {
	return &conn{d: d, ws: ws, sub: d.opts.Hub.Subscribe(d.socks.opts.QueueSize),
		msgs: make(chan clientMessage, 16), gone: make(chan struct{}), stop: make(chan struct{}), strict: strict}
}

// readLoop reads client messages (at most 1024 bytes each, else 1009).
func (c *conn) readLoop(first *server.SocketMessage) {
	defer close(c.gone)
	if first != nil {
		if len(first.Data) > maxSocketMessage {
			_ = server.CloseSocket(c.ws, websocket.CloseMessageTooBig, "")
			return
		}
		if !c.deliver(parseClientMessage(first.Data)) {
			return
		}
	}
	c.ws.SetReadLimit(maxSocketMessage)
	// Liveness is Lantern's heartbeat (op 4), not the shared endpoint's
	// read deadline: default ping/pong handling, no deadline.
	c.ws.SetPingHandler(nil)
	c.ws.SetPongHandler(nil)
	_ = c.ws.SetReadDeadline(time.Time{})
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				_ = server.CloseSocket(c.ws, websocket.CloseMessageTooBig, "")
			}
			return
		}
		if !c.deliver(parseClientMessage(data)) {
			return
		}
	}
}

func (c *conn) deliver(m clientMessage) bool {
	if m.ignore {
		return true
	}
	select {
	case c.msgs <- m:
		return true
	case <-c.stop:
		return false
	}
}

// writeLoop runs the connection's state machine until it ends.
func (c *conn) writeLoop() {
	defer close(c.stop)
	defer c.ws.Close()
	defer c.sub.Close()
	opts := c.d.socks.opts
	c.deadline = time.NewTimer(opts.InitDeadline)
	if !c.strict {
		c.deadline.Stop()
	}
	defer c.deadline.Stop()
	for {
		select {
		case m := <-c.msgs:
			if !c.handle(m) {
				return
			}
		case ev, ok := <-c.sub.Events():
			if !ok { // overflowed: a client too slow to read
				c.close()
				return
			}
			if !c.event(ev) {
				return
			}
		case <-c.deadline.C:
			if c.active {
				c.disconnect(textTimedOut)
			} else {
				c.close() // no INIT in time: closed without DISCONNECT (§6.4)
			}
			return
		case <-c.gone:
			return
		case <-c.d.socks.shutdown:
			_ = server.CloseSocket(c.ws, websocket.CloseGoingAway, "")
			return
		}
	}
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

// init handles INIT (§6.5 with §14's choices).
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
	if !t.all() {
		if missing := c.missing(t); len(missing) > 0 {
			if c.strict {
				c.deadline.Reset(c.d.socks.opts.InitDeadline)
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

// subscribe handles SUBSCRIBE (§6.7 with §14's fixes).
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

// unsubscribe handles UNSUBSCRIBE (§6.7).
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

// event forwards a hub event (§6.8); false ends the connection.
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
		return c.send(c.d.opts.Hub.Render(c.d.frames[opPresenceUpdate], ev.User))
	case core.KVUpdated:
		return c.send(c.d.opts.Hub.Render(c.d.frames[opStorageUpdate], ev.User))
	case core.MemberJoined:
		if c.all {
			return c.send(c.d.opts.Hub.Render(c.d.frames[opUserJoined], ev.User))
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
	c.deadline.Stop()
	c.deadline.Reset(c.d.socks.opts.HeartbeatInterval * 3 / 2)
}

func (c *conn) send(b []byte) bool {
	_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return c.ws.WriteMessage(websocket.TextMessage, b) == nil
}

func (c *conn) sendError(text string) bool {
	return c.send(frame(opError, jsonString(text)))
}

// disconnect sends DISCONNECT with the reason under both `error` and
// `reason` (§14), then a close frame without status code.
func (c *conn) disconnect(reason string) {
	r := string(jsonString(reason))
	c.send(frame(opDisconnect, []byte(`{"error":`+r+`,"reason":`+r+`}`)))
	c.close()
}

// close sends a close frame without a status code (clients see 1005).
func (c *conn) close() {
	_ = server.CloseSocket(c.ws, websocket.CloseNoStatusReceived, "")
}

// usersNotFound is the ERROR for unknown ids (§6.5).
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
