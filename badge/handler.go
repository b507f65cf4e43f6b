package badge

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/server"
)

// CacheControl is sent with every badge: GitHub's image proxy (camo) and
// browsers keep it for 30 s, then revalidate with If-None-Match.
const CacheControl = "public, max-age=30"

// ContentType is the badges' media type.
const ContentType = "image/svg+xml"

// Handler serves the badges of the hub's users.
type Handler struct {
	hub      *core.Hub
	defaults [len(kinds)]core.RendererID // each kind's badge without parameters, cached per snapshot
}

// New registers the default badges' renderers with the hub (each is drawn
// once per snapshot and dropped with it). Call it before users arrive.
func New(hub *core.Hub) *Handler {
	h := &Handler{hub: hub}
	for i, k := range kinds {
		h.defaults[i] = hub.RegisterRenderer(func(u *core.User) []byte {
			return Render(Options{Style: StyleFlat}.apply(Content(k, u)))
		})
	}
	return h
}

// Register adds GET /badge/:id/:kind.svg, and a badge-shaped 404 for
// every other path under /badge/.
func (h *Handler) Register(e *echo.Echo) {
	e.GET("/badge/:id/:file", h.serve)
	e.Any("/badge/*", h.notFound)
}

// Error badges: the label is always "badge", the colour red for requests
// the client can fix, grey for users Halyard does not watch.
const (
	errorLabel = "badge"
	errorColor = "#e05d44"
)

func (h *Handler) serve(c echo.Context) error {
	id, file := c.Param("id"), c.Param("file")
	if !server.IsSnowflake(id) {
		return writeError(c, http.StatusBadRequest, "user id must be a Discord snowflake")
	}
	kind, ok := kindOf(file)
	if !ok {
		return writeError(c, http.StatusBadRequest, "badge must be status, activity, listening or custom .svg")
	}
	opts, err := ParseOptions(c.Request().URL.Query())
	if err != nil {
		return writeError(c, http.StatusBadRequest, err.Error())
	}
	u, monitored := h.hub.Get(id)
	if !monitored {
		b := opts.apply(Badge{Label: string(kind), Message: "not monitored", Color: colorNone})
		return write(c, http.StatusNotFound, Render(b))
	}
	var body []byte
	if opts.isDefault() {
		body = h.hub.Render(h.defaults[kindIndex(kind)], u)
	} else {
		body = Render(opts.apply(Content(kind, u)))
	}
	return write(c, http.StatusOK, body)
}

// notFound answers paths under /badge/ that are no badge.
func (h *Handler) notFound(c echo.Context) error {
	return writeError(c, http.StatusNotFound, "no such badge: use /badge/<user id>/status.svg")
}

// writeError answers a badge that says what was wrong.
func writeError(c echo.Context, status int, message string) error {
	return write(c, status, Render(Badge{Label: errorLabel, Message: message, Color: errorColor, Style: StyleFlat}))
}

// write sends a badge with its caching headers, or 304 when the client
// has it already (If-None-Match).
func write(c echo.Context, status int, body []byte) error {
	h := c.Response().Header()
	tag := etag(body)
	h.Set("ETag", tag)
	h.Set("Cache-Control", CacheControl)
	if status >= 400 && status != http.StatusNotFound {
		h.Set("Cache-Control", "no-store") // a typo: fixed by the next request
	}
	// The SVG is drawn from user-controlled text (escaped): should a browser
	// open it directly, nothing in it may run or load.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	h.Set("X-Content-Type-Options", "nosniff")
	if status == http.StatusOK && matches(c.Request().Header.Values("If-None-Match"), tag) {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(status, ContentType, body)
}

// etag is a strong validator of the body: 128 bits of its SHA-256.
func etag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
}

// matches applies If-None-Match (RFC 9110 §13.1.2, weak comparison): any
// listed tag equal to tag, or "*".
func matches(headers []string, tag string) bool {
	for _, h := range headers {
		for _, t := range strings.Split(h, ",") {
			t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
			if t == "*" || t == tag {
				return true
			}
		}
	}
	return false
}

// kindOf parses "status.svg".
func kindOf(file string) (Kind, bool) {
	name, ok := strings.CutSuffix(file, ".svg")
	if !ok {
		return "", false
	}
	for _, k := range kinds {
		if string(k) == name {
			return k, true
		}
	}
	return "", false
}

func kindIndex(k Kind) int {
	for i, kk := range kinds {
		if kk == k {
			return i
		}
	}
	return 0
}
