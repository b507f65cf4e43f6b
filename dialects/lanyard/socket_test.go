package lanyard

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestSocketHello(t *testing.T) {
	e := newSocketEnv(t, SocketOptions{})
	tests := []struct {
		path, want string
	}{
		{"/lanyard/socket", `{"op":1,"d":{"heartbeat_interval":30000}}`},
		{"/lanyard/socket?compression=zlib_json", `{"op":1,"d":{"heartbeat_interval":30000}}`},
		{"/lanyard/socket?compression=ZLIB_JSON", `{"op":1,"d":{"heartbeat_interval":30000}}`},
		{"/socket", `{"t":"HELLO","op":1,"d":{"heartbeat_interval":30000}}`},
		{"/socket?compression=zlib_json", `{"t":"HELLO","op":1,"d":{"heartbeat_interval":30000}}`},
		{"/socket?compression=json", `{"t":"HELLO","op":1,"d":{"heartbeat_interval":30000}}`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			c := e.dial(t, tt.path)
			sameJSONValue(t, c.readFrame(), []byte(tt.want)) // readFrame checks text vs zlib binary
		})
	}
}

func TestSocketNotUpgraded(t *testing.T) {
	e := newSocketEnv(t, SocketOptions{})
	for _, path := range socketPaths {
		t.Run(path, func(t *testing.T) {
			resp, body := get(t, e.ts.URL+path, "")
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d", resp.StatusCode)
			}
			sameJSONValue(t, body, []byte(`{"success":false,"error":{"code":"upgrade_failed","message":"Request failed to upgrade"}}`))
		})
	}
	if n := e.d.SocketStats().Closes["upgrade_failed"]; n != 1 {
		t.Fatalf("lanyard upgrade_failed = %d", n)
	}
	if n := e.shared.Stats().Closes["upgrade_failed"]; n != 1 {
		t.Fatalf("shared upgrade_failed = %d", n)
	}
}

func TestSocketInitState(t *testing.T) {
	e := newSocketEnv(t, SocketOptions{})
	e.join("10")
	e.join("20")
	u10, _ := e.hub.Get("10")
	u20, _ := e.hub.Get("20")
	p10, p20 := string(e.d.Presence(u10)), string(e.d.Presence(u20))

	tests := []struct {
		name, msg, want string
	}{
		{"single monitored", `{"op":2,"d":{"subscribe_to_id":"10"}}`, p10},
		{"single unmonitored", `{"op":2,"d":{"subscribe_to_id":"99"}}`, `{}`},
		{"single number", `{"op":2,"d":{"subscribe_to_id":10}}`, `{}`},
		{"single null", `{"op":2,"d":{"subscribe_to_id":null}}`, `{}`},
		{"ids", `{"op":2,"d":{"subscribe_to_ids":["10","99"]}}`, `{"10":` + p10 + `}`},
		{"ids duplicates", `{"op":2,"d":{"subscribe_to_ids":["10","10","20"]}}`, `{"10":` + p10 + `,"20":` + p20 + `}`},
		{"ids empty", `{"op":2,"d":{"subscribe_to_ids":[]}}`, `{}`},
		{"all", `{"op":2,"d":{"subscribe_to_all":true}}`, `{"10":` + p10 + `,"20":` + p20 + `}`},
		{"ids before id", `{"op":2,"d":{"subscribe_to_id":"20","subscribe_to_ids":["10"]}}`, `{"10":` + p10 + `}`},
		{"id before all", `{"op":2,"d":{"subscribe_to_all":true,"subscribe_to_id":"20"}}`, p20},
		{"op with spaces", `{ "op" : 2 , "d" : {"subscribe_to_id":"10"} }`, p10},
		{"extra keys", `{"op":2,"seq":5,"d":{"subscribe_to_id":"10","x":1}}`, p10},
	}
	for _, path := range []string{"/socket", "/lanyard/socket", "/socket?compression=zlib_json", "/lanyard/socket?compression=zlib_json"} {
		for _, tt := range tests {
			t.Run(path+"/"+tt.name, func(t *testing.T) {
				c := e.connect(t, path)
				c.send(tt.msg)
				f := c.expect("INIT_STATE")
				sameJSONValue(t, f.D, []byte(tt.want))
			})
		}
	}
}

