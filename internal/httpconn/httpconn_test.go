package httpconn

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

// pair returns a *Conn accepted from a Listener and the client's end.
func pair(t *testing.T) (*Conn, net.Conn) {
	t.Helper()
	tl, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	l := Listener{TCPListener: tl}
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

// TestArmWrite: ArmWrite sets the write deadline when none is armed or
// the armed one is less than the timeout away, and leaves it otherwise;
// net/http's clearing after an answer does not remove it. Deadlines in
// the past stand for deadlines reached, so nothing here waits.
func TestArmWrite(t *testing.T) {
	c, _ := pair(t)
	now := Now()

	c.ArmWrite(now-time.Hour, time.Millisecond, time.Millisecond) // armed an hour ago: passed
	if err := writeErr(c); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write past an armed deadline: %v", err)
	}
	if err := c.SetWriteDeadline(time.Time{}); err != nil { // as net/http after each answer
		t.Fatal(err)
	}
	if err := writeErr(c); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the armed deadline was cleared: %v", err)
	}

	c.ArmWrite(now, time.Hour, time.Second) // the armed one has passed: moved
	if err := writeErr(c); err != nil {
		t.Fatalf("write after re-arming: %v", err)
	}
	// An hour and a second are left, more than a millisecond: no change
	// (a change would arm a deadline two hours ago).
	c.ArmWrite(now-2*time.Hour, time.Millisecond, 0)
	if err := writeErr(c); err != nil {
		t.Fatalf("ArmWrite moved a deadline that was far enough: %v", err)
	}
	// Less than the timeout is left: moved (here into the past).
	c.ArmWrite(now-2*time.Hour, 4*time.Hour, -4*time.Hour)
	if err := writeErr(c); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("ArmWrite kept a deadline less than the timeout away: %v", err)
	}
}

// TestHandlerDeadline: a write deadline a handler sets replaces the armed
// one, and clearing it afterwards (net/http after that answer) clears it;
// SetDeadline (net/http on a hijack) clears an armed one.
func TestHandlerDeadline(t *testing.T) {
	c, _ := pair(t)
	c.ArmWrite(Now(), time.Hour, time.Second)
	if err := c.SetWriteDeadline(time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := writeErr(c); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write past the handler's deadline: %v", err)
	}
	if err := c.SetWriteDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := writeErr(c); err != nil {
		t.Fatalf("the handler's deadline was not cleared: %v", err)
	}

	c.ArmWrite(Now()-time.Hour, time.Millisecond, 0)
	if err := c.SetDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := writeErr(c); err != nil {
		t.Fatalf("SetDeadline did not clear the armed deadline: %v", err)
	}
	// Nothing is armed now: the next ArmWrite arms.
	c.ArmWrite(Now()-time.Hour, time.Millisecond, 0)
	if err := writeErr(c); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("ArmWrite after SetDeadline: %v", err)
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
