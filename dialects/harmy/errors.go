package harmy

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/server"
)

// apiError is one harmy error: status and human message, sent as
// {"error":{"code":<status>,"message":<message>}} (docs/compat/harmy.md §3.1).
type apiError struct {
	status  int
	message string
}

// The fixed errors of the harmy routes.
var (
	errUnauthorized = apiError{http.StatusUnauthorized, "Unauthorized: this token does not belong to this user"}
	errNotMonitored = apiError{http.StatusNotFound, "User is not being monitored"}
	errRateLimited  = apiError{http.StatusTooManyRequests, "Too Many Requests: rate limit exceeded"}
)

// errorFor maps a core error to its harmy error, the one table from core
// codes to this dialect's statuses. ok is false for internal errors, which
// the server's error handler logs and answers without detail.
func errorFor(err error) (e apiError, ok bool) {
	var kv *core.KVError
	if errors.As(err, &kv) {
		return apiError{http.StatusBadRequest, kv.Error()}, true
	}
	switch core.ErrorCode(err) {
	case core.EINVALID:
		return apiError{http.StatusBadRequest, core.ErrorMessage(err)}, true
	case core.EUNAUTHORIZED:
		return errUnauthorized, true
	case core.ENOTFOUND, core.ENOTMONITORED:
		return errNotMonitored, true
	case core.ETOOLARGE:
		return apiError{http.StatusRequestEntityTooLarge, core.ErrorMessage(err)}, true
	case core.EUNAVAILABLE:
		return apiError{http.StatusServiceUnavailable, core.ErrorMessage(err)}, true
	}
	return apiError{}, false
}

// writeError answers err in harmy's body, or hands an internal error to
// echo.
func writeError(c echo.Context, err error) error {
	if e, ok := errorFor(err); ok {
		return e.write(c)
	}
	return err
}

// body is e in harmy's error body.
func (e apiError) body() []byte {
	return fmt.Appendf(nil, `{"error":{"code":%d,"message":%s}}`, e.status, marshal(e.message))
}

// write sends e in harmy's error body.
func (e apiError) write(c echo.Context) error {
	return server.JSONBlob(c, e.status, e.body())
}

// ErrorFormat declares harmy's paths (/user/...) and its error body for
// the server's own answers (docs/compat/harmy.md §3.1).
func (d *Dialect) ErrorFormat() server.ErrorFormat {
	return server.ErrorFormat{Prefixes: []string{"/user/"},
		NotFound: apiError{http.StatusNotFound, http.StatusText(http.StatusNotFound)}.body(),
		TooLarge: apiError{http.StatusRequestEntityTooLarge, server.TooLargeMessage}.body(),
		Error: func(status int, message string) []byte {
			return apiError{status, message}.body()
		}}
}
