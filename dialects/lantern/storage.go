package lantern

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/server"
)

// registerStorage adds the KV storage routes (docs/compat/lantern.md §5).
func (d *Dialect) registerStorage(e *echo.Echo) {
	const all, one = "/api/v1/users/:user_id/storage", "/api/v1/users/:user_id/storage/:key"
	e.Match(getOrHead, all, d.getStorage)
	e.DELETE(all, d.deleteStorage)
	e.Match(getOrHead, one, d.getKey)
	e.PUT(one, d.putKey)
	e.PATCH(one, d.patchKey)
	e.DELETE(one, d.deleteKey)
}

// storageRequest is a storage request that passed every common check.
type storageRequest struct {
	id, key, value string
}

// Which parts of a request a storage route reads.
const (
	withKey   = 1 << iota // the :key path segment
	withValue             // the JSON body's value
	withAuth              // the Authorization header (writes)
)

// checkStorage runs docs/compat/lantern.md §5.3's common checks in order: user id, key and value
// validation (400 "errors"), then monitored, has storage (404), then for
// writes the token (401). ok is false when the response was written.
func (d *Dialect) checkStorage(c echo.Context, parts int) (r storageRequest, ok bool, err error) {
	r.id = pathSegment(c, 4)
	if msg := validateUserID(r.id); msg != "" {
		return r, false, invalid(msg).write(c)
	}
	if parts&withKey != 0 {
		r.key = pathSegment(c, 6)
		if msg := validateKey(r.key); msg != "" {
			return r, false, invalid(msg).write(c)
		}
	}
	if parts&withValue != 0 {
		value, msg, rerr := readValue(c)
		if rerr != nil {
			return r, false, bodyError(c, rerr)
		}
		if msg != "" {
			return r, false, invalid(msg).write(c)
		}
		r.value = value
	}
	if !d.opts.Hub.IsMonitored(r.id) {
		return r, false, notMonitored(r.id).write(c)
	}
	if parts&withAuth != 0 && d.opts.Tokens != nil && !d.opts.Tokens.Available() {
		// The stored tokens are not loaded (the database has not been
		// reached since start): no key can be told right or wrong.
		return r, false, d.writeError(c, r.id, core.Errorf(core.EUNAVAILABLE, "the database is unavailable, try again later"))
	}
	if !d.hasStorage(r.id) {
		return r, false, noStorage(r.id).write(c)
	}
	if parts&withAuth != 0 && !d.authorized(c, r.id) {
		return r, false, errUnauthorized.write(c)
	}
	return r, true, nil
}

// hasStorage reports whether a Lantern user "has storage": a token or at
// least one pair (docs/compat/cross-dialect.md §3.3).
func (d *Dialect) hasStorage(id string) bool {
	return d.opts.Hub.HasKV(id) || (d.opts.Tokens != nil && d.opts.Tokens.HasToken(id))
}

// authorized checks the first Authorization header against the user's
// token, bare as Lantern wants it or as "Bearer <token>" (docs/compat/lantern.md §9 #16).
func (d *Dialect) authorized(c echo.Context, id string) bool {
	values := c.Request().Header.Values("Authorization")
	if len(values) == 0 || values[0] == "" || d.opts.Tokens == nil {
		return false
	}
	v := values[0]
	if d.opts.Tokens.IsToken(id, v) {
		return true
	}
	t, bearer := strings.CutPrefix(v, "Bearer ")
	return bearer && t != "" && d.opts.Tokens.IsToken(id, t)
}

// success is every storage write's 200 body.
const success = `{"success":true}`

// getStorage serves GET …/storage: every pair, public.
func (d *Dialect) getStorage(c echo.Context) error {
	r, ok, err := d.checkStorage(c, 0)
	if !ok {
		return err
	}
	return c.Blob(http.StatusOK, server.JSONContentType, appendKV(nil, d.opts.Hub.KV(r.id)))
}

// deleteStorage serves DELETE …/storage: really removes every pair
// (docs/compat/lantern.md §9 #10), each removal publishing STORAGE_UPDATE.
func (d *Dialect) deleteStorage(c echo.Context) error {
	r, ok, err := d.checkStorage(c, withAuth)
	if !ok {
		return err
	}
	if err := d.clearKV(c.Request().Context(), r.id); err != nil {
		return d.writeError(c, r.id, err)
	}
	return c.Blob(http.StatusOK, server.JSONContentType, []byte(success))
}

// getKey serves GET …/storage/:key: the value, empty ones included
// (docs/compat/lantern.md §9 #11).
func (d *Dialect) getKey(c echo.Context) error {
	r, ok, err := d.checkStorage(c, withKey)
	if !ok {
		return err
	}
	v, found := d.opts.Hub.KV(r.id).Get(r.key)
	if !found {
		return noKey(r.key).write(c)
	}
	return writeJSON(c, http.StatusOK, "value", v)
}

// putKey serves PUT …/storage/:key: create or overwrite.
func (d *Dialect) putKey(c echo.Context) error {
	r, ok, err := d.checkStorage(c, withKey|withValue|withAuth)
	if !ok {
		return err
	}
	if err := d.opts.Hub.PutKV(c.Request().Context(), r.id, r.key, r.value); err != nil {
		return d.writeError(c, r.id, err)
	}
	return c.Blob(http.StatusOK, server.JSONContentType, []byte(success))
}

// patchKey serves PATCH …/storage/:key: overwrite an existing key only.
func (d *Dialect) patchKey(c echo.Context) error {
	r, ok, err := d.checkStorage(c, withKey|withValue|withAuth)
	if !ok {
		return err
	}
	if !d.opts.Hub.KV(r.id).Has(r.key) {
		return noKey(r.key).write(c)
	}
	if err := d.opts.Hub.PutKV(c.Request().Context(), r.id, r.key, r.value); err != nil {
		return d.writeError(c, r.id, err)
	}
	return c.Blob(http.StatusOK, server.JSONContentType, []byte(success))
}

// deleteKey serves DELETE …/storage/:key: an absent key is a 404.
func (d *Dialect) deleteKey(c echo.Context) error {
	r, ok, err := d.checkStorage(c, withKey|withAuth)
	if !ok {
		return err
	}
	if !d.opts.Hub.KV(r.id).Has(r.key) {
		return noKey(r.key).write(c)
	}
	if err := d.opts.Hub.DeleteKV(c.Request().Context(), r.id, r.key); err != nil {
		return d.writeError(c, r.id, err)
	}
	return c.Blob(http.StatusOK, server.JSONContentType, []byte(success))
}
