//go:build linux

package socket

import (
	"net"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/halyardhq/halyard/internal/httpconn"
)

// TestSocketOnServerConnIsPolled: a WebSocket upgraded on the HTTP
// server's own connection (httpconn.Conn, whose write deadline it arms
// for plain answers) is the TCP connection beneath once upgraded, so the
// epoll set watches it, with no deadline left from the HTTP answers.
func TestSocketOnServerConnIsPolled(t *testing.T) {
	url, socks, got := newReadBufServerOn(t, func(ts *httptest.Server) {
		// A write timeout shorter than the test: a deadline left over
		// from the upgrade's answer would end the socket's writes.
		ts.Listener = httpconn.Listener{TCPListener: ts.Listener.(*net.TCPListener),
			WriteTimeout: 50 * time.Millisecond, WriteSlack: time.Millisecond}
	})
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	sock := <-socks
	if _, ok := sock.Conn.NetConn().(*net.TCPConn); !ok {
		t.Fatalf("the socket's connection is a %T, not the TCP connection", sock.Conn.NetConn())
	}
	waitBufferReturned(t, sock) // a polled socket gives its read buffer back when idle
	sock.mu.Lock()
	polled := sock.polled
	sock.mu.Unlock()
	if !polled {
		t.Fatal("the socket is not in the epoll set")
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if m := <-got; m != "hi" {
		t.Fatalf("got %q", m)
	}
	time.Sleep(100 * time.Millisecond) // past the HTTP write timeout
	if err := sock.Conn.WriteMessage(websocket.TextMessage, []byte("still")); err != nil {
		t.Fatalf("a write after the HTTP write timeout: %v", err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, m, err := ws.ReadMessage(); err != nil || string(m) != "still" {
		t.Fatalf("read %q, %v", m, err)
	}
}
