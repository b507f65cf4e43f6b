//go:build linux

package socket

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"
)

// recordingHandler hands every client message to the test.
type recordingHandler struct{ got chan string }

func (h recordingHandler) SocketMessage(_ int, data []byte) { h.got <- string(data) }
func (h recordingHandler) SocketReadEnd(error)              { close(h.got) }

// newReadBufServer serves one socket on /ws with a recordingHandler and
// returns its URL, the server's Socket (once a client connected) and the
// messages it received.
func newReadBufServer(t *testing.T) (string, chan *Socket, chan string) {
	t.Helper()
	return newReadBufServerOn(t, nil)
}

// newReadBufServerOn is newReadBufServer whose test server is given to
// listen (when not nil) before it starts, to change its listener.
func newReadBufServerOn(t *testing.T, listen func(*httptest.Server)) (string, chan *Socket, chan string) {
	t.Helper()
	eng := NewEngine()
	socks := make(chan *Socket, 1)
	got := make(chan string, 16)
	e := echo.New()
	e.GET("/ws", func(c echo.Context) error {
		sock, err := eng.Upgrade(c)
		if err != nil {
			return nil
		}
		socks <- sock
		sock.Start(recordingHandler{got})
		return nil
	})
	ts := httptest.NewUnstartedServer(e)
	if listen != nil {
		listen(ts)
	}
	ts.Start()
	t.Cleanup(func() { ts.Close(); eng.Close() })
	return "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws", socks, got
}

// waitBufferReturned waits (up to 10 s) until the socket's read turn gave
// its buffer back.
func waitBufferReturned(t *testing.T, sock *Socket) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); sock.readBufferHeld(); {
		if time.Now().After(deadline) {
			t.Fatal("the idle socket still holds a read buffer")
		}
		time.Sleep(time.Millisecond)
	}
}

// maskedText is a client's text frame carrying payload (mask 0).
func maskedText(payload string) []byte {
	return append([]byte{0x81, 0x80 | byte(len(payload)), 0, 0, 0, 0}, payload...)
}

// TestIdleSocketHoldsNoReadBuffer: a polled socket holds no read buffer
// while idle — not after the upgrade, not after a read turn — and
// borrows one for each turn, so messages keep arriving in order; a frame
// whose bytes arrive in pieces over several turns keeps its buffer until
// it is whole and is delivered intact.
func TestIdleSocketHoldsNoReadBuffer(t *testing.T) {
	url, socks, got := newReadBufServer(t)
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	sock := <-socks
	waitBufferReturned(t, sock)

	for _, msg := range []string{"one", "two", strings.Repeat("x", 2000)} { // the last is larger than the buffer
		if err := ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		if m := <-got; m != msg {
			t.Fatalf("got %.20q, want %.20q", m, msg)
		}
		waitBufferReturned(t, sock)
	}

	// One frame in three writes: half its header, the rest of the header
	// and part of the payload, the end of the payload. Each pause is longer
	// than a turn waits for a header (headerWait), so the turns end with
	// bytes buffered.
	frame := maskedText("pieces")
	nc := ws.UnderlyingConn()
	for _, part := range [][]byte{frame[:1], frame[1:8], frame[8:]} {
		if _, err := nc.Write(part); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * headerWait)
	}
	if m := <-got; m != "pieces" {
		t.Fatalf("split frame: got %q", m)
	}
	waitBufferReturned(t, sock)

	// A ping answered by the read turn itself, then a message.
	if err := ws.WriteControl(websocket.PingMessage, []byte("p"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte("after ping")); err != nil {
		t.Fatal(err)
	}
	if m := <-got; m != "after ping" {
		t.Fatalf("got %q", m)
	}
	waitBufferReturned(t, sock)
}
