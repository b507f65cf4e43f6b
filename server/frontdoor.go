package server

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/internal/httpconn"
)

// PathRewriter is implemented by a Dialect whose paths are matched more
// loosely than echo's router matches them (Lantern: case-insensitive
// literal segments, one trailing slash, as Express matches them). The
// server calls RewritePath on every request before routing; it changes
// the request's path only when its own paths call for it.
type PathRewriter interface {
	RewritePath(r *http.Request)
}

// ServeHTTP serves one request: CORS first (every response carries it;
// preflights are answered before routing, docs/compat/cross-dialect.md
// §1.3), then the dialects' path rewrites, the router and the route's
// handler inside serveRouted. Tests that serve the Server, not only its
// Echo, get exactly what clients get.
//
// It does what echo's own ServeHTTP does (a pooled context, the router's
// Find, the handler) without echo's middleware chains: echo builds them
// around the handler again on every request, a closure per middleware,
// and this is the path of every GET. Middleware added with the Echo's Use
// or Pre is therefore not run; the server's one wrapper is serveRouted,
// and a dialect that needs to see paths before routing implements
// PathRewriter.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := httpconn.Now()
	s.bound(r)
	if answerCORS(w, r) {
		return
	}
	for _, rw := range s.rewriters {
		rw.RewritePath(r)
	}
	c := s.echo.AcquireContext()
	c.Reset(r, w)
	s.echo.Router().Find(r.Method, echo.GetPath(r), c)
	s.serveRouted(c, c.Handler(), start)
	s.echo.ReleaseContext(c)
}

// around is serveRouted as an echo middleware, for an Echo served by
// echo itself (DemoHandler).
func (s *Server) around(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		s.serveRouted(c, next, httpconn.Now())
		return nil
	}
}

// serveRouted runs the route's handler h inside what every routed request
// passes: the body cap, the request's metrics and its log line; an error
// h returns is answered here (by the server's error handler). start is
// when the request started (a reading of httpconn.Now).
//
// WebSocket upgrades are left out of the metrics: their "duration" is the
// whole session, counted by the socket metrics instead.
func (s *Server) serveRouted(c echo.Context, h echo.HandlerFunc, start time.Duration) {
	m := s.metrics
	// Header.Get would canonicalize the key first; "Upgrade" already is.
	if up := c.Request().Header["Upgrade"]; m != nil && len(up) > 0 && strings.EqualFold(up[0], "websocket") {
		m = nil
	}
	if m != nil {
		m.inFlight.Add(1)
		defer m.inFlight.Add(-1)
	}
	var err error
	if s.capBody(c) {
		err = TooLarge(c)
	} else {
		err = h(c)
	}
	if err != nil {
		c.Error(err) // write the error response now, so its status is known
	}
	if m != nil {
		m.record(c, start)
	}
	s.logRequest(c, start)
}
