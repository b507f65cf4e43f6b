package server

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// ServeHTTP serves one request: CORS first (every response carries it;
// preflights are answered before routing, docs/compat/cross-dialect.md
// §1.3), then the router. Tests that serve the Server, not only its
// Echo, get exactly what clients get.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if answerCORS(w, r) {
		return
	}
	s.echo.ServeHTTP(w, r)
}

// around is the one middleware every routed request passes: the body cap,
// the request's metrics and its log line. One function, not three: echo
// wraps its middlewares around the route's handler on every request, a
// closure each, and these are the hot path of every GET.
//
// WebSocket upgrades are left out of the metrics: their "duration" is the
// whole session, counted by the socket metrics instead.
func (s *Server) around(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		m := s.metrics
		if m != nil && strings.EqualFold(c.Request().Header.Get("Upgrade"), "websocket") {
			m = nil
		}
		if m != nil {
			m.inFlight.Inc()
			defer m.inFlight.Dec()
		}
		var err error
		if s.capBody(c) {
			err = TooLarge(c)
		} else {
			err = next(c)
		}
		if err != nil {
			c.Error(err) // write the error response now, so its status is known
		}
		if m != nil {
			m.record(c, start)
		}
		s.logRequest(c, start)
		return nil
	}
}
