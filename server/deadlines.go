package server

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/halyardhq/halyard/internal/httpconn"
)

// ownDeadlines enforce Timeouts.Write and Timeouts.Read on a TCP listener
// instead of net/http's WriteTimeout and ReadTimeout, which cost a
// keep-alive connection four deadline changes per request (each a timer
// change and up to three clock reads), on every GET:
//
//   - the write deadline is the connection's own (httpconn.Conn): checked
//     at the first write of each answer and moved only when less than
//     Timeouts.Write is left, to Timeouts.Write + writeSlack from then, so
//     every answer is bounded by Timeouts.Write at least and
//     Timeouts.Write + writeSlack at most, and a busy connection re-arms
//     it once per writeSlack;
//   - the read deadline of a request's body is Timeouts.Read from the
//     request's start, as net/http's (the start is read off the header
//     deadline net/http set then: httpconn.Conn.ReadDeadline), set only
//     for requests that have a body (bound): a GET has none, and net/http
//     clears the read deadline once a body was read.
//
// Timeouts.ReadHeader and Timeouts.Idle stay net/http's. It returns the
// listener to serve.
func (s *Server) ownDeadlines(tl *net.TCPListener, t Timeouts) net.Listener {
	s.bodyTimeout, s.headerTimeout = t.Read, t.ReadHeader
	s.http.ConnContext = withConn
	return httpconn.Listener{TCPListener: tl, WriteTimeout: t.Write, WriteSlack: writeSlack(t.Write)}
}

// writeSlack is how much later than the write timeout an answer may be
// cut off: an eighth of the timeout, at most a second.
func writeSlack(write time.Duration) time.Duration { return min(write/8, time.Second) }

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

// bound sets the read deadline of r's body, when it has one, to
// Timeouts.Read from the request's start. A server whose net/http bounds
// bodies (not on a TCP listener), or a request served otherwise (a test
// calling ServeHTTP), is left alone.
func (s *Server) bound(r *http.Request) {
	if r.Body == http.NoBody || s.bodyTimeout == 0 {
		return
	}
	hc, ok := r.Context().Value(connKey{}).(*httpconn.Conn)
	if !ok {
		return
	}
	start := time.Now()
	if hd := hc.ReadDeadline(); !hd.IsZero() {
		start = hd.Add(-s.headerTimeout)
	}
	_ = hc.SetReadDeadline(start.Add(s.bodyTimeout))
}
