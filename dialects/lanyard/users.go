package lanyard

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/server"
)

func (d *Dialect) registerUsers(e *echo.Echo) {
	e.GET("/v1/users/@me", d.getMe)
	e.GET("/v1/users/@me/", d.getMe)
	e.GET("/v1/users/:id", d.getUser)
	e.GET("/v1/users/:id/", d.getUser)
}

// getUser serves GET /v1/users/:id from the pre-rendered cache. Any id that
// is not a monitored user, well-formed or not, is user_not_monitored (docs/compat/lanyard.md §2.5).
func (d *Dialect) getUser(c echo.Context) error {
	return d.serveUser(c, c.Param("id"))
}

// getMe serves GET /v1/users/@me for the owner of the bare API key in
// Authorization.
func (d *Dialect) getMe(c echo.Context) error {
	owner, ok := d.authorize(c, "@me")
	if !ok {
		return d.denied(c)
	}
	return d.serveUser(c, owner)
}

func (d *Dialect) serveUser(c echo.Context, id string) error {
	u, ok := d.opts.Hub.Get(id)
	if !ok {
		return errNotMonitored.write(c)
	}
	return server.JSONBlob(c, http.StatusOK, d.opts.Hub.Render(d.envelope, u))
}

// denied answers a request whose key was not accepted: 401 for a wrong
// key, 503 while the stored keys cannot be read (the database has not
// been reached since start), when no key can be told right or wrong.
func (d *Dialect) denied(c echo.Context) error {
	if d.opts.Tokens != nil && !d.opts.Tokens.Available() {
		return writeError(c, core.Errorf(core.EUNAVAILABLE, "the database is unavailable, try again later"), false)
	}
	return errNoPermission.write(c)
}

// authorize checks the bare API key in the first Authorization header (no
// Bearer prefix, no trimming) against the path's user id or "@me", and
// returns the key's owner.
func (d *Dialect) authorize(c echo.Context, pathID string) (string, bool) {
	values := c.Request().Header.Values("Authorization")
	if len(values) == 0 || values[0] == "" {
		return "", false
	}
	owner, err := d.opts.Tokens.Verify(values[0])
	if err != nil {
		return "", false
	}
	if pathID != "@me" && pathID != owner {
		return "", false
	}
	return owner, true
}
