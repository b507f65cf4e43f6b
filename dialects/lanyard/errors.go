package lanyard

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/server"
)

// apiError is one Lanyard error: HTTP status, code and wire message.
type apiError struct {
	status  int
	code    string
	message string
}

// The Lanyard errors this dialect answers with (docs/compat/lanyard.md §2.1 and
// §9), wire literals. KV validation failures are HTTP 404, as in Lanyard.
var (
	errNotFound        = apiError{http.StatusNotFound, "not_found", "Route does not exist"}
	errNotMonitored    = apiError{http.StatusNotFound, "user_not_monitored", "User is not being monitored by Lanyard"}
	errNoPermission    = apiError{http.StatusUnauthorized, "no_permission", "You do not have permission to access this resource"}
	errInvalidKVValue  = apiError{http.StatusNotFound, "invalid_kv_value", "body must be an object"}
	errUpstream        = apiError{http.StatusBadGateway, "upstream_error", "Failed to fetch avatar from Discord CDN"}
	errPayloadTooLarge = apiError{http.StatusRequestEntityTooLarge, "payload_too_large", server.TooLargeMessage}
	errUnavailable     = apiError{http.StatusServiceUnavailable, "service_unavailable", "the database is unavailable, try again later"}
)

// kvValidationFailed is the kv_validation_failed error with a rule's message.
func kvValidationFailed(message string) apiError {
	return apiError{http.StatusNotFound, "kv_validation_failed", message}
}

// patchKeyLimit is the pair-limit message of PATCH; PUT uses the KVError
// wording ("request would exceed key limit (512), please delete keys first").
const patchKeyLimit = "request would exceed the key limit (512), please delete some keys first"

// errorFor maps a core error to its Lanyard error: the one table from core
// codes and KV rules to this dialect's wire format. patch selects PATCH's
// wording of the pair limit. ok is false for internal errors, which the
// caller hands to the server's error handler (logged, answered without
// detail).
func errorFor(err error, patch bool) (e apiError, ok bool) {
	var kv *core.KVError
	if errors.As(err, &kv) {
		if kv.Reason == core.KVTooManyPairs && patch {
			return kvValidationFailed(patchKeyLimit), true
		}
		return kvValidationFailed(kv.Error()), true
	}
	switch core.ErrorCode(err) {
	case core.ENOTMONITORED:
		return errNotMonitored, true
	case core.EUNAUTHORIZED:
		return errNoPermission, true
	case core.ENOTFOUND:
		return errNotFound, true
	case core.ETOOLARGE:
		return errPayloadTooLarge, true
	case core.EUNAVAILABLE:
		return errUnavailable, true
	case core.EINVALID:
		return kvValidationFailed(core.ErrorMessage(err)), true
	}
	return apiError{}, false
}

// writeError answers err in Lanyard's envelope, or returns it to echo when
// it is internal.
func writeError(c echo.Context, err error, patch bool) error {
	if e, ok := errorFor(err, patch); ok {
		return e.write(c)
	}
	return err
}

// envelope is Lanyard's error body, keys in Lanyard's order (docs/compat/lanyard.md §2.1).
type envelope struct {
	Success bool       `json:"success"`
	Error   errorField `json:"error"`
}

type errorField struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// body is the error in Lanyard's envelope.
func (e apiError) body() []byte {
	b, _ := json.Marshal(envelope{Error: errorField{e.code, e.message}}) // strings only: cannot fail
	return b
}

// write sends the error in Lanyard's envelope.
func (e apiError) write(c echo.Context) error {
	return server.JSONBlob(c, e.status, e.body())
}

// ErrorFormat declares Lanyard as the owner of every path no other dialect
// claims (its API under /v1/, its socket and the avatar quicklinks at the
// root) and its error envelope for the server's own answers.
func (d *Dialect) ErrorFormat() server.ErrorFormat {
	return server.ErrorFormat{Prefixes: []string{"/"},
		NotFound: errNotFound.body(),
		TooLarge: errPayloadTooLarge.body(),
		Error: func(status int, message string) []byte {
			return apiError{status, server.StatusCode(status), message}.body()
		}}
}

// respondJSON sends v as JSON with the content type of every Lanyard JSON
// body (docs/compat/lanyard.md §2.1).
func respondJSON(c echo.Context, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return server.JSONBlob(c, status, b)
}
