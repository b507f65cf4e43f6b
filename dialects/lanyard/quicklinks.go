package lanyard

import "github.com/labstack/echo/v4"

// registerQuicklinks adds the avatar quicklinks /:id.(png|gif|webp|jpg|jpeg) (§2.7).
func (d *Dialect) registerQuicklinks(e *echo.Echo) {}
