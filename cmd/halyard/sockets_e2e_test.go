package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestCloseEndsEverySocket: Main.Close, on the production wiring, ends the
// sockets of both dialects on every path — and one still waiting for its
// first message on the shared /socket — with 1001 Going Away, and has
// counted each close before it returns (the engine waits for them all).
func TestCloseEndsEverySocket(t *testing.T) {
	m := startDemo(t, t.TempDir(), 5)
	closed := false
	t.Cleanup(func() {
		if !closed {
			m.Close()
		}
	})
	base := "ws" + strings.TrimPrefix(m.URL(), "http")
	dial := func(path, first, want string) *websocket.Conn {
		t.Helper()
		ws, _, err := websocket.DefaultDialer.Dial(base+path, nil)
		if err != nil {
			t.Fatalf("dial %s: %v", path, err)
		}
		t.Cleanup(func() { ws.Close() })
		_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, _, err := ws.ReadMessage(); err != nil { // Hello
			t.Fatalf("%s Hello: %v", path, err)
		}
		if first == "" {
			return ws
		}
		if err := ws.WriteMessage(websocket.TextMessage, []byte(first)); err != nil {
			t.Fatal(err)
		}
		if _, data, err := ws.ReadMessage(); err != nil || !strings.Contains(string(data), want) {
			t.Fatalf("%s after %s: %s %v", path, first, data, err)
		}
		return ws
	}
	const lanyardAll, lanternAll = `{"op":2,"d":{"subscribe_to_all":true}}`, `{"op":2,"d":{"user_id":"ALL"}}`
	sockets := []*websocket.Conn{
		dial("/lanyard/socket", lanyardAll, `"INIT_STATE"`),
		dial("/socket", lanyardAll, `"INIT_STATE"`),
		dial("/lantern/socket", lanternAll, `"INIT_ACK"`),
		dial("/socket", lanternAll, `"INIT_ACK"`),
		dial("/socket", "", ""), // still waiting for its first message
	}

	if err := m.Close(); err != nil {
		t.Logf("Close: %v", err) // the socket assertions below are what this test is about
	}
	closed = true
	for dialect, st := range map[string]func() int64{
		"lanyard": func() int64 { return m.Lanyard.SocketStats().Closes["1001"] },
		"lantern": func() int64 { return m.Lantern.SocketStats().Closes["1001"] },
	} {
		if n := st(); n != 2 {
			t.Errorf("%s sockets closed with 1001 by the time Close returned: %d, want 2", dialect, n)
		}
	}
	if n := m.Lanyard.SocketStats().Open + m.Lantern.SocketStats().Open; n != 0 {
		t.Errorf("%d dialect sockets still open after Close", n)
	}
	for i, ws := range sockets {
		_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		for {
			_, _, err := ws.ReadMessage()
			if err == nil {
				continue // an update sent before the close
			}
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
				t.Errorf("socket %d: %v, want close 1001", i, err)
			}
			break
		}
	}
}
