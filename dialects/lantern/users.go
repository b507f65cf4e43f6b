package lantern

import "github.com/labstack/echo/v4"

// registerUsers adds GET /api/v1/users and /api/v1/users/:user_id (spec/lantern.md §2–§3).
func (d *Dialect) registerUsers(e *echo.Echo) {}
