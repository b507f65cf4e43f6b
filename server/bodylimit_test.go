package server

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawConn is one client connection for requests written by hand.
type rawConn struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dialRaw(t *testing.T, base string) *rawConn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	return &rawConn{t: t, conn: conn, r: bufio.NewReader(conn)}
}

// put writes a PUT /v1/echo declaring length bytes and sends body.
func (c *rawConn) put(length int, body []byte) error {
	head := fmt.Sprintf("PUT /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", length)
	if _, err := c.conn.Write([]byte(head)); err != nil {
		return err
	}
	for len(body) > 0 {
		n := min(len(body), 64<<10)
		if _, err := c.conn.Write(body[:n]); err != nil {
			return err
		}
		body = body[n:]
	}
	return nil
}

func (c *rawConn) response() (*http.Response, string) {
	c.t.Helper()
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp, string(b)
}

// TestOverLimitBodyKeepsConnection: an over-limit body read through to its
// end leaves the connection usable; the next request on it is served.
func TestOverLimitBodyKeepsConnection(t *testing.T) {
	base := startServer(t, Options{})
	for _, size := range []int{2 << 20, 1<<20 + 1} { // declared too big; read past the cap
		c := dialRaw(t, base)
		if err := c.put(size, bytes.Repeat([]byte("a"), size)); err != nil {
			t.Fatal(err)
		}
		resp, body := c.response()
		if resp.StatusCode != 413 || body != echoTooLarge || resp.Close {
			t.Fatalf("%d bytes: %d %s (close %v)", size, resp.StatusCode, body, resp.Close)
		}
		if err := c.put(5, []byte("hello")); err != nil {
			t.Fatal(err)
		}
		if resp, body := c.response(); resp.StatusCode != 200 || body != "hello" {
			t.Fatalf("%d bytes, next request: %d %s", size, resp.StatusCode, body)
		}
	}
}

// TestOverLimitBodyBounds: a body announced beyond what is read through
// is answered at once, and the connection closed.
func TestOverLimitBodyBounds(t *testing.T) {
	base := startServer(t, Options{})
	c := dialRaw(t, base)
	if err := c.put(lingerBytes+1, nil); err != nil {
		t.Fatal(err)
	}
	resp, body := c.response()
	if resp.StatusCode != 413 || body != echoTooLarge || !resp.Close {
		t.Fatalf("%d %s (close %v)", resp.StatusCode, body, resp.Close)
	}
}

// TestOverLimitBodyTimeBound: a client that stops sending an over-limit
// body is answered once the linger time is up, and the connection closed.
func TestOverLimitBodyTimeBound(t *testing.T) {
	defer func(d time.Duration) { lingerTime = d }(lingerTime)
	lingerTime = 300 * time.Millisecond
	base := startServer(t, Options{})
	c := dialRaw(t, base)
	start := time.Now()
	if err := c.put(2<<20, bytes.Repeat([]byte("a"), 3<<19)); err != nil { // 1.5 of 2 MiB, then silence
		t.Fatal(err)
	}
	resp, body := c.response()
	if resp.StatusCode != 413 || body != echoTooLarge || !resp.Close {
		t.Fatalf("%d %s (close %v)", resp.StatusCode, body, resp.Close)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Fatalf("answered after %v", waited)
	}
}
