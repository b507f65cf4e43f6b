package lanyard

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// apiError is one Lanyard error: HTTP status, code and wire message.
type apiError struct {
	status  int
	code    string
	message string
}

// The Lanyard errors this dialect answers with (spec/lanyard.md §2.1), wire
// literals. Unknown routes get not_found from the server's error handler.
var (
	errNotMonitored = apiError{http.StatusNotFound, "user_not_monitored", "User is not being monitored by Lanyard"}
	errNoPermission = apiError{http.StatusUnauthorized, "no_permission", "You do not have permission to access this resource"}
)

// write sends the error in Lanyard's envelope.
func (e apiError) write(c echo.Context) error {
	return c.JSON(e.status, map[string]any{
		"success": false,
		"error":   map[string]string{"code": e.code, "message": e.message},
	})
}