func TestSocketCloses(t *testing.T) {
	e := newSocketEnv(t, SocketOptions{})
	tests := []struct {
		name   string
		typ    int
		msg    string
		code   int
		reason string
	}{
		{"unknown op", websocket.TextMessage, `{"op":7}`, 4004, "unknown_opcode"},
		{"op 0", websocket.TextMessage, `{"op":0,"d":{}}`, 4004, "unknown_opcode"},
		{"op 1", websocket.TextMessage, `{"op":1}`, 4004, "unknown_opcode"},
		{"op 5", websocket.TextMessage, `{"op":5,"d":{"subscribe_to_all":true}}`, 4004, "unknown_opcode"},
		{"op string", websocket.TextMessage, `{"op":"2","d":{"subscribe_to_all":true}}`, 4004, "unknown_opcode"},
		{"op float", websocket.TextMessage, `{"op":2.0,"d":{"subscribe_to_all":true}}`, 4004, "unknown_opcode"},
		{"op null", websocket.TextMessage, `{"op":null}`, 4004, "unknown_opcode"},
		{"op missing", websocket.TextMessage, `{"d":{"subscribe_to_all":true}}`, 4004, "unknown_opcode"},
		{"op upper-case key", websocket.TextMessage, `{"OP":2,"d":{"subscribe_to_all":true}}`, 4004, "unknown_opcode"},
		{"empty object", websocket.TextMessage, `{}`, 4004, "unknown_opcode"},
		{"no d", websocket.TextMessage, `{"op":2}`, 4005, "requires_data_object"},
		{"d empty", websocket.TextMessage, `{"op":2,"d":{}}`, 4005, "requires_data_object"},
		{"d array", websocket.TextMessage, `{"op":2,"d":[]}`, 4005, "requires_data_object"},
		{"d null", websocket.TextMessage, `{"op":2,"d":null}`, 4005, "requires_data_object"},
		{"d string", websocket.TextMessage, `{"op":2,"d":"x"}`, 4005, "requires_data_object"},
		{"not json", websocket.TextMessage, `not json`, 4006, "invalid_payload"},
		{"array", websocket.TextMessage, `[1]`, 4006, "invalid_payload"},
		{"null", websocket.TextMessage, `null`, 4006, "invalid_payload"},
		{"empty", websocket.TextMessage, ``, 4006, "invalid_payload"},
		{"truncated", websocket.TextMessage, `{"op":2,"d":{"subscribe_to_all":true}`, 4006, "invalid_payload"},
		{"unknown key", websocket.TextMessage, `{"op":2,"d":{"x":1}}`, 4006, "invalid_payload"},
		{"all false", websocket.TextMessage, `{"op":2,"d":{"subscribe_to_all":false}}`, 4006, "invalid_payload"},
		{"all string", websocket.TextMessage, `{"op":2,"d":{"subscribe_to_all":"true"}}`, 4006, "invalid_payload"},
		{"ids string", websocket.TextMessage, `{"op":2,"d":{"subscribe_to_ids":"10"}}`, 4006, "invalid_payload"},
		{"ids number", websocket.TextMessage, `{"op":2,"d":{"subscribe_to_ids":10}}`, 4006, "invalid_payload"},
		{"ids null", websocket.TextMessage, `{"op":2,"d":{"subscribe_to_ids":null}}`, 4006, "invalid_payload"},
		{"ids of numbers", websocket.TextMessage, `{"op":2,"d":{"subscribe_to_ids":[10]}}`, 4006, "invalid_payload"},
		{"binary not json", websocket.BinaryMessage, "\x78\x9c\x00", 4006, "invalid_payload"},
		{"binary unknown op", websocket.BinaryMessage, `{"op":9}`, 4004, "unknown_opcode"},
		{"invalid utf-8 text", websocket.TextMessage, "{\"op\":3,\"d\":\"\xff\"}", 1007, ""},
	}
	for _, path := range []string{"/socket", "/lanyard/socket", "/socket?compression=zlib_json"} {
		for _, tt := range tests {
			t.Run(path+"/"+tt.name, func(t *testing.T) {
				c := e.connect(t, path)
				if err := c.ws.WriteMessage(tt.typ, []byte(tt.msg)); err != nil {
					t.Fatal(err)
				}
				c.expectClose(tt.code, tt.reason)
			})
			t.Run(path+"/after init/"+tt.name, func(t *testing.T) {
				c := e.connect(t, path)
				c.send(`{"op":2,"d":{"subscribe_to_all":true}}`)
				if err := c.ws.WriteMessage(tt.typ, []byte(tt.msg)); err != nil {
					t.Fatal(err)
				}
				c.expect("INIT_STATE")
				c.expectClose(tt.code, tt.reason)
			})
		}
	}
	e.d.CloseSockets() // waits until every socket is closed and counted
	st := e.d.SocketStats()
	for _, code := range []string{"4004", "4005", "4006", "1007"} {
		if st.Closes[code] == 0 {
			t.Errorf("no close %s counted: %v", code, st.Closes)
		}
	}
}

