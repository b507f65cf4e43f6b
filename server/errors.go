package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// Dialect error bodies for requests no route answered, chosen by the path
// prefix that dialect owns (docs/compat/cross-dialect.md §1.2).
const (
	lanyardNotFound = `{"success":false,"error":{"code":"not_found","message":"Route does not exist"}}`
	lanternNotFound = `{"error":"Resource not found."}`
	harmyNotFound   = `{"error":{"code":404,"message":"Not Found"}}`
)

// ErrorBody writes a dialect-shaped error for status on path: the body of
// the dialect that owns the path's prefix.
func ErrorBody(c echo.Context, status int, message string) error {
	path := c.Request().URL.Path
	switch {
	case strings.HasPrefix(path, "/api/") || path == "/api":
		if status == http.StatusNotFound {
			return JSONBlob(c, status, []byte(lanternNotFound))
		}
		return JSON(c, status, map[string]string{"error": message})
	case strings.HasPrefix(path, "/user/") || path == "/user":
		if status == http.StatusNotFound {
			return JSONBlob(c, status, []byte(harmyNotFound))
		}
		return JSON(c, status, map[string]any{"error": map[string]any{"code": status, "message": message}})
	case strings.HasPrefix(path, "/admin/"):
		return JSON(c, status, adminError(status, message))
	}
	if status == http.StatusNotFound {
		return JSONBlob(c, status, []byte(lanyardNotFound))
	}
	code := strings.ToLower(strings.ReplaceAll(http.StatusText(status), " ", "_"))
	return JSON(c, status, map[string]any{"success": false, "error": map[string]string{"code": code, "message": message}})
}

// handleError answers errors no handler turned into a response: unknown
// routes and wrong methods become the owning dialect's 404 (Lanyard answers
// a wrong method with not_found too), an oversized body its 413, anything
// else is logged and answered without detail.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var he *echo.HTTPError
	status := http.StatusInternalServerError
	if errors.As(err, &he) {
		status = he.Code
	}
	switch status {
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		if c.Request().Method == http.MethodOptions {
			_ = c.NoContent(http.StatusNoContent)
			return
		}
		_ = ErrorBody(c, http.StatusNotFound, "Not Found")
	case http.StatusRequestEntityTooLarge:
		_ = TooLarge(c)
	default:
		if status >= 500 {
			s.log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
			_ = ErrorBody(c, status, "internal error")
			return
		}
		msg := http.StatusText(status)
		if he != nil {
			if m, ok := he.Message.(string); ok {
				msg = m
			}
		}
		_ = ErrorBody(c, status, msg)
	}
	if c.Request().Method == http.MethodHead {
		c.Response().Writer.Header().Del("Content-Length")
	}
}

// JSONContentType is the content type of every JSON body Halyard writes, as
// Lanyard sends it.
const JSONContentType = "application/json; charset=utf-8"

// JSONBlob writes pre-encoded JSON with JSONContentType.
func JSONBlob(c echo.Context, status int, body []byte) error {
	return c.Blob(status, JSONContentType, body)
}

// JSON encodes v (without HTML escaping) and writes it with JSONContentType.
func JSON(c echo.Context, status int, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	return c.Blob(status, JSONContentType, bytes.TrimRight(buf.Bytes(), "\n"))
}
