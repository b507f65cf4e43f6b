package lantern

import "github.com/labstack/echo/v4"

// registerStorage adds the KV storage routes (§5).
func (d *Dialect) registerStorage(e *echo.Echo) {}
