// Package httpconn holds the connections of Halyard's HTTP server: a TCP
// connection whose write deadline the server arms once for many answers
// instead of net/http arming and clearing it around every answer.
//
// net/http's WriteTimeout costs two timer changes per request on a
// keep-alive connection (the deadline set after the request was read, then
// cleared once the answer was flushed) and three clock reads. The server
// instead leaves WriteTimeout unset and calls ArmWrite as each request
// starts: the deadline is moved only when less than the timeout is left,
// to the timeout plus a slack, so a busy connection re-arms it once per
// slack, and every answer is still bounded (by at most timeout + slack).
// net/http's clearing of the deadline after each answer is dropped (Conn's
// SetWriteDeadline), so the armed deadline bounds the next answers too.
package httpconn

import (
	"net"
	"time"
)

// Listener accepts TCP connections as *Conn.
type Listener struct {
	*net.TCPListener
}

// Accept waits for the next connection and returns it as a *Conn.
func (l Listener) Accept() (net.Conn, error) {
	tc, err := l.AcceptTCP()
	if err != nil {
		return nil, err
	}
	return &Conn{TCPConn: tc}, nil
}

// Conn is a TCP connection served by net/http, with the write deadline
// armed by ArmWrite. Its fields are used by the goroutine serving the
// connection (net/http runs the handler on it); a handler that hijacks
// the connection should use the TCPConn beneath (the socket engine does).
type Conn struct {
	*net.TCPConn
	// armedUntil is the write deadline ArmWrite set, as the monotonic
	// time since Clock's base; 0 when none is (a handler's own
	// deadline or no deadline is in place).
	armedUntil time.Duration
}

// ArmWrite makes sure the connection's write deadline is at least timeout
// after now (a reading of Now), moving it to timeout + slack after now
// when it is not.
func (c *Conn) ArmWrite(now time.Duration, timeout, slack time.Duration) {
	if c.armedUntil != 0 && c.armedUntil >= now+timeout {
		return
	}
	c.armedUntil = now + timeout + slack
	_ = c.TCPConn.SetWriteDeadline(At(c.armedUntil))
}

// SetWriteDeadline sets the write deadline, except that clearing a
// deadline ArmWrite set is ignored: net/http clears the write deadline
// after every answer, and the armed one is to bound the next answers
// too. A deadline a handler sets (http.ResponseController) replaces the
// armed one, and net/http's clearing after that answer is passed on, so
// the handler's deadline does not bound the next answers. A handler that
// wants no write deadline at all hijacks the connection.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	if t.IsZero() && c.armedUntil != 0 {
		return nil
	}
	c.armedUntil = 0
	return c.TCPConn.SetWriteDeadline(t)
}

// SetDeadline sets both deadlines (net/http clears both when a handler
// hijacks the connection); ArmWrite arms the write deadline again later.
func (c *Conn) SetDeadline(t time.Time) error {
	c.armedUntil = 0
	return c.TCPConn.SetDeadline(t)
}

// base anchors Now: time.Since(base) reads only the monotonic clock,
// where time.Now reads the wall clock too.
var base = time.Now()

// Now returns the monotonic time since the process's start, reading one
// clock (time.Now reads two, and the clock is not cheap everywhere: about
// 60 ns a time.Now on the 2-core VM the benchmarks ran on).
func Now() time.Duration { return time.Since(base) }

// At is the time.Time of a reading of Now, with its monotonic clock
// reading, for deadlines and time.Since.
func At(d time.Duration) time.Time { return base.Add(d) }
