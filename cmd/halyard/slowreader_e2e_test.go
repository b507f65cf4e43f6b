//go:build linux

package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// waitCut waits, without reading, until the server has closed conn (a FIN
// or a reset arrived) and returns when; it fails the test after bound.
// Reading would drain what the server could not send.
func waitCut(t *testing.T, conn net.Conn, bound time.Duration) time.Time {
	t.Helper()
	raw, err := conn.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(bound)
	for time.Now().Before(deadline) {
		var revents int16
		err := raw.Control(func(fd uintptr) {
			fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}}
			if _, perr := unix.Poll(fds, 50); perr == nil {
				revents = fds[0].Revents
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if revents&(unix.POLLRDHUP|unix.POLLHUP|unix.POLLERR) != 0 {
			return time.Now()
		}
	}
	t.Fatalf("connection still open after %v", bound)
	return time.Time{}
}

// TestSlowReaderIsCutOff: a client that pipelines requests and never
// reads the answers is disconnected once the answer the server is writing
// has waited HTTP_WRITE_TIMEOUT (never before), while other clients are
// served meanwhile.
func TestSlowReaderIsCutOff(t *testing.T) {
	const writeTimeout = time.Second
	m := startDemoWith(t, 3, map[string]string{"HTTP_WRITE_TIMEOUT": writeTimeout.String()})
	// A small receive buffer, set before connecting, keeps the window
	// small, so the server's writes block after a few answers.
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, 4096) })
		if err != nil {
			return err
		}
		return serr
	}}
	conn, err := d.Dial("tcp", m.Server.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	// /metrics answers tens of KB; 2 000 of them are far more than the
	// socket buffers hold, even where they grow to many MB.
	const pipelined = 2000
	reqs := strings.Repeat("GET /metrics HTTP/1.1\r\nHost: halyard\r\n\r\n", pipelined)
	go func() { _, _ = io.WriteString(conn, reqs) }()

	c := client{t, m.URL()}
	owner := m.Sim.MemberIDs(m.Sim.GuildIDs()[0])[0]
	for range 3 {
		if code, _ := c.do("GET", "/v1/users/"+owner, "", nil); code != http.StatusOK {
			t.Fatalf("normal client while another does not read: %d", code)
		}
	}

	cut := waitCut(t, conn, 30*time.Second)
	if took := cut.Sub(start); took < writeTimeout {
		t.Fatalf("a client that does not read was cut off after %v, before the write timeout %v", took, writeTimeout)
	} else {
		t.Logf("a client that stopped reading was cut off %v after its requests", took.Round(time.Millisecond))
	}
	// The answers do not all arrive (those the server had sent may be
	// lost with the reset).
	br := bufio.NewReader(conn)
	answers := 0
	for {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			break
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			break
		}
		answers++
	}
	if answers >= pipelined {
		t.Fatalf("all %d answers arrived: the connection was not cut", answers)
	}
	t.Logf("%d whole answers arrived before the cut", answers)
}

// TestIdleKeepAliveIsClosed: a keep-alive connection that stays silent
// after its answer is closed once HTTP_IDLE_TIMEOUT has passed (never
// before), and one that keeps asking stays open.
func TestIdleKeepAliveIsClosed(t *testing.T) {
	const idleTimeout = time.Second
	m := startDemoWith(t, 3, map[string]string{"HTTP_IDLE_TIMEOUT": idleTimeout.String()})
	ask := func(conn net.Conn, br *bufio.Reader) {
		t.Helper()
		if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: halyard\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("healthz: %d", resp.StatusCode)
		}
	}
	idle, err := net.Dial("tcp", m.Server.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	// The idle time counts from the answer, which the server sends after
	// this moment.
	asked := time.Now()
	ask(idle, bufio.NewReader(idle))

	// Meanwhile a busy connection asks every idleTimeout/4 until the idle
	// one is cut, and is answered each time.
	busy, err := net.Dial("tcp", m.Server.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	done := make(chan struct{})
	answered := make(chan int)
	go func() {
		br := bufio.NewReader(busy)
		n := 0
		defer func() { answered <- n }()
		for {
			select {
			case <-done:
				return
			case <-time.After(idleTimeout / 4):
			}
			if _, err := io.WriteString(busy, "GET /healthz HTTP/1.1\r\nHost: halyard\r\n\r\n"); err != nil {
				return
			}
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			n++
		}
	}()

	cut := waitCut(t, idle, 30*time.Second)
	close(done)
	n := <-answered
	if took := cut.Sub(asked); took < idleTimeout {
		t.Fatalf("an idle keep-alive connection was closed after %v, before the idle timeout %v", took, idleTimeout)
	} else {
		t.Logf("an idle keep-alive connection was closed %v after its request", took.Round(time.Millisecond))
	}
	// The busy connection, asked more often than the idle timeout, is
	// still served.
	ask(busy, bufio.NewReader(busy))
	if n == 0 {
		t.Fatal("the busy connection was never answered")
	}
}
