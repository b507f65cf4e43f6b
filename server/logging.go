package server

import (
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/internal/clientaddr"
	"github.com/halyardhq/halyard/internal/httpconn"
)

// logRequest logs one line for a served request: errors at Warn, the
// rest at Debug so a busy server's log stays readable. The client is named
// by the one rule every limit uses too (internal/clientaddr).
func (s *Server) logRequest(c echo.Context, start time.Duration) {
	status := c.Response().Status
	level := slog.LevelDebug
	if status >= 500 {
		level = slog.LevelWarn
	}
	req := c.Request()
	if !s.log.Enabled(req.Context(), level) {
		return // the usual case at Debug: no address to parse, no line to build
	}
	s.log.Log(req.Context(), level, "http request",
		"client", clientaddr.FromRequest(req, s.opts.TrustedProxyHeader),
		"method", req.Method, "path", req.URL.Path, "status", status,
		"duration", httpconn.Now()-start, "bytes", c.Response().Size)
}
