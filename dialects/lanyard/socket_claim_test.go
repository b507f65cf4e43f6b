package lanyard

import (
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/server"
	"github.com/halyardhq/halyard/socket"
)

func TestClaimSocket(t *testing.T) {
	d := New(Options{Hub: core.NewHub(core.HubOptions{})})
	zlib := url.Values{"compression": {"zlib_json"}}
	tests := []struct {
		name  string
		typ   int
		msg   string
		query url.Values
		claim bool
	}{
		{"subscribe_to_id", websocket.TextMessage, `{"op":2,"d":{"subscribe_to_id":"1"}}`, nil, true},
		{"subscribe_to_ids", websocket.TextMessage, `{"op":2,"d":{"subscribe_to_ids":"x"}}`, nil, true},
		{"subscribe_to_all false", websocket.TextMessage, `{"op":2,"d":{"subscribe_to_all":false}}`, nil, true},
		{"heartbeat", websocket.TextMessage, `{"op":3}`, nil, true},
		{"unsubscribe", websocket.TextMessage, `{"op":4,"d":{"user_id":"1"}}`, nil, true},
		{"op 2 no d", websocket.TextMessage, `{"op":2}`, nil, true},
		{"op 2 d array", websocket.TextMessage, `{"op":2,"d":[]}`, nil, true},
		{"not json", websocket.TextMessage, `hi`, nil, true},
		{"array", websocket.BinaryMessage, `[1]`, nil, true},
		{"invalid utf-8", websocket.TextMessage, "\xff", nil, true},
		{"zlib with a Lantern message", websocket.TextMessage, `{"op":12}`, zlib, true},
		// Left to other dialects (Lantern), and back to Lanyard as the
		// fallback when nobody claims them.
		{"op 2 user_id", websocket.TextMessage, `{"op":2,"d":{"user_id":"1"}}`, nil, false},
		{"op 2 user_ids", websocket.TextMessage, `{"op":2,"d":{"user_ids":["1"]}}`, nil, false},
		{"op 12", websocket.TextMessage, `{"op":12,"d":{"user_id":"1"}}`, nil, false},
		{"op 14", websocket.TextMessage, `{"op":14}`, nil, false},
		{"op 2 empty d", websocket.TextMessage, `{"op":2,"d":{}}`, nil, false},
		{"unknown op", websocket.TextMessage, `{"op":7}`, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := d.ClaimSocket(socket.Message{Type: tt.typ, Data: []byte(tt.msg)}, tt.query)
			if got != tt.claim {
				t.Fatalf("claim = %v, want %v", got, tt.claim)
			}
		})
	}
}

// lanternStandIn claims what docs/compat/cross-dialect.md gives Lantern and answers
// with one marker frame.
type lanternStandIn struct{}

func (lanternStandIn) Name() string { return "lantern" }

func (lanternStandIn) ClaimSocket(first socket.Message, _ url.Values) bool {
	var m struct {
		Op int
		D  map[string]json.RawMessage
	}
	if json.Unmarshal(first.Data, &m) != nil {
		return false
	}
	_, id := m.D["user_id"]
	_, ids := m.D["user_ids"]
	return m.Op == 2 && (id || ids) || m.Op == 12 || m.Op == 14
}

func (lanternStandIn) ServeSocket(c *socket.Handoff) {
	_ = c.Conn.WriteMessage(websocket.TextMessage, []byte(`{"op":0,"t":"LANTERN","d":{}}`))
	_ = socket.SendClose(c.Conn, websocket.CloseNormalClosure, "")
	_ = c.Conn.Close()
}

func TestSharedSocketWithLantern(t *testing.T) {
	hub := core.NewHub(core.HubOptions{})
	hub.MarkSynced()
	srv := server.New(server.Options{Hub: hub})
	eng := socket.NewEngine()
	d := New(Options{Hub: hub, Socket: SocketOptions{Engine: eng}})
	srv.Register(d)
	srv.RegisterSocket(eng, d, lanternStandIn{})
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { eng.Close(); ts.Close() })
	e := &socketEnv{hub: hub, d: d, ts: ts}
	e.join("10")

	tests := []struct {
		path, msg string
		want      string // the next frame's t, or "close NNNN"
	}{
		{"/socket", `{"op":2,"d":{"subscribe_to_id":"10"}}`, "INIT_STATE"},
		{"/socket", `{"op":2,"d":{"subscribe_to_ids":["10"],"user_id":"10"}}`, "INIT_STATE"},
		{"/socket", `{"op":2,"d":{"user_id":"10"}}`, "LANTERN"},
		{"/socket", `{"op":2,"d":{"user_ids":["10"]}}`, "LANTERN"},
		{"/socket", `{"op":12}`, "LANTERN"},
		{"/socket", `{"op":14}`, "LANTERN"},
		{"/socket?compression=zlib_json", `{"op":12}`, "close 4004"},
		{"/socket", `{"op":2,"d":{}}`, "close 4005"},
		{"/socket", `{"op":2}`, "close 4005"},
		{"/socket", `{"op":7}`, "close 4004"},
		{"/socket", `nope`, "close 4006"},
		{"/lanyard/socket", `{"op":2,"d":{"user_id":"10"}}`, "close 4006"},
		{"/lanyard/socket", `{"op":12}`, "close 4004"},
	}
	for _, tt := range tests {
		t.Run(tt.path+" "+tt.msg, func(t *testing.T) {
			c := e.connect(t, tt.path)
			c.send(tt.msg)
			if code, ok := strings.CutPrefix(tt.want, "close "); ok {
				reasons := map[string]string{"4004": "unknown_opcode", "4005": "requires_data_object", "4006": "invalid_payload"}
				c.expectClose(map[string]int{"4004": 4004, "4005": 4005, "4006": 4006}[code], reasons[code])
				return
			}
			c.expect(tt.want)
		})
	}
}
