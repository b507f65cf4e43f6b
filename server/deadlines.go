package server

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/halyardhq/halyard/internal/httpconn"
)

// deadlines enforce Timeouts.Write and Timeouts.Read on the server's own
// connections (httpconn.Conn) instead of net/http's WriteTimeout and
// ReadTimeout, which cost a keep-alive connection four deadline changes
// per request (each a timer change and up to three clock reads):
//
//   - the write deadline is armed as a request starts, and only when less
//     than Timeouts.Write is left of the one armed before: it is moved to
//     Timeouts.Write + writeSlack from now, so every answer is bounded
//     by Timeouts.Write at least and Timeouts.Write + writeSlack at most,
//     and a busy connection re-arms it once per writeSlack;
//   - the read deadline of a request's body is Timeouts.Read from the end
//     of its headers (net/http counted it from their start; the headers
//     are bounded by Timeouts.ReadHeader), set only for requests that
//     have a body: a GET has none, and net/http clears the read deadline
//     once a body was read.
//
// Timeouts.ReadHeader and Timeouts.Idle stay net/http's.
type deadlines struct {
	write, writeSlack, read time.Duration
}

// newDeadlines returns the deadlines of t (with its defaults filled).
func newDeadlines(t Timeouts) *deadlines {
	return &deadlines{write: t.Write, writeSlack: min(t.Write/8, time.Second), read: t.Read}
}

// connKey is where withConn leaves a request's connection in its context.
type connKey struct{}

// withConn is the http.Server's ConnContext: it keeps the connection in
// the context of its requests, for bound.
func withConn(ctx context.Context, c net.Conn) context.Context {
	if hc, ok := c.(*httpconn.Conn); ok {
		return context.WithValue(ctx, connKey{}, hc)
	}
	return ctx
}

// bound applies the write and body deadlines to r as it starts (now, a
// reading of httpconn.Now); a request served otherwise than on the
// server's own connections (a test calling ServeHTTP) is left alone.
func (s *Server) bound(r *http.Request, now time.Duration) {
	d := s.deadlines
	if d == nil {
		return
	}
	hc, ok := r.Context().Value(connKey{}).(*httpconn.Conn)
	if !ok {
		return
	}
	hc.ArmWrite(now, d.write, d.writeSlack)
	if r.Body != http.NoBody {
		_ = hc.SetReadDeadline(httpconn.At(now + d.read))
	}
}
