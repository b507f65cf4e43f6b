package lanyard

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/server"
	"github.com/halyardhq/halyard/socket"
)

// socketEnv is a real server (shared /socket and /lanyard/socket) on
// loopback with a real hub.
type socketEnv struct {
	t      *testing.T
	hub    *core.Hub
	d      *Dialect
	shared *socket.Shared
	ts     *httptest.Server
}

func newSocketEnv(t testing.TB, opts SocketOptions) *socketEnv {
	t.Helper()
	return newSocketEnvOn(t, opts, true)
}

// newSocketEnvOn builds the environment; synced says whether the hub has
// had its first gateway member sync (most tests: yes).
func newSocketEnvOn(t testing.TB, opts SocketOptions, synced bool) *socketEnv {
	t.Helper()
	hub := core.NewHub(core.HubOptions{})
	if synced {
		hub.MarkSynced()
	}
	srv := server.New(server.Options{Hub: hub})
	eng := socket.NewEngine()
	opts.Engine = eng
	d := New(Options{Hub: hub, Socket: opts})
	srv.Register(d)
	shared := srv.RegisterSocket(eng, d)
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		eng.Close()
		ts.Close()
	})
	e := &socketEnv{hub: hub, d: d, shared: shared, ts: ts}
	if tt, ok := t.(*testing.T); ok {
		e.t = tt
	}
	return e
}

// socketPaths are the two endpoints that speak Lanyard.
var socketPaths = []string{"/socket", "/lanyard/socket"}

// join makes id a monitored member with a minimal Discord user.
func (e *socketEnv) join(id string) {
	e.hub.UpsertMember("g1", core.Member{User: core.DiscordUser{ID: id,
		Raw: json.RawMessage(fmt.Sprintf(`{"id":%q,"username":"u%s"}`, id, id))}})
}

// setStatus changes id's presence (each call must differ from the last).
func (e *socketEnv) setStatus(id string, s core.Status) {
	e.hub.UpdatePresence(id, &core.Presence{Status: s, ClientStatus: &core.ClientStatus{Desktop: s}})
}

// wsClient is a gorilla client with helpers that fail the test.
type wsClient struct {
	t    testing.TB
	ws   *websocket.Conn
	zlib bool
}

// dial connects to path (with its query) without reading anything.
func (e *socketEnv) dial(t testing.TB, path string) *wsClient {
	t.Helper()
	url := "ws" + strings.TrimPrefix(e.ts.URL, "http") + path
	ws, resp, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", path, err)
	}
	if ext := resp.Header.Get("Sec-WebSocket-Extensions"); ext != "" {
		t.Fatalf("extension negotiated: %q", ext)
	}
	t.Cleanup(func() { ws.Close() })
	return &wsClient{t: t, ws: ws, zlib: strings.Contains(path, "compression=zlib_json")}
}

// connect dials and reads the Hello.
func (e *socketEnv) connect(t testing.TB, path string) *wsClient {
	c := e.dial(t, path)
	c.readFrame()
	return c
}

func (c *wsClient) send(msg string) {
	c.t.Helper()
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		c.t.Fatalf("send %s: %v", msg, err)
	}
}

// readFrame reads one data frame and returns its JSON, inflated in zlib
// mode (where it also checks the frame is binary and starts with 78 9c).
func (c *wsClient) readFrame() []byte {
	c.t.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	typ, data, err := c.ws.ReadMessage()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	if !c.zlib {
		if typ != websocket.TextMessage {
			c.t.Fatalf("frame type %d, want text", typ)
		}
		return data
	}
	if typ != websocket.BinaryMessage || len(data) < 2 || data[0] != 0x78 || data[1] != 0x9c {
		c.t.Fatalf("zlib frame: type %d, starts % x", typ, data[:min(2, len(data))])
	}
	return inflate(c.t, data)
}

func inflate(t testing.TB, data []byte) []byte {
	t.Helper()
	zr, err := zlib.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("inflate: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("inflate: %v", err)
	}
	return out
}

// frame is a decoded server message.
type frame struct {
	Op int             `json:"op"`
	T  string          `json:"t"`
	D  json.RawMessage `json:"d"`
}

func (c *wsClient) read() frame {
	c.t.Helper()
	b := c.readFrame()
	var f frame
	if err := json.Unmarshal(b, &f); err != nil {
		c.t.Fatalf("frame %s: %v", b, err)
	}
	return f
}

// expect reads one frame and checks its op and t.
func (c *wsClient) expect(t string) frame {
	c.t.Helper()
	f := c.read()
	if f.Op != 0 || f.T != t {
		c.t.Fatalf("got op %d t %q (%s), want %s", f.Op, f.T, f.D, t)
	}
	return f
}

// expectClose reads the next frame, which must be a close with code and
// reason.
func (c *wsClient) expectClose(code int, reason string) {
	c.t.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, data, err := c.ws.ReadMessage()
	if err == nil {
		c.t.Fatalf("got %q, want close %d", data, code)
	}
	var ce *websocket.CloseError
	if !errors.As(err, &ce) {
		c.t.Fatalf("read: %v, want close %d", err, code)
	}
	if ce.Code != code || ce.Text != reason {
		c.t.Fatalf("close %d %q, want %d %q", ce.Code, ce.Text, code, reason)
	}
}

// sync proves every earlier message was processed: an op 2 for a user
// nobody monitors answers with an empty INIT_STATE through the same queue.
func (c *wsClient) sync() {
	c.t.Helper()
	c.send(`{"op":2,"d":{"subscribe_to_id":"1"}}`)
	if f := c.expect("INIT_STATE"); string(f.D) != "{}" {
		c.t.Fatalf("sync INIT_STATE d %s", f.D)
	}
}

// objectKeys returns the keys of a JSON object.
func objectKeys(t testing.TB, raw []byte) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("not an object: %s", raw)
	}
	return m
}

// sameJSONValue compares two JSON documents regardless of key order.
func sameJSONValue(t testing.TB, got, want []byte) {
	t.Helper()
	if !sameJSON(got, want) {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// withUserID adds "user_id" to a presence object.
func withUserID(t testing.TB, presence []byte, id string) []byte {
	m := objectKeys(t, presence)
	m["user_id"], _ = json.Marshal(id)
	b, _ := json.Marshal(m)
	return b
}
