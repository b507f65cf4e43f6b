package lantern

import (
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/halyardhq/halyard/socket"
)

// The abuse caps (issue 7) over real loopback sockets, with what Lantern
// clients get (RELIABILITY.md lists the codes).
func TestLanternSocketCaps(t *testing.T) {
	e := newSockEnv(t, SocketOptions{MaxMessageSize: 100,
		Caps: socket.CapsConfig{MessagesPerSecond: 1, Burst: 3, MaxSubscriptions: 2}})
	for _, path := range sockPaths {
		t.Run(path+"/message size", func(t *testing.T) {
			c := e.dial(path)
			c.send(`{"op":2,"d":{"user_id":"` + sockA + `"}}`)
			c.expect("INIT_ACK")
			c.send(`{"op":4,"d":"` + strings.Repeat("x", 150) + `"}`)
			c.expectClose(websocket.CloseMessageTooBig)
		})
		t.Run(path+"/subscriptions", func(t *testing.T) {
			c := e.dial(path)
			c.send(`{"op":2,"d":{"user_ids":["` + sockA + `","` + sockB + `"]}}`)
			c.expect("INIT_ACK")
			c.send(`{"op":12,"d":{"user_id":"` + sockC + `"}}`)
			c.expectError("You can subscribe to at most 2 users.")
			c.send(`{"op":4}`) // the connection stays up
			c.expect("HEARTBEAT_ACK")
		})
		t.Run(path+"/message rate", func(t *testing.T) {
			c := e.dial(path)
			for range 10 { // 3 is the burst, 1 a second the rate
				if c.ws.WriteMessage(websocket.TextMessage, []byte(`{"op":2,"d":{"user_id":"`+sockA+`"}}`)) != nil {
					break
				}
			}
			for { // the INIT_ACKs within the burst, then the close
				_, _, err := c.ws.ReadMessage()
				if err == nil {
					continue
				}
				if !websocket.IsCloseError(err, websocket.ClosePolicyViolation) {
					t.Fatalf("want close 1008, got %v", err)
				}
				break
			}
		})
	}
}
