package lanyard

import (
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/server"
)

// registerKV adds the KV routes (docs/compat/lanyard.md §2.6, §4). A trailing
// slash is accepted, as on every Lanyard route but quicklinks.
func (d *Dialect) registerKV(e *echo.Echo) {
	for _, suffix := range []string{"", "/"} {
		e.PUT("/v1/users/:id/kv/:key"+suffix, d.putKV)
		e.PATCH("/v1/users/:id/kv"+suffix, d.patchKV)
		e.DELETE("/v1/users/:id/kv/:key"+suffix, d.deleteKV)
	}
}

// putKV serves PUT /v1/users/:id/kv/:key: the raw body is the value.
func (d *Dialect) putKV(c echo.Context) error {
	id, key, ok := kvPath(c)
	if !ok {
		return errNotFound.write(c)
	}
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return bodyError(c, err)
	}
	owner, ok := d.authorize(c, id)
	if !ok {
		return d.denied(c)
	}
	if err := d.opts.Hub.PutKV(c.Request().Context(), owner, key, string(body)); err != nil {
		return writeError(c, err, false)
	}
	return c.NoContent(http.StatusNoContent)
}

// patchKV serves PATCH /v1/users/:id/kv: a JSON object of strings merged
// into the user's KV, all or nothing.
func (d *Dialect) patchKV(c echo.Context) error {
	id, _, _ := kvPath(c)
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return bodyError(c, err)
	}
	owner, ok := d.authorize(c, id)
	if !ok {
		return d.denied(c)
	}
	if !d.opts.Hub.IsMonitored(owner) {
		return errNotMonitored.write(c)
	}
	pairs, perr, ok := parsePatch(body)
	if !ok {
		return perr.write(c)
	}
	if err := d.opts.Hub.PatchKV(c.Request().Context(), owner, pairs); err != nil {
		return writeError(c, err, true)
	}
	return c.NoContent(http.StatusNoContent)
}

// deleteKV serves DELETE /v1/users/:id/kv/:key. The key is not validated
// and an absent key is a successful delete.
func (d *Dialect) deleteKV(c echo.Context) error {
	id, key, ok := kvPath(c)
	if !ok {
		return errNotFound.write(c)
	}
	if _, err := io.Copy(io.Discard, c.Request().Body); err != nil {
		return bodyError(c, err)
	}
	owner, ok := d.authorize(c, id)
	if !ok {
		return d.denied(c)
	}
	if err := d.opts.Hub.DeleteKV(c.Request().Context(), owner, key); err != nil {
		return writeError(c, err, false)
	}
	return c.NoContent(http.StatusNoContent)
}

// bodyError answers a failed body read: 413 past the server's cap, else
// 400 (the client sent a broken body or hung up); nothing is written.
func bodyError(c echo.Context, err error) error {
	if server.IsTooLarge(err) {
		return server.TooLarge(c)
	}
	return echo.NewHTTPError(http.StatusBadRequest, "cannot read the request body")
}

// kvPath returns the percent-decoded user id and key of a KV route from the
// escaped request path (/v1/users/<id>/kv[/<key>][/]); echo's parameters
// are decoded or not depending on the path, so they are not used. ok is
// false when the key is empty or not validly escaped.
func kvPath(c echo.Context) (id, key string, ok bool) {
	parts := strings.Split(strings.TrimSuffix(c.Request().URL.EscapedPath(), "/"), "/")
	// "", "v1", "users", id, "kv"[, key]
	if len(parts) < 5 {
		return "", "", false
	}
	id, err := url.PathUnescape(parts[3])
	if err != nil {
		return "", "", false
	}
	if len(parts) < 6 || parts[5] == "" {
		return id, "", false
	}
	key, err = url.PathUnescape(parts[5])
	return id, key, err == nil
}
