package lantern

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/dialects/lanyard"
	"github.com/halyardhq/halyard/internal/memstore"
	"github.com/halyardhq/halyard/server"
	"github.com/halyardhq/halyard/socket"
)

const (
	sockA = "211111111111111111"
	sockB = "222222222222222222"
	sockC = "233333333333333333"
)

// sockEnv is a real server with both socket dialects on /socket, Lantern's
// strict /lantern/socket, and a synced hub holding A, B and C.
type sockEnv struct {
	t   testing.TB
	hub *core.Hub
	d   *Dialect
	eng *socket.Engine
	url string
}

func newSockEnv(t testing.TB, opts SocketOptions) *sockEnv {
	t.Helper()
	hub := core.NewHub(core.HubOptions{})
	hub.MarkSynced()
	tokens, _ := core.NewTokens(bytes.Repeat([]byte("s"), 32), memstore.New())
	eng := socket.NewEngine()
	opts.Engine = eng
	d := New(Options{Hub: hub, Tokens: tokens, Now: func() time.Time { return testNow }, Socket: opts})
	ly := lanyard.New(lanyard.Options{Hub: hub, Tokens: tokens, Socket: lanyard.SocketOptions{Engine: eng}})
	srv := server.New(server.Options{Hub: hub, Tokens: tokens})
	srv.Register(ly, d)
	srv.RegisterSocket(eng, ly, d)
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		eng.Close()
		ts.Close()
	})
	e := &sockEnv{t: t, hub: hub, d: d, eng: eng, url: "ws" + strings.TrimPrefix(ts.URL, "http")}
	for _, id := range []string{sockA, sockB, sockC} {
		e.join(id)
	}
	return e
}

func (e *sockEnv) join(id string) {
	e.hub.UpsertMember("g", core.Member{User: core.DiscordUser{ID: id, Username: "u" + id[:3],
		Raw: json.RawMessage(`{"id":"` + id + `","username":"u` + id[:3] + `","discriminator":"0","global_name":null,"avatar":null}`)}})
}

func (e *sockEnv) user(id string) string {
	u, ok := e.hub.Get(id)
	if !ok {
		e.t.Fatalf("%s not monitored", id)
	}
	return string(e.d.UserJSON(u))
}

type sockClient struct {
	t  testing.TB
	ws *websocket.Conn
}

// dial connects and checks the HELLO the path sends first.
func (e *sockEnv) dial(path string) *sockClient {
	e.t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(e.url+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { ws.Close() })
	c := &sockClient{t: e.t, ws: ws}
	hello := c.raw()
	// Byte for byte Lantern's, on the shared /socket too (keys t, op, d).
	want := `{"t":"HELLO","op":1,"d":{"heartbeat_interval":30000}}`
	if hello != want {
		e.t.Fatalf("%s first frame %s", path, hello)
	}
	return c
}

func (c *sockClient) send(msg string) {
	c.t.Helper()
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		c.t.Fatal(err)
	}
}

func (c *sockClient) raw() string {
	c.t.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, b, err := c.ws.ReadMessage()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return string(b)
}

type sockFrame struct {
	T  string          `json:"t"`
	Op int             `json:"op"`
	D  json.RawMessage `json:"d"`
}

func (c *sockClient) expect(t string) sockFrame {
	c.t.Helper()
	b := c.raw()
	var f sockFrame
	if err := json.Unmarshal([]byte(b), &f); err != nil || f.T != t {
		c.t.Fatalf("want %s, got %s", t, b)
	}
	return f
}

func (c *sockClient) expectError(text string) {
	c.t.Helper()
	f := c.expect("ERROR")
	if string(f.D) != string(jsonString(text)) {
		c.t.Fatalf("ERROR %s, want %q", f.D, text)
	}
}

// expectDisconnect reads DISCONNECT with the reason under both keys, then
// a close frame without status code.
func (c *sockClient) expectDisconnect(reason string) {
	c.t.Helper()
	f := c.expect("DISCONNECT")
	var d struct{ Error, Reason string }
	if json.Unmarshal(f.D, &d) != nil || d.Error != reason || d.Reason != reason {
		c.t.Fatalf("DISCONNECT %s, want %q", f.D, reason)
	}
	c.expectClose(websocket.CloseNoStatusReceived)
}

