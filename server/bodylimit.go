package server

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/core"
)

// bodyLimit caps every request body at core.MaxRequestBodySize: a declared
// larger Content-Length is refused at once, and a body that turns out larger
// fails to read (handlers map that with IsTooLarge).
func bodyLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.ContentLength > core.MaxRequestBodySize {
			return TooLarge(c)
		}
		if req.Body != nil {
			req.Body = http.MaxBytesReader(c.Response(), req.Body, core.MaxRequestBodySize)
		}
		return next(c)
	}
}

// IsTooLarge reports whether err came from reading a body over the cap.
func IsTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return err != nil && (strings.Contains(err.Error(), "request body too large") || asMaxBytes(err, &mbe))
}

// TooLarge answers 413 in the dialect format of the request's path.
func TooLarge(c echo.Context) error {
	path := c.Request().URL.Path
	msg := "request body must be 1048576 bytes or less"
	c.Response().Header().Set("Connection", "close") // the rest of the body is not read
	if strings.HasPrefix(strings.ToLower(path), "/api/") {
		// Lantern's wording (docs/compat/lantern.md §1.8, Halyard decision).
		return JSONBlob(c, http.StatusRequestEntityTooLarge, []byte(`{"error":"Request body too large."}`))
	}
	if strings.HasPrefix(path, "/user/") || strings.HasPrefix(path, "/admin/") {
		return ErrorBody(c, http.StatusRequestEntityTooLarge, msg)
	}
	return JSON(c, http.StatusRequestEntityTooLarge, map[string]any{
		"success": false,
		"error":   map[string]string{"code": "payload_too_large", "message": msg},
	})
}
