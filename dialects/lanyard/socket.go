package lanyard

import "github.com/labstack/echo/v4"

// registerSocket adds the WebSocket endpoints (§5).
func (d *Dialect) registerSocket(e *echo.Echo) {}
