package socket

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/internal/httpconn"
)

// streamServer serves GET /s as a Stream whose owner writes "hello" once
// started and ends when the client goes or the engine closes.
type streamServer struct {
	eng   *Engine
	group *Group
	srv   *httptest.Server
	conns *ConnLimiter
}

func newStreamServer(t *testing.T, perAddr int) *streamServer {
	return newStreamServerOn(t, perAddr, false)
}

// newStreamServerOn is newStreamServer, on the HTTP server's own
// connections (httpconn, as server.Server serves) when serverConns.
func newStreamServerOn(t *testing.T, perAddr int, serverConns bool) *streamServer {
	s := &streamServer{eng: NewEngine(), conns: NewConnLimiter(perAddr, "")}
	s.group = s.eng.Group("sse")
	e := echo.New()
	e.GET("/s", func(c echo.Context) error {
		var st *Stream
		var ready sync.WaitGroup
		ready.Add(1)
		started := false
		run := func() {
			ready.Wait()
			switch {
			case st.Gone():
				st.End("client_closed")
			case st.Closing():
				st.End("going_away")
			case !started:
				started = true
				st.Write([]byte("hello\n"))
			}
		}
		var err error
		st, err = s.eng.OpenStream(c, StreamOptions{Group: s.group, Conns: s.conns,
			Header: http.Header{"Content-Type": {"text/plain"}}, Run: run})
		if errors.Is(err, ErrTooManyConnections) {
			return c.String(http.StatusTooManyRequests, "too many")
		}
		if err != nil {
			return err
		}
		ready.Done()
		if st.Start() {
			st.Actor.Wake()
		}
		return nil
	})
	s.srv = httptest.NewUnstartedServer(e)
	if serverConns {
		s.srv.Listener = httpconn.Listener{TCPListener: s.srv.Listener.(*net.TCPListener),
			WriteTimeout: time.Minute, WriteSlack: time.Second}
	}
	s.srv.Start()
	t.Cleanup(func() {
		s.srv.Close()
		s.eng.Close()
	})
	return s
}

// open starts a stream and reads its first line.
func (s *streamServer) open(t *testing.T) (*http.Response, *bufio.Reader) {
	t.Helper()
	resp, err := http.Get(s.srv.URL + "/s")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		resp.Body.Close()
		t.Fatalf("status %d", resp.StatusCode)
	}
	br := bufio.NewReader(resp.Body)
	if line, err := br.ReadString('\n'); line != "hello\n" || err != nil {
		t.Fatalf("first line %q %v", line, err)
	}
	return resp, br
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestIdleStreamsHoldNoGoroutine: streams waiting for nothing hold no
// goroutine of the server (Linux: the epoll set watches them), also on
// the HTTP server's own connections (the engine polls the TCP connection
// beneath: unwrapConn).
func TestIdleStreamsHoldNoGoroutine(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("elsewhere each stream has a waiter goroutine")
	}
	for _, serverConns := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "server connections"}[serverConns], func(t *testing.T) {
			idleStreamsHoldNoGoroutine(t, newStreamServerOn(t, 0, serverConns))
		})
	}
}

func idleStreamsHoldNoGoroutine(t *testing.T, s *streamServer) {
	// Raw connections: the client side holds no goroutine per stream either.
	const n = 200
	before := runtime.NumGoroutine()
	var conns []net.Conn
	for range n {
		nc, err := net.Dial("tcp", s.srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, nc)
		_, _ = io.WriteString(nc, "GET /s HTTP/1.1\r\nHost: x\r\n\r\n")
		br := bufio.NewReader(nc)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(line, "hello") {
				break
			}
		}
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	waitFor(t, "the pool's workers to go idle", func() bool { return runtime.NumGoroutine()-before < n/10 })
	if st := s.group.Stats(); st.Open != n {
		t.Fatalf("%d streams open, want %d", st.Open, n)
	}
}

// TestStreamEnds: a client that leaves is noticed and counted, the engine
// closing ends the others with the body's last chunk (a clean EOF), and
// the per-address cap counts streams.
func TestStreamEnds(t *testing.T) {
	s := newStreamServer(t, 2)
	a, _ := s.open(t)
	b, bbr := s.open(t)
	if resp, err := http.Get(s.srv.URL + "/s"); err != nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third stream from one address: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	a.Body.Close()
	waitFor(t, "the closed stream counted", func() bool { return s.group.Stats().Closes["client_closed"] == 1 })
	c, _ := s.open(t) // its slot was given back
	defer c.Body.Close()

	s.eng.Close()
	if _, err := io.ReadAll(bbr); err != nil {
		t.Fatalf("stream after Close: %v, want a clean end", err)
	}
	b.Body.Close()
	if st := s.group.Stats(); st.Open != 0 || st.Closes["going_away"] != 2 {
		t.Fatalf("after Close: %+v", st)
	}
}
