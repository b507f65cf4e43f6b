package lanyard

import "github.com/labstack/echo/v4"

// registerKV adds the KV routes (spec/lanyard.md §4).
func (d *Dialect) registerKV(e *echo.Echo) {}
