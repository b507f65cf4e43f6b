package server

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// healthz answers 200 while the process serves HTTP.
func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{"status": "ok"})
}

// readyz answers 200 once the gateway session is READY and the store
// answers, else 503 with the reasons.
func (s *Server) readyz(c echo.Context) error {
	var reasons []string
	if s.opts.Ready != nil {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
		reasons = s.opts.Ready(ctx)
		cancel()
	}
	if len(reasons) > 0 {
		return c.JSON(http.StatusServiceUnavailable, map[string]any{"ready": false, "reasons": reasons})
	}
	return c.JSON(http.StatusOK, map[string]any{"ready": true})
}
