package server

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/core"
)

// Bounds of the lingering read of an over-limit body: how much of its rest
// is read and thrown away, and for how long, before the 413 is written
// (docs/compat/lanyard.md §9, as nginx's lingering close). A client still
// uploading when the server answers and closes would otherwise meet a
// reset, and lose the 413 with it; past these bounds the connection is
// closed anyway.
const lingerBytes = 16 << 20

// lingerTime is the time bound (a variable for tests).
var lingerTime = 10 * time.Second

// bodyKey is where capBody leaves the request's cappedBody in the echo
// context, for TooLarge to drain.
const bodyKey = "server.cappedBody"

// capBody caps the request body at core.MaxRequestBodySize (a route in
// largeBodyRoutes at its own cap): a declared larger Content-Length is
// reported at once (the caller answers TooLarge), and a body that turns
// out larger fails to read (handlers map that with IsTooLarge). Either way
// the 413 is written once the rest of the body was read (TooLarge).
func (s *Server) capBody(c echo.Context) (tooLarge bool) {
	req := c.Request()
	if req.Body == nil || req.Body == http.NoBody {
		return false
	}
	limit := int64(core.MaxRequestBodySize)
	if n, ok := largeBodyRoutes[c.Path()]; ok {
		limit = n
	}
	body := &cappedBody{body: req.Body, left: limit, limit: limit, srv: s}
	c.Set(bodyKey, body)
	if req.ContentLength > limit {
		return true
	}
	req.Body = body
	return false
}

// cappedBody is a request body that fails to read past the cap with
// *http.MaxBytesError, as http.MaxBytesReader does, but, unlike it, can
// still be read through to its end, so that the 413 reaches the client.
type cappedBody struct {
	srv     *Server // whose dialects' error formats the 413 takes
	body    io.ReadCloser
	left    int64 // bytes the handler may still read
	limit   int64 // the cap
	tooLong bool  // the handler read past the cap
}

// Read reads up to the cap, then fails.
func (b *cappedBody) Read(p []byte) (int, error) {
	if b.tooLong {
		return 0, &http.MaxBytesError{Limit: b.limit}
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1] // one byte past the cap is enough to know
	}
	n, err := b.body.Read(p)
	if int64(n) <= b.left {
		b.left -= int64(n)
		return n, err
	}
	n, b.left, b.tooLong = int(b.left), 0, true
	return n, &http.MaxBytesError{Limit: b.limit}
}

// Close closes the underlying body.
func (b *cappedBody) Close() error { return b.body.Close() }

// drain reads the rest of the body and throws it away, within the linger
// bounds; it reports whether the body was read to its end.
func (b *cappedBody) drain(c echo.Context) bool {
	if c.Request().ContentLength > lingerBytes {
		return false // announced too big to wait for
	}
	rc := http.NewResponseController(c.Response())
	if err := rc.SetReadDeadline(time.Now().Add(lingerTime)); err != nil {
		return false
	}
	_, err := io.CopyN(io.Discard, b.body, lingerBytes)
	return errors.Is(err, io.EOF)
}

// IsTooLarge reports whether err came from reading a body over the cap.
func IsTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return err != nil && (strings.Contains(err.Error(), "request body too large") || errors.As(err, &mbe))
}

// TooLargeMessage is the human wording of the body cap, for the dialects'
// 413 bodies that carry one.
const TooLargeMessage = "request body must be 1048576 bytes or less"

// TooLarge answers 413 in the format of the dialect owning the request's
// path (ErrorFormat.TooLarge), once the rest of the body was read and
// thrown away (within lingerBytes and lingerTime). When it could not be
// read to its end the connection is closed after the answer.
func TooLarge(c echo.Context) error {
	body, _ := c.Get(bodyKey).(*cappedBody)
	f := &plainFormat
	if body != nil {
		f = body.srv.formatFor(c.Request().URL.Path)
	}
	return tooLarge(c, body, f)
}

// tooLarge writes f's 413 once body (nil when the request had none) was
// drained, closing the connection when it could not be.
func tooLarge(c echo.Context, body *cappedBody, f *ErrorFormat) error {
	if body == nil || !body.drain(c) {
		c.Response().Header().Set("Connection", "close")
	}
	return JSONBlob(c, http.StatusRequestEntityTooLarge, f.TooLarge)
}