func (c *sockClient) expectClose(code int) {
	c.t.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, b, err := c.ws.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != code {
		c.t.Fatalf("want close %d, got %v (%s)", code, err, b)
	}
}

// expectSilence checks no event was sent: a heartbeat's ACK is the next
// frame. (A read timeout would break a gorilla connection for good.) The
// events under test are queued before this runs, and the connection's
// writer handles them as they come.
func (c *sockClient) expectSilence() {
	c.t.Helper()
	time.Sleep(50 * time.Millisecond)
	c.send(`{"op":4}`)
	if got := c.raw(); got != `{"t":"HEARTBEAT_ACK","op":5}` {
		c.t.Fatalf("unexpected frame %s", got)
	}
}

var sockPaths = []string{"/lantern/socket", "/socket"}

func TestLanternSocketInit(t *testing.T) {
	e := newSockEnv(t, SocketOptions{})
	for _, path := range sockPaths {
		t.Run(path, func(t *testing.T) {
			c := e.dial(path) // 83
			c.send(`{"op":2,"d":{"user_id":"` + sockA + `"}}`)
			if f := c.expect("INIT_ACK"); string(f.D) != e.user(sockA) { // 85
				t.Fatalf("INIT_ACK %s", f.D)
			}
			c = e.dial(path)
			c.send(`{"op":2,"d":{"user_ids":["` + sockB + `","` + sockA + `"]}}`)
			if f := c.expect("INIT_ACK"); string(f.D) != "["+e.user(sockB)+","+e.user(sockA)+"]" { // 86, request order
				t.Fatalf("INIT_ACK %s", f.D)
			}
			for _, all := range []string{"ALL", "All", "all"} { // 88
				c = e.dial(path)
				c.send(`{"op":2,"d":{"user_id":"` + all + `"}}`)
				if f := c.expect("INIT_ACK"); string(f.D) != "["+e.user(sockA)+","+e.user(sockB)+","+e.user(sockC)+"]" {
					t.Fatalf("%s INIT_ACK %s", all, f.D)
				}
			}
			c = e.dial(path)
			c.send(`{"op":2,"d":{"user_ids":[]}}`)
			if got := c.raw(); got != `{"t":"INIT_ACK","op":3,"d":[]}` { // 87
				t.Fatalf("empty INIT_ACK %s", got)
			}
			c.send(`not json`) // 99: ignored, the connection stays open
			c.expectSilence()
			c = e.dial(path)
			c.send(`{"op":2,"d":{"user_id":"999999999999999999"}}`) // 93
			c.expectError("User 999999999999999999 not found.")
			c.send(`{"op":2,"d":{"user_ids":["` + sockA + `","988888888888888888"]}}`)
			c.expectError("User(s) 988888888888888888 not found.")
			c.send(`{"op":4}`) // still pending
			c.expectDisconnect(textInvalidConn)
		})
	}
}

func TestLanternSocketDisconnects(t *testing.T) {
	e := newSockEnv(t, SocketOptions{})
	tests := []struct{ msg, reason string }{
		{`{"op":2,"d":{}}`, "Either user_ids or user_id must be provided."},                                            // 89
		{`{"op":2,"d":{"user_id":"` + sockA + `","user_ids":[]}}`, "Only one of user_ids or user_id can be provided."}, // 90
		{`{"op":2,"d":{"user_id":"ab"}}`, "String must contain at least 3 character(s)"},                               // 91
		{`{"op":2,"d":{"user_id":"12345678901234567890"}}`, "String must contain at most 19 character(s)"},
		{`{"op":2}`, "Required"}, // 92
		{`{"op":2,"d":"x"}`, "Expected object, received string"},
		{`{"op":2,"d":[1]}`, "Expected object, received array"},
		{`{"op":2,"d":null}`, "Expected object, received null"},
		{`{"op":2,"d":{"user_id":5}}`, "Expected string, received number"},
		{`{"op":2,"d":{"user_ids":"x"}}`, "Expected array, received string"},
		{`{"op":2,"d":{"user_ids":[null]}}`, "Expected string, received null"},
		{`{"op":99}`, textInvalidOpcode}, // 94
		{`{"op":"2","d":{"user_id":"` + sockA + `"}}`, textInvalidOpcode},
		{`{"d":{}}`, textInvalidOpcode},
		{`{"op":3}`, textOpcodeNotAllowed}, // 95
		{`{"op":4}`, textInvalidConn},      // 96
		{`{"op":12,"d":{"user_id":"` + sockA + `"}}`, textInvalidConn},
	}
	for _, tt := range tests {
		t.Run(tt.msg, func(t *testing.T) {
			c := e.dial("/lantern/socket")
			c.send(tt.msg)
			c.expectDisconnect(tt.reason) // 113, 114
		})
	}
}

