package lantern

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/server"
)

// apiError is one Lantern error response (docs/compat/lantern.md §1.4): a status and a body of
// one key, "errors" for request validation and "error" for the rest.
type apiError struct {
	status  int
	key     string
	message string
}

// invalid is a request validation failure: 400 {"errors":"<message>"}.
func invalid(message string) apiError {
	return apiError{http.StatusBadRequest, "errors", message}
}

// The handler-level errors (docs/compat/lantern.md §2–§5), wire literals.
var (
	errUnauthorized  = apiError{http.StatusUnauthorized, "error", "Unauthorized."}
	errTooManyUsers  = apiError{http.StatusBadRequest, "error", "You can only request up to 50 users at once."}
	errNoneMonitored = apiError{http.StatusNotFound, "error", "Users you requested are not monitored by Lantern."}
	errInvalidPair   = apiError{http.StatusBadRequest, "error", "Invalid key-value pair."}
	errTooManyPairs  = apiError{http.StatusBadRequest, "error", "You can only store up to 512 key-value pairs."}
)

// notMonitored is the 404 for a user id that is not monitored; the id is
// echoed as the client sent it.
func notMonitored(id string) apiError {
	return apiError{http.StatusNotFound, "error", "User " + id + " is not being monitored by Lantern."}
}

// noStorage is the 404 for a monitored user with neither a token nor a pair.
func noStorage(id string) apiError {
	return apiError{http.StatusNotFound, "error", "User " + id + " does not have any storage."}
}

// noKey is the 404 for an absent storage key.
func noKey(key string) apiError {
	return apiError{http.StatusNotFound, "error", "Key " + key + " does not exist in the storage."}
}

// internalBody is Lantern's body for any unexpected failure (docs/compat/lantern.md §1.4).
const internalBody = `{"success":false,"error":"Internal Server Error"}`

// write sends the error.
func (e apiError) write(c echo.Context) error {
	return writeJSON(c, e.status, e.key, e.message)
}

// writeError answers err from the hub or the token service: the one table
// from core codes and KV rules to Lantern's bodies. id is the path's user id.
func (d *Dialect) writeError(c echo.Context, id string, err error) error {
	var kv *core.KVError
	if errors.As(err, &kv) {
		if kv.Reason == core.KVTooManyPairs {
			return errTooManyPairs.write(c)
		}
		return errInvalidPair.write(c)
	}
	switch core.ErrorCode(err) {
	case core.ENOTMONITORED:
		return notMonitored(id).write(c)
	case core.EUNAUTHORIZED:
		return errUnauthorized.write(c)
	case core.EINVALID, core.ETOOLARGE:
		// A KV-level failure (docs/compat/lantern.md §5.3 step 6), including a map the database
		// refuses as too large.
		return errInvalidPair.write(c)
	case core.EUNAVAILABLE:
		return apiError{http.StatusServiceUnavailable, "error", core.ErrorMessage(err)}.write(c)
	}
	d.log.Error("lantern: request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	return server.JSONBlob(c, http.StatusInternalServerError, []byte(internalBody))
}

// bodyError answers a failed body read: 413 past the server's cap (the
// cross-dialect body), else 400 as an absent value.
func bodyError(c echo.Context, err error) error {
	if server.IsTooLarge(err) {
		return server.TooLarge(c)
	}
	return invalid(msgValueRequired).write(c)
}

// tooLargeBody is Lantern's 413 for a body over the cap (docs/compat/lantern.md §1.8, Halyard
// decision).
const tooLargeBody = `{"error":"Request body too large."}`

// ErrorFormat declares Lantern's paths (everything under /api/) and its
// bodies for the server's own answers: "Resource not found.", the 413
// wording, {"error":<message>} for the rest (docs/compat/lantern.md §1.4).
func (d *Dialect) ErrorFormat() server.ErrorFormat {
	return server.ErrorFormat{Prefixes: []string{"/api/"},
		NotFound: []byte(resourceNotFoundBody),
		TooLarge: []byte(tooLargeBody),
		Error: func(_ int, message string) []byte {
			return jsonObject("error", message)
		}}
}

// writeJSON sends an object of string values, keys in the given order,
// with the content type of every Lantern JSON body (docs/compat/lantern.md §1.2).
func writeJSON(c echo.Context, status int, kv ...string) error {
	return server.JSONBlob(c, status, jsonObject(kv...))
}

// jsonObject encodes an object of string values, keys in the given order.
func jsonObject(kv ...string) []byte {
	var b []byte
	b = append(b, '{')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, kv[i])
		b = append(b, ':')
		b = appendString(b, kv[i+1])
	}
	return append(b, '}')
}
