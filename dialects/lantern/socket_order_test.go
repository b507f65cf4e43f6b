package lantern

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/halyardhq/halyard/core"
)

// frameKeys returns the top-level keys of a JSON object in the order the
// bytes carry them.
func frameKeys(t *testing.T, frame string) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(frame)))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", frame)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("%s: %v", frame, err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatalf("%s: %v", frame, err)
		}
	}
	return keys
}

// expectOrdered reads the next frame and checks it byte for byte against
// Lantern's framing: `{"t":"<name>","op":<op>` first, then `,"d":` when
// the frame has data, and no other key.
func (c *sockClient) expectOrdered(t *testing.T, name string, op int, withD bool) string {
	t.Helper()
	got := c.raw()
	prefix := `{"t":"` + name + `","op":` + strconv.Itoa(op)
	want := []string{"t", "op"}
	if withD {
		prefix += `,"d":`
		want = append(want, "d")
	} else {
		prefix += `}`
	}
	if !bytes.HasPrefix([]byte(got), []byte(prefix)) {
		t.Fatalf("%s frame %s, want it to start %s", name, got, prefix)
	}
	if keys := frameKeys(t, got); !slices.Equal(keys, want) {
		t.Fatalf("%s frame keys %v, want %v: %s", name, keys, want, got)
	}
	return got
}

// TestLanternSocketKeyOrder: every frame a Lantern client receives, the
// Hello first, carries its keys in Lantern's order t, op, d — on
// /lantern/socket and on the shared /socket, whose Hello is sent before
// the server knows the client speaks Lantern. Byte-level comparison
// against Lantern is how replacements are checked.
func TestLanternSocketKeyOrder(t *testing.T) {
	for _, path := range sockPaths {
		t.Run(path, func(t *testing.T) {
			e := newSockEnv(t, SocketOptions{})
			ws, _, err := websocket.DefaultDialer.Dial(e.url+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ws.Close() })
			c := &sockClient{t: t, ws: ws}
			if hello := c.expectOrdered(t, "HELLO", opHello, true); hello != `{"t":"HELLO","op":1,"d":{"heartbeat_interval":30000}}` {
				t.Fatalf("HELLO %s", hello)
			}

			c.send(`{"op":2,"d":{"user_ids":["` + sockA + `"]}}`)
			c.expectOrdered(t, "INIT_ACK", opInitAck, true)
			c.send(`{"op":4}`)
			c.expectOrdered(t, "HEARTBEAT_ACK", opHeartbeatAck, false)
			c.send(`{"op":12,"d":{"user_id":"` + sockB + `"}}`)
			c.expectOrdered(t, "SUBSCRIBE_ACK", opSubscribeAck, false)
			c.send(`{"op":12,"d":{"user_id":"` + sockB + `"}}`)
			c.expectOrdered(t, "ERROR", opError, true)

			e.hub.UpdatePresence(sockA, &core.Presence{Status: core.StatusOnline, ClientStatus: &core.ClientStatus{Desktop: core.StatusOnline}})
			c.expectOrdered(t, "PRESENCE_UPDATE", opPresenceUpdate, true)
			if err := e.hub.PutKV(t.Context(), sockA, "color", "blue"); err != nil {
				t.Fatal(err)
			}
			c.expectOrdered(t, "STORAGE_UPDATE", opStorageUpdate, true)

			c.send(`{"op":14,"d":{"user_id":"` + sockB + `"}}`)
			c.expectOrdered(t, "UNSUBSCRIBE_ACK", opUnsubscribeAck, false)

			all := e.dial(path)
			all.send(`{"op":2,"d":{"user_id":"ALL"}}`)
			all.expectOrdered(t, "INIT_ACK", opInitAck, true)
			e.join("244444444444444444")
			all.expectOrdered(t, "USER_JOINED", opUserJoined, true)

			e.hub.RemoveMember("g", sockA) // A's last guild: A leaves c's list, which is then empty
			c.expectOrdered(t, "USER_LEFT", opUserLeft, true)
			c.expectOrdered(t, "DISCONNECT", opDisconnect, true)
		})
	}
}

// TestLanternSocketShutdown: closing the socket engine ends every Lantern
// socket — on /lantern/socket and on the shared /socket — with 1001 Going
// Away, waits until each is closed and counted, and turns later sockets
// away the same way.
func TestLanternSocketShutdown(t *testing.T) {
	e := newSockEnv(t, SocketOptions{})
	var clients []*sockClient
	for _, path := range sockPaths {
		c := e.dial(path)
		c.send(`{"op":2,"d":{"user_id":"` + sockA + `"}}`)
		c.expect("INIT_ACK")
		clients = append(clients, c)
	}
	if n := e.d.SocketStats().Open; n != 2 {
		t.Fatalf("open before shutdown: %d", n)
	}
	// The clients read only after Close returned: Close must not depend on
	// them answering, and must still have sent every close frame.
	closed := make(chan struct{})
	go func() { e.eng.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Engine.Close did not return")
	}
	if st := e.d.SocketStats(); st.Open != 0 || st.Closes["1001"] != 2 {
		t.Fatalf("stats after Close: %+v", st)
	}
	for _, c := range clients {
		c.expectClose(websocket.CloseGoingAway)
	}

	ws, _, err := websocket.DefaultDialer.Dial(e.url+"/lantern/socket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	late := &sockClient{t: t, ws: ws}
	late.raw() // HELLO
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err = ws.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
		t.Fatalf("late socket: %v", err)
	}
}
