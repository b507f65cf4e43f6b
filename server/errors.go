package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// ErrorFormat is how one dialect words the answers the server writes for
// it rather than its handlers: unknown routes and wrong methods, bodies
// over the cap, and errors no handler turned into a response. A dialect
// declares it (Dialect.ErrorFormat); the server picks the one whose prefix
// is the longest that the request's path starts with, so that it never
// needs to know any dialect's formats. Fields left unset take the admin
// API's bodies.
type ErrorFormat struct {
	// Prefixes are the path prefixes the dialect owns ("/api/"); a path
	// equal to a prefix without its trailing slash ("/api") is owned too.
	// "/" owns every path no other prefix does.
	Prefixes []string
	// NotFound is the body of the 404 for an unknown route or a wrong
	// method.
	NotFound []byte
	// TooLarge is the body of the 413 for a body over the cap.
	TooLarge []byte
	// Error renders the body of any other error status with a human
	// message.
	Error func(status int, message string) []byte
}

// withDefaults fills the bodies f leaves unset with the plain (admin) ones.
func (f ErrorFormat) withDefaults() ErrorFormat {
	if f.NotFound == nil {
		f.NotFound = plainFormat.NotFound
	}
	if f.TooLarge == nil {
		f.TooLarge = plainFormat.TooLarge
	}
	if f.Error == nil {
		f.Error = plainFormat.Error
	}
	return f
}

// owns reports how long the prefix of f is that owns path; -1 when none.
func (f *ErrorFormat) owns(path string) int {
	best := -1
	for _, p := range f.Prefixes {
		if len(p) > best && (strings.HasPrefix(path, p) || path == strings.TrimSuffix(p, "/")) {
			best = len(p)
		}
	}
	return best
}

// plainFormat answers for paths no dialect owns (a server without
// dialects): the admin API's body.
var plainFormat = adminFormat()

// formatFor returns the error format of the dialect owning path.
func (s *Server) formatFor(path string) *ErrorFormat {
	best, bestLen := &plainFormat, -1
	for i := range s.formats {
		if n := s.formats[i].owns(path); n > bestLen {
			best, bestLen = &s.formats[i], n
		}
	}
	return best
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
	f := s.formatFor(c.Request().URL.Path)
	switch status {
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		if c.Request().Method == http.MethodOptions {
			_ = c.NoContent(http.StatusNoContent)
			return
		}
		_ = JSONBlob(c, http.StatusNotFound, f.NotFound)
	case http.StatusRequestEntityTooLarge:
		body, _ := c.Get(bodyKey).(*cappedBody)
		_ = tooLarge(c, body, f)
	default:
		msg := "internal error"
		if status >= 500 {
			s.log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
		} else {
			msg = http.StatusText(status)
			if he != nil {
				if m, ok := he.Message.(string); ok {
					msg = m
				}
			}
		}
		_ = JSONBlob(c, status, f.Error(status, msg))
	}
	if c.Request().Method == http.MethodHead {
		c.Response().Writer.Header().Del("Content-Length")
	}
}

// JSONContentType is the content type of every JSON body Halyard writes,
// in every dialect (Lanyard's, Lantern's and harmy's Express all send it).
const JSONContentType = "application/json; charset=utf-8"

// JSONBlob writes pre-encoded JSON with JSONContentType.
func JSONBlob(c echo.Context, status int, body []byte) error {
	r := c.Response()
	r.Header()["Content-Type"] = jsonContentType
	r.WriteHeader(status)
	_, err := r.Write(body)
	return err
}

// jsonContentType is the Content-Type header value JSONBlob sets, shared
// by every response (net/http copies values when it writes the header;
// echo's Blob would allocate a fresh slice per response).
var jsonContentType = []string{JSONContentType}

// JSON encodes v (without HTML escaping) and writes it with JSONContentType.
func JSON(c echo.Context, status int, v any) error {
	b, err := Marshal(v)
	if err != nil {
		return err
	}
	return c.Blob(status, JSONContentType, b)
}

// Marshal encodes v as JSON without HTML escaping and without the
// encoder's trailing newline.
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// StatusCode is the snake-case name of an HTTP status ("payload_too_large"),
// the error code Lanyard and the admin API use.
func StatusCode(status int) string {
	return strings.ToLower(strings.ReplaceAll(http.StatusText(status), " ", "_"))
}
