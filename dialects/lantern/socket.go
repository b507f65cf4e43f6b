package lantern

import "github.com/labstack/echo/v4"

// registerSocket adds /lantern/socket (§6).
func (d *Dialect) registerSocket(e *echo.Echo) {}
