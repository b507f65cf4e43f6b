package server

import (
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/internal/clientaddr"
)

// logRequests logs one line per request: errors at Warn, the rest at Debug
// so a busy server's log stays readable. The client is named by the one
// rule every limit uses too (internal/clientaddr).
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		status := c.Response().Status
		level := slog.LevelDebug
		if status >= 500 {
			level = slog.LevelWarn
		}
		req := c.Request()
		if !s.log.Enabled(req.Context(), level) {
			return nil // the usual case at Debug: no address to parse, no line to build
		}
		s.log.Log(req.Context(), level, "http request",
			"client", clientaddr.FromRequest(req, s.opts.TrustedProxyHeader),
			"method", req.Method, "path", req.URL.Path, "status", status,
			"duration", time.Since(start), "bytes", c.Response().Size)
		return nil
	}
}
