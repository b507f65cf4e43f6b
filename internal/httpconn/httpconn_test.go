package httpconn

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

// pair returns a *Conn accepted from l (its TCPListener is made here)
// and the client's end.
func pair(t *testing.T, l Listener) (*Conn, net.Conn) {
	t.Helper()
	tl, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	l.TCPListener = tl
	defer l.Close()
	client, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	nc, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	c, ok := nc.(*Conn)
	if !ok {
		t.Fatalf("Accept returned %T", nc)
	}
	return c, client
}

// writeErr writes one byte (which never blocks here: the peer's buffer is
// empty) and returns the error, os.ErrDeadlineExceeded when the write
// deadline has passed.
func writeErr(c net.Conn) error {
	_, err := c.Write([]byte{'x'})
	return err
}

// past is a deadline that has passed: a write fails at once, so nothing
// here waits for a deadline.
var past = time.Unix(1, 0)

// TestWriteDeadline: the first write of an answer arms the write
// deadline at timeout + slack, unless at least the timeout is left of the
// armed one; net/http's clearing after an answer only marks its end.
func TestWriteDeadline(t *testing.T) {
	const timeout, slack = time.Hour, time.Hour
	c, _ := pair(t, Listener{WriteTimeout: timeout, WriteSlack: slack})
	before := Now()
	if err := writeErr(c); err != nil {
		t.Fatal(err)
	}
	if armed := c.armedUntil; armed < before+timeout+slack || armed > Now()+timeout+slack {
		t.Fatalf("armed %v after the start, want timeout + slack after the first write", armed)
	}

	// An armed deadline with enough left is kept, through net/http's
	// clearing and the next answer (here a passed one stands for it).
	c.armedUntil = Now() + 2*timeout
	if err := c.TCPConn.SetWriteDeadline(past); err != nil {
		t.Fatal(err)
	}
	if err := c.SetWriteDeadline(time.Time{}); err != nil { // as net/http after each answer
		t.Fatal(err)
	}
	if err := writeErr(c); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the armed deadline was cleared or moved: %v", err)
	}

	// Less than the timeout left: the next answer moves it.
	c.armedUntil = Now() + timeout/2
	if err := c.SetWriteDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := writeErr(c); err != nil {
		t.Fatalf("the next answer did not move a deadline too close: %v", err)
	}
	if c.armedUntil < Now()+timeout {
		t.Fatalf("armed %v, less than the timeout away", c.armedUntil)
	}
	// Within an answer, writes do not look at the deadline again.
	c.armedUntil = Now()
	if err := c.TCPConn.SetWriteDeadline(past); err != nil {
		t.Fatal(err)
	}
	if err := writeErr(c); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a second write of one answer moved the deadline: %v", err)
	}
}

// TestHandlerDeadline: a write deadline a handler sets replaces the armed
// one and is not moved by the answer's writes; net/http's clearing after
// that answer clears it, and the next answer arms the connection's own.
func TestHandlerDeadline(t *testing.T) {
	c, _ := pair(t, Listener{WriteTimeout: time.Hour, WriteSlack: time.Second})
	if err := writeErr(c); err != nil {
		t.Fatal(err)
	}
	if err := c.SetWriteDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetWriteDeadline(past); err != nil { // the handler's
		t.Fatal(err)
	}
	if err := writeErr(c); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write past the handler's deadline: %v", err)
	}
	if err := c.SetWriteDeadline(time.Time{}); err != nil { // net/http after the answer
		t.Fatal(err)
	}
	if c.armedUntil != 0 {
		t.Fatalf("armed %v right after the handler's answer", c.armedUntil)
	}
	if err := writeErr(c); err != nil {
		t.Fatalf("the handler's deadline outlived its answer: %v", err)
	}
	if c.armedUntil == 0 {
		t.Fatal("the answer after the handler's was not bounded")
	}
}

// TestHijackedConn: once net/http clears both deadlines (a hijack), the
// deadlines are the handler's: none is armed, none is kept.
func TestHijackedConn(t *testing.T) {
	c, _ := pair(t, Listener{WriteTimeout: time.Hour, WriteSlack: time.Second})
	if err := writeErr(c); err != nil {
		t.Fatal(err)
	}
	if err := c.SetDeadline(time.Time{}); err != nil { // as net/http's Hijack
		t.Fatal(err)
	}
	if err := c.SetWriteDeadline(past); err != nil {
		t.Fatal(err)
	}
	if err := writeErr(c); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write past the handler's deadline: %v", err)
	}
	if err := c.SetWriteDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := writeErr(c); err != nil {
		t.Fatalf("clearing the deadline of a hijacked connection: %v", err)
	}
	if c.armedUntil != 0 {
		t.Fatalf("a hijacked connection armed its own deadline: %v", c.armedUntil)
	}
}

// TestNoWriteTimeout: a Listener without a write timeout arms nothing.
func TestNoWriteTimeout(t *testing.T) {
	c, _ := pair(t, Listener{})
	if err := writeErr(c); err != nil {
		t.Fatal(err)
	}
	if c.armedUntil != 0 {
		t.Fatalf("armed %v without a timeout", c.armedUntil)
	}
}

// TestAt: At of a reading of Now is that moment, on the monotonic clock.
func TestAt(t *testing.T) {
	before := time.Now()
	at := At(Now())
	after := time.Now()
	if at.Before(before) || at.After(after) {
		t.Fatalf("At(Now()) = %v, not within [%v, %v]", at, before, after)
	}
}

// TestReadDeadline: ReadDeadline is the last read deadline set, clearings
// aside.
func TestReadDeadline(t *testing.T) {
	c, _ := pair(t, Listener{})
	if !c.ReadDeadline().IsZero() {
		t.Fatalf("a new connection's read deadline: %v", c.ReadDeadline())
	}
	header := time.Now().Add(time.Hour)
	if err := c.SetReadDeadline(header); err != nil {
		t.Fatal(err)
	}
	if err := c.SetReadDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got := c.ReadDeadline(); !got.Equal(header) {
		t.Fatalf("ReadDeadline %v, want %v", got, header)
	}
}
