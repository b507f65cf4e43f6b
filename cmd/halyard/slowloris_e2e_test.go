package main

import (
	"bufio"
	"cmp"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// slowClient is one connection that sends its request a byte at a time.
type slowClient struct {
	conn net.Conn
	// cut is closed when the server has closed the connection (or answered
	// it); at holds when, and answer the first line the server sent, if any.
	cut    chan struct{}
	at     time.Time
	answer string
}

// dialSlow opens a connection, sends prefix at once and then trickle one
// byte every interval until the server closes the connection or stop is
// closed. A reader notes when the server cut it off.
func dialSlow(t *testing.T, addr, prefix, trickle string, interval time.Duration, stop <-chan struct{}) *slowClient {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c := &slowClient{conn: conn, cut: make(chan struct{})}
	if _, err := io.WriteString(conn, prefix); err != nil {
		t.Fatal(err)
	}
	go func() {
		line, _ := bufio.NewReader(conn).ReadString('\n')
		c.answer = strings.TrimSpace(line)
		c.at = time.Now()
		close(c.cut)
	}()
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-c.cut:
				return
			case <-time.After(interval):
			}
			if _, err := conn.Write([]byte{trickle[i%len(trickle)]}); err != nil {
				return
			}
		}
	}()
	return c
}

// TestSlowHTTPClientsAreCutOff: connections that send their headers (or
// their body) a byte at a time are closed once HTTP_READ_HEADER_TIMEOUT
// (HTTP_READ_TIMEOUT) has passed, while a normal client is served
// meanwhile; headers over HTTP_MAX_HEADER_BYTES are answered 431.
func TestSlowHTTPClientsAreCutOff(t *testing.T) {
	const headerTimeout, readTimeout = 600 * time.Millisecond, 1500 * time.Millisecond
	m := startDemoWith(t, 3, map[string]string{
		"HTTP_READ_HEADER_TIMEOUT": headerTimeout.String(),
		"HTTP_READ_TIMEOUT":        readTimeout.String(),
		"HTTP_MAX_HEADER_BYTES":    "8192",
	})
	addr := m.Server.Addr()
	stop := make(chan struct{})
	defer close(stop)

	const slowHeaders, slowBodies = 20, 5
	start := time.Now()
	var slow []*slowClient
	for range slowHeaders {
		slow = append(slow, dialSlow(t, addr, "GET /healthz HTTP/1.1\r\nHost: halyard\r\n", "X-Slow: aaaaaaaa\r\n", 50*time.Millisecond, stop))
	}
	// Full headers, then a body that never completes: only the read
	// timeout ends it (the KV route reads the body before anything else).
	owner := m.Sim.MemberIDs(m.Sim.GuildIDs()[0])[0]
	for range slowBodies {
		slow = append(slow, dialSlow(t, addr, "PUT /v1/users/"+owner+"/kv/slow HTTP/1.1\r\nHost: halyard\r\n"+
			"Authorization: nope\r\nContent-Length: 100000\r\n\r\n", "v", 50*time.Millisecond, stop))
	}

	// While they trickle, normal clients are served.
	c := client{t, m.URL()}
	served := 0
	for i := 0; i < 5; i++ {
		if code, _ := c.do("GET", "/healthz", "", nil); code != http.StatusOK {
			t.Fatalf("normal client during slowloris: %d", code)
		}
		if code, _ := c.do("GET", "/v1/users/"+owner, "", nil); code != http.StatusOK {
			t.Fatalf("normal client during slowloris: %d", code)
		}
		served += 2
		time.Sleep(50 * time.Millisecond)
	}

	bound := time.After(20 * time.Second)
	var slowest time.Duration
	answers := map[string]int{}
	for i, s := range slow {
		select {
		case <-s.cut:
		case <-bound:
			t.Fatalf("slow client %d still connected after 20s", i)
		}
		took := s.at.Sub(start)
		slowest = max(slowest, took)
		limit := headerTimeout
		if i >= slowHeaders {
			limit = readTimeout
			// The server may answer the half-read body with a 4xx
			// before closing; it must never answer 2xx or 5xx.
			if s.answer != "" && !strings.Contains(s.answer, " 4") {
				t.Errorf("slow body %d answered %q", i, s.answer)
			}
		} else if s.answer != "" && !strings.Contains(s.answer, " 408") && !strings.Contains(s.answer, " 4") {
			t.Errorf("slow headers %d answered %q", i, s.answer)
		}
		if took < limit {
			t.Errorf("slow client %d cut off after %v, before its timeout %v", i, took, limit)
		}
		answers[cmp.Or(s.answer, "(closed, no answer)")]++
		s.conn.Close()
	}
	t.Logf("%d slow-header and %d slow-body connections cut off, the last after %v; %d normal requests served meanwhile; answers: %v",
		slowHeaders, slowBodies, slowest.Round(time.Millisecond), served, answers)

	// Oversize headers: 431, never a 5xx.
	req, _ := http.NewRequest("GET", m.URL()+"/healthz", nil)
	req.Header.Set("X-Big", strings.Repeat("a", 16<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("16 KiB header with an 8 KiB cap: %d", resp.StatusCode)
	}
}

// TestSlowClientTimeoutsSpareWebSockets: a WebSocket opened on the same
// server is not cut off by the HTTP read timeout once upgraded (the
// deadlines are cleared on upgrade), so the timeouts only bound plain
// requests.
func TestSlowClientTimeoutsSpareWebSockets(t *testing.T) {
	const readTimeout = 700 * time.Millisecond
	m := startDemoWith(t, 3, map[string]string{
		"HTTP_READ_HEADER_TIMEOUT": "300ms",
		"HTTP_READ_TIMEOUT":        readTimeout.String(),
		"HTTP_WRITE_TIMEOUT":       readTimeout.String(),
	})
	conn, err := net.Dial("tcp", m.Server.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = io.WriteString(conn, "GET /lanyard/socket HTTP/1.1\r\nHost: halyard\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %d", resp.StatusCode)
	}
	// Read frames for three read timeouts: the Lanyard Hello (op 1) comes
	// first; the socket must still be open afterwards. Lanyard's own
	// inactivity limit is far longer than this.
	var mu sync.Mutex
	var readErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			if _, err := br.Read(buf); err != nil {
				mu.Lock()
				readErr = err
				mu.Unlock()
				return
			}
		}
	}()
	select {
	case <-done:
		t.Fatalf("upgraded socket closed within 3 read timeouts: %v", readErr)
	case <-time.After(3 * readTimeout):
	}
	_ = conn.SetReadDeadline(time.Now()) // ends the reader
	<-done
	mu.Lock()
	defer mu.Unlock()
	var ne net.Error
	if !errors.As(readErr, &ne) || !ne.Timeout() {
		t.Fatalf("socket ended by %v, not by our own deadline", readErr)
	}
}