func TestLanternSocketDeadlinesAndLimits(t *testing.T) {
	// A 1 s interval times out after 1.5 s; beats every 600 ms keep a
	// wide margin under -race on a loaded 2-core machine.
	e := newSockEnv(t, SocketOptions{InitDeadline: 200 * time.Millisecond, HeartbeatInterval: time.Second})
	c := e.dial("/lantern/socket")
	c.expectClose(websocket.CloseNoStatusReceived) // 84: no DISCONNECT

	c = e.dial("/lantern/socket")
	c.send(`{"op":2,"d":{"user_id":"` + sockA + `"}}`)
	c.expect("INIT_ACK")
	for range 3 { // heartbeats keep it alive past 1.5 × interval
		time.Sleep(600 * time.Millisecond)
		c.send(`{"op":4}`)
		if got := c.raw(); got != `{"t":"HEARTBEAT_ACK","op":5}` { // 97
			t.Fatalf("ack %s", got)
		}
	}
	c.expectDisconnect(textTimedOut) // 98

	c = e.dial("/socket")
	c.send(`{"op":2,"d":{"user_id":"` + sockA + `"}}`)
	c.expect("INIT_ACK")
	c.send(`{"op":4,"d":"` + strings.Repeat("x", 1100) + `"}`) // 100
	c.expectClose(websocket.CloseMessageTooBig)
}

func TestLanternSocketSubscribe(t *testing.T) {
	e := newSockEnv(t, SocketOptions{})
	c := e.dial("/lantern/socket")
	c.send(`{"op":2,"d":{"user_ids":["` + sockA + `"]}}`)
	c.expect("INIT_ACK")
	c.send(`{"op":12,"d":{"user_ids":["` + sockB + `"]}}`)
	if got := c.raw(); got != `{"t":"SUBSCRIBE_ACK","op":13}` { // 101
		t.Fatalf("ack %s", got)
	}
	c.send(`{"op":12,"d":{"user_ids":["` + sockB + `"]}}`)
	c.expectError("You are already subscribed to user(s) " + sockB + ".")
	c.send(`{"op":12,"d":{"user_id":"` + sockC + `"}}`) // 102
	c.expect("SUBSCRIBE_ACK")
	c.send(`{"op":12,"d":{"user_id":"` + sockC + `"}}`)
	c.expectError("You are already subscribed to user " + sockC + ".")
	c.send(`{"op":12,"d":{"user_ids":["977777777777777777"]}}`) // 104
	c.expectError("User(s) 977777777777777777 not found.")
	c.send(`{"op":12,"d":{}}`) // 105: an ERROR, not a DISCONNECT
	c.expectError("Either user_ids or user_id must be provided.")
	c.send(`{"op":14,"d":{"user_id":"966666666666666666"}}`) // 106
	c.expectError("You are not subscribed to user 966666666666666666.")
	c.send(`{"op":14,"d":{"user_ids":["` + sockA + `","` + sockB + `"]}}`) // 108
	if got := c.raw(); got != `{"t":"UNSUBSCRIBE_ACK","op":15}` {
		t.Fatalf("unsubscribe ack %s", got)
	}
	c.send(`{"op":14,"d":{"user_id":"` + sockC + `"}}`)
	c.expectDisconnect(textNeedOneUser)

	all := e.dial("/lantern/socket")
	all.send(`{"op":2,"d":{"user_id":"ALL"}}`)
	all.expect("INIT_ACK")
	all.send(`{"op":12,"d":{"user_id":"` + sockA + `"}}`) // 103
	all.expectError(textAlreadyAll)
	all.send(`{"op":14,"d":{"user_id":"` + sockA + `"}}`) // 107
	all.expectError(textSubscribedAll)
}

