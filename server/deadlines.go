package server

import (
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
//   - the read deadline of a request's body is Timeouts.Read from the end
//     of its headers (net/http counted it from their start; the headers
//     are bounded by Timeouts.ReadHeader), set only for requests that
//     have a body (bound): a GET has none, and net/http clears the read
//     deadline once a body was read.
//
// Timeouts.ReadHeader and Timeouts.Idle stay net/http's. It returns the
// listener to serve.
func (s *Server) ownDeadlines(tl *net.TCPListener, t Timeouts) net.Listener {
	s.bodyTimeout = t.Read
	return httpconn.Listener{TCPListener: tl, WriteTimeout: t.Write, WriteSlack: writeSlack(t.Write)}
}

// writeSlack is how much later than the write timeout an answer may be
// cut off: an eighth of the timeout, at most a second.
func writeSlack(write time.Duration) time.Duration { return min(write/8, time.Second) }

// bound sets the read deadline of r's body, when it has one, to
// Timeouts.Read from now (a reading of httpconn.Now). A server whose
// net/http bounds bodies (not on a TCP listener), or a request served
// otherwise (a test calling ServeHTTP), is left alone.
func (s *Server) bound(w http.ResponseWriter, r *http.Request, now time.Duration) {
	if r.Body == http.NoBody || s.bodyTimeout == 0 {
		return
	}
	_ = http.NewResponseController(w).SetReadDeadline(httpconn.At(now + s.bodyTimeout))
}
