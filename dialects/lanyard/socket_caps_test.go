package lanyard

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/halyardhq/halyard/socket"
)

// The abuse caps (issue 7) over real loopback sockets, each with the close
// code Lanyard clients get (RELIABILITY.md lists them).
func TestSocketCaps(t *testing.T) {
	e := newSocketEnv(t, SocketOptions{MaxMessageSize: 200,
		Caps: socket.CapsConfig{MessagesPerSecond: 1, Burst: 3, MaxSubscriptions: 2}})
	for _, id := range []string{"10", "11", "12"} {
		e.join(id)
	}
	for _, path := range socketPaths {
		t.Run(path+"/message size", func(t *testing.T) {
			c := e.connect(t, path)
			c.send(`{"op":2,"d":{"subscribe_to_id":"10"}}`)
			c.expect("INIT_STATE")
			c.send(`{"op":3,"d":"` + strings.Repeat("x", 300) + `"}`)
			c.expectClose(websocket.CloseMessageTooBig, "")
		})
		t.Run(path+"/subscriptions", func(t *testing.T) {
			c := e.connect(t, path)
			c.send(`{"op":2,"d":{"subscribe_to_ids":["10","11"]}}`)
			c.expect("INIT_STATE") // two are within the cap, and so is a repeat
			c.send(`{"op":2,"d":{"subscribe_to_ids":["11"]}}`)
			c.expect("INIT_STATE")
			c.send(`{"op":2,"d":{"subscribe_to_ids":["12"]}}`)
			c.expectClose(websocket.ClosePolicyViolation, reasonTooManySubs)
		})
		t.Run(path+"/message rate", func(t *testing.T) {
			c := e.connect(t, path)
			c.send(`{"op":2,"d":{"subscribe_to_id":"10"}}`)
			c.expect("INIT_STATE")
			for range 10 { // 3 is the burst, 1 a second the rate
				if c.ws.WriteMessage(websocket.TextMessage, []byte(`{"op":3}`)) != nil {
					break
				}
			}
			c.expectClose(websocket.ClosePolicyViolation, reasonRateLimited)
		})
	}
	e.d.CloseSockets() // waits until every socket is closed and counted
	st := e.d.SocketStats()
	if st.Closes["1009"] != 2 || st.Closes["1008"] != 4 {
		t.Fatalf("closes %v", st.Closes)
	}
}

func TestSocketConnectionsPerAddress(t *testing.T) {
	conns := socket.NewConnLimiter(2, "X-Forwarded-For")
	e := newSocketEnv(t, SocketOptions{Conns: conns})
	e.shared.Conns = conns
	e.join("10")
	url := "ws" + strings.TrimPrefix(e.ts.URL, "http")
	dial := func(path, from string) *websocket.Conn {
		t.Helper()
		ws, _, err := websocket.DefaultDialer.Dial(url+path, http.Header{"X-Forwarded-For": {"198.51.100.1, " + from}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ws.Close() })
		return ws
	}
	// Two sockets of one address, on either endpoint, are served...
	for _, path := range socketPaths {
		c := &wsClient{t: t, ws: dial(path, "203.0.113.7")}
		c.readFrame() // Hello
		c.send(`{"op":2,"d":{"subscribe_to_id":"10"}}`)
		c.expect("INIT_STATE")
	}
	// ...a third is closed 1013, on either endpoint, while another
	// address (the proxy header's last entry counts) is still served.
	for _, path := range socketPaths {
		c := &wsClient{t: t, ws: dial(path, "203.0.113.7")}
		c.expectClose(websocket.CloseTryAgainLater, socket.ReasonTooManyConnections)
	}
	other := &wsClient{t: t, ws: dial("/socket", "203.0.113.8")}
	other.readFrame()
	other.send(`{"op":2,"d":{"subscribe_to_id":"10"}}`)
	other.expect("INIT_STATE")

	// The client at the full address cannot pass for another by sending a
	// header line of its own before the proxy's: the proxy's line, the
	// last, names it (internal/clientaddr, the rule of every limit).
	ws, _, err := websocket.DefaultDialer.Dial(url+"/socket", http.Header{"X-Forwarded-For": {"203.0.113.99", "198.51.100.1, 203.0.113.7"}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	forged := &wsClient{t: t, ws: ws}
	forged.expectClose(websocket.CloseTryAgainLater, socket.ReasonTooManyConnections)
}