func TestLanternSocketEvents(t *testing.T) {
	e := newSockEnv(t, SocketOptions{})
	listA := e.dial("/socket")
	listA.send(`{"op":2,"d":{"user_ids":["` + sockA + `","` + sockB + `"]}}`)
	listA.expect("INIT_ACK")
	onlyC := e.dial("/lantern/socket")
	onlyC.send(`{"op":2,"d":{"user_id":"` + sockC + `"}}`)
	onlyC.expect("INIT_ACK")
	all := e.dial("/lantern/socket")
	all.send(`{"op":2,"d":{"user_id":"ALL"}}`)
	all.expect("INIT_ACK")

	// 109: a presence change of A reaches A's list and ALL, not C's socket.
	e.hub.UpdatePresence(sockA, &core.Presence{Status: core.StatusDND, ClientStatus: &core.ClientStatus{Desktop: core.StatusDND}})
	for _, c := range []*sockClient{listA, all} {
		if f := c.expect("PRESENCE_UPDATE"); string(f.D) != e.user(sockA) {
			t.Fatalf("PRESENCE_UPDATE %s", f.D)
		}
	}
	onlyC.expectSilence()

	// 115: a KV write → STORAGE_UPDATE with the new pair.
	if err := e.hub.PutKV(t.Context(), sockB, "color", "blue"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*sockClient{listA, all} {
		f := c.expect("STORAGE_UPDATE")
		var u struct{ Storage map[string]string }
		if json.Unmarshal(f.D, &u) != nil || u.Storage["color"] != "blue" {
			t.Fatalf("STORAGE_UPDATE %s", f.D)
		}
	}

	// 110: a member joins → USER_JOINED to ALL only.
	const newcomer = "244444444444444444"
	e.join(newcomer)
	if f := all.expect("USER_JOINED"); !bytes.Contains(f.D, []byte(`"storage":{}`)) {
		t.Fatalf("USER_JOINED %s", f.D)
	}
	listA.expectSilence()

	// 111/112: A leaves → USER_LEFT to A's list; ALL gets nothing; C leaves →
	// C's socket had only C: USER_LEFT then DISCONNECT.
	e.hub.RemoveMember("g", sockA)
	if f := listA.expect("USER_LEFT"); string(f.D) != fmt.Sprintf(`{"user_id":%q}`, sockA) {
		t.Fatalf("USER_LEFT %s", f.D)
	}
	all.expectSilence()
	e.hub.RemoveMember("g", sockC)
	onlyC.expect("USER_LEFT")
	onlyC.expectDisconnect(textNoUserLeft)

	// The Lanyard dialect still owns its first messages on /socket.
	ly, _, err := websocket.DefaultDialer.Dial(e.url+"/socket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ly.Close()
	lc := &sockClient{t: t, ws: ly}
	lc.raw()
	lc.send(`{"op":2,"d":{"subscribe_to_id":"` + sockB + `"}}`)
	var f struct {
		Op int    `json:"op"`
		T  string `json:"t"`
	}
	if json.Unmarshal([]byte(lc.raw()), &f) != nil || f.T != "INIT_STATE" || f.Op != 0 {
		t.Fatal("Lanyard client not served on the shared /socket")
	}
}

// TestLanternSocketUnregistersOnClose: a client that goes away leaves no
// subscription behind.
func TestLanternSocketUnregistersOnClose(t *testing.T) {
	e := newSockEnv(t, SocketOptions{})
	c := e.dial("/lantern/socket")
	c.send(`{"op":2,"d":{"user_id":"ALL"}}`)
	c.expect("INIT_ACK")
	if e.hub.Stats().Subscribers != 1 {
		t.Fatalf("subscribers %d", e.hub.Stats().Subscribers)
	}
	c.ws.Close()
	deadline := time.Now().Add(5 * time.Second)
	for e.hub.Stats().Subscribers != 0 {
		if time.Now().After(deadline) {
			t.Fatal("subscription left after close")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := e.d.SocketStats().Open; n != 0 {
		t.Fatalf("%d connections still registered", n)
	}
}