func TestSocketOversize(t *testing.T) {
	e := newSocketEnv(t, SocketOptions{})
	big := `{"op":3,"d":"` + strings.Repeat("x", 8_000_000) + `"}`
	for _, path := range socketPaths {
		t.Run(path+"/first", func(t *testing.T) {
			c := e.connect(t, path)
			_ = c.ws.WriteMessage(websocket.TextMessage, []byte(big))
			c.expectClose(websocket.CloseMessageTooBig, "")
		})
		t.Run(path+"/later", func(t *testing.T) {
			c := e.connect(t, path)
			c.sync()
			_ = c.ws.WriteMessage(websocket.TextMessage, []byte(big))
			c.expectClose(websocket.CloseMessageTooBig, "")
		})
	}
}

func TestSocketHeartbeatAndInactivity(t *testing.T) {
	// Long enough that a beat every idle/3 never misses under the race
	// detector on a loaded 2-core machine (300 ms did, in CI).
	const idle = 1500 * time.Millisecond
	e := newSocketEnv(t, SocketOptions{Inactivity: idle})
	e.shared.Inactivity = idle

	for _, path := range socketPaths {
		t.Run(path+"/silent before op 2", func(t *testing.T) {
			t.Parallel()
			c := e.connect(t, path)
			c.expectClose(websocket.CloseProtocolError, "")
		})
		t.Run(path+"/silent after op 2", func(t *testing.T) {
			t.Parallel()
			c := e.connect(t, path)
			c.sync()
			c.expectClose(websocket.CloseProtocolError, "")
		})
		for _, beat := range []string{`{"op":3}`, `{"op":3,"d":null}`, `{"op":3,"d":{"x":[1]}}`, "ping", "pong"} {
			t.Run(path+"/kept alive by "+beat, func(t *testing.T) {
				t.Parallel()
				c := e.connect(t, path)
				// Beat at a third of the timeout for three timeouts: the
				// socket stays open and sends nothing back (no ACK).
				for range 9 {
					switch beat {
					case "ping":
						_ = c.ws.WriteControl(websocket.PingMessage, []byte("x"), time.Now().Add(time.Second))
					case "pong":
						_ = c.ws.WriteControl(websocket.PongMessage, nil, time.Now().Add(time.Second))
					default:
						c.send(beat)
					}
					time.Sleep(idle / 3)
				}
				c.sync() // the next frame is the INIT_STATE: no ACK, no close
			})
		}
	}
}

func TestSocketPingAnswered(t *testing.T) {
	e := newSocketEnv(t, SocketOptions{})
	for _, path := range socketPaths {
		t.Run(path, func(t *testing.T) {
			c := e.connect(t, path)
			got := make(chan string, 1)
			c.ws.SetPongHandler(func(data string) error { got <- data; return nil })
			_ = c.ws.WriteControl(websocket.PingMessage, []byte("hi"), time.Now().Add(time.Second))
			c.sync() // the pong is written before the INIT_STATE
			select {
			case data := <-got:
				if data != "hi" {
					t.Fatalf("pong %q", data)
				}
			default:
				t.Fatal("no pong before INIT_STATE")
			}
		})
	}
}

func TestSocketShutdown(t *testing.T) {
	e := newSocketEnv(t, SocketOptions{})
	var clients []*wsClient
	for _, path := range socketPaths {
		c := e.connect(t, path)
		c.sync()
		clients = append(clients, c)
	}
	done := make(chan struct{})
	go func() { e.d.CloseSockets(); close(done) }()
	for _, c := range clients {
		c.expectClose(websocket.CloseGoingAway, "")
	}
	<-done
	if st := e.d.SocketStats(); st.Open != 0 || st.Closes["1001"] != 2 {
		t.Fatalf("stats after shutdown: %+v", st)
	}
	// A socket accepted afterwards is turned away the same way.
	late := e.dial(t, "/lanyard/socket")
	late.expectClose(websocket.CloseGoingAway, "")
}
