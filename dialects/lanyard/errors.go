package lanyard

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/core"
)

// apiError is one Lanyard error: HTTP status, code and wire message.
type apiError struct {
	status  int
	code    string
	message string
}

// The Lanyard errors (spec/lanyard.md §2.1), wire literals.
var (
	errNotFound     = apiError{http.StatusNotFound, "not_found", "Route does not exist"}
	errNotMonitored = apiError{http.StatusNotFound, "user_not_monitored", "User is not being monitored by Lanyard"}
	errNoPermission = apiError{http.StatusUnauthorized, "no_permission", "You do not have permission to access this resource"}
	errUnavailable  = apiError{http.StatusServiceUnavailable, "service_unavailable", "The database is unavailable, try again later"}
	errInternal     = apiError{http.StatusInternalServerError, "internal_error", "Internal error"}
)

// errorsByCode maps core error codes to Lanyard errors, in one place.
var errorsByCode = map[string]apiError{
	core.ENOTFOUND:     errNotFound,
	core.ENOTMONITORED: errNotMonitored,
	core.EUNAUTHORIZED: errNoPermission,
	core.EUNAVAILABLE:  errUnavailable,
}

// write sends the error in Lanyard's envelope.
func (e apiError) write(c echo.Context) error {
	return c.JSON(e.status, map[string]any{
		"success": false,
		"error":   map[string]string{"code": e.code, "message": e.message},
	})
}

// fail maps a domain error to its Lanyard error.
func fail(c echo.Context, err error) error {
	if e, ok := errorsByCode[core.ErrorCode(err)]; ok {
		return e.write(c)
	}
	c.Logger().Error(err)
	return errInternal.write(c)
}
