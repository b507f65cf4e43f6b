package server

import (
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"
)

// logRequests logs one line per request: errors at Warn, the rest at Debug
// so a busy server's log stays readable.
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
		s.log.Log(c.Request().Context(), level, "http request",
			"method", c.Request().Method, "path", c.Request().URL.Path, "status", status,
			"duration", time.Since(start), "bytes", c.Response().Size)
		return nil
	}
}
