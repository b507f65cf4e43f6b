// Package httpconn holds the connections of Halyard's HTTP server: a TCP
// connection that arms its own write deadline once for many answers,
// instead of net/http arming and clearing it around every answer.
//
// net/http's WriteTimeout costs two timer changes per request on a
// keep-alive connection (the deadline set after the request was read, then
// cleared once the answer was flushed) and three clock reads. With
// WriteTimeout unset, a Conn checks its deadline at the first write of
// each answer: it moves it only when less than the timeout is left, to
// the timeout plus a slack, so a busy connection re-arms it once per
// slack, and every answer is still bounded (by at most timeout + slack).
// net/http's clearing of the deadline after each answer marks the
// answer's end instead (Conn's SetWriteDeadline), so the armed deadline
// bounds the next answers too.
package httpconn

import (
	"io"
	"net"
	"time"
)

// Listener accepts TCP connections as *Conn with a write timeout.
type Listener struct {
	*net.TCPListener
	// WriteTimeout bounds writing each answer: the connection's write
	// deadline is at least WriteTimeout after its first write, and at
	// most WriteTimeout + WriteSlack. Zero: no write deadline is armed.
	WriteTimeout, WriteSlack time.Duration
}

// Accept waits for the next connection and returns it as a *Conn.
func (l Listener) Accept() (net.Conn, error) {
	tc, err := l.AcceptTCP()
	if err != nil {
		return nil, err
	}
	return &Conn{TCPConn: tc, timeout: l.WriteTimeout, slack: l.WriteSlack, answerDone: true}, nil
}

// Conn is a TCP connection served by net/http, whose write deadline it
// arms itself at the first write of each answer. Its fields are used by
// the goroutine serving the connection (net/http runs the handler on
// it); a handler that hijacks the connection should use the TCPConn
// beneath (the socket engine does), on which no deadline is armed.
type Conn struct {
	*net.TCPConn
	timeout, slack time.Duration
	// armedUntil is the write deadline the connection armed, as a
	// reading of Now; 0 when none is (a handler's own deadline or none).
	armedUntil time.Duration
	// answerDone is set when net/http has finished an answer (it clears
	// the write deadline then): the next write starts the next answer.
	answerDone bool
	// own is set while a deadline a handler set (http.ResponseController)
	// is in place: it is not replaced, and net/http's clearing after that
	// answer is passed on.
	own bool
	// hijacked is set once net/http handed the connection to a handler
	// (it clears both deadlines then): deadlines are the handler's.
	hijacked bool
	// readDeadline is the last read deadline set that was not a clearing
	// (ReadDeadline).
	readDeadline time.Time
}

// SetReadDeadline sets the read deadline, noting it for ReadDeadline.
func (c *Conn) SetReadDeadline(t time.Time) error {
	if !t.IsZero() {
		c.readDeadline = t
	}
	return c.TCPConn.SetReadDeadline(t)
}

// ReadDeadline is the last read deadline set other than a clearing. While
// a handler runs, it is the header timeout's that net/http set as the
// request started (its first bytes arrived, or the connection opened):
// the request started ReadHeaderTimeout before it.
func (c *Conn) ReadDeadline() time.Time { return c.readDeadline }

// Write arms the write deadline at the first write of an answer, then
// writes.
func (c *Conn) Write(p []byte) (int, error) {
	if c.answerDone {
		c.startAnswer()
	}
	return c.TCPConn.Write(p)
}

// ReadFrom is Write for net/http's copies from files and sockets
// (sendfile, splice).
func (c *Conn) ReadFrom(r io.Reader) (int64, error) {
	if c.answerDone {
		c.startAnswer()
	}
	return c.TCPConn.ReadFrom(r)
}

// startAnswer makes sure the write deadline is at least timeout away,
// moving it to timeout + slack from now when it is not: a connection
// answering many requests moves it once per slack.
func (c *Conn) startAnswer() {
	c.answerDone = false
	if c.own || c.hijacked || c.timeout <= 0 {
		return
	}
	now := Now()
	if c.armedUntil != 0 && c.armedUntil >= now+c.timeout {
		return
	}
	c.armedUntil = now + c.timeout + c.slack
	_ = c.TCPConn.SetWriteDeadline(At(c.armedUntil))
}

// SetWriteDeadline sets the write deadline, except that net/http's
// clearing of it after each answer only marks the answer's end: the
// deadline the connection armed stays, to bound the next answers too. A
// deadline a handler sets (http.ResponseController) replaces the armed
// one, and the clearing after that answer is passed on, so the handler's
// deadline does not bound the next answers. A handler that wants no
// write deadline at all hijacks the connection.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	if t.IsZero() && !c.hijacked {
		c.answerDone = true
		if !c.own {
			return nil
		}
	}
	c.armedUntil, c.own = 0, !t.IsZero() && !c.hijacked
	return c.TCPConn.SetWriteDeadline(t)
}

// SetDeadline sets both deadlines; net/http clears both when a handler
// hijacks the connection, which hands the deadlines to the handler.
func (c *Conn) SetDeadline(t time.Time) error {
	c.armedUntil, c.own, c.hijacked = 0, false, true
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
