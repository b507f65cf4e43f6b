package lantern

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/core"
)

// serveCard answers GET /api/v1/users/:user_id?svg=1 with the SVG profile
// card (§4).
func (d *Dialect) serveCard(c echo.Context, u *core.User) error {
	return c.NoContent(http.StatusNotImplemented)
}
