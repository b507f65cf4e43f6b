// Package lantern renders the hub in the Lantern dialect (docs/compat/lantern.md):
// bulk and single REST users, the SVG profile card, KV storage routes, the
// WebSocket protocol and the /storage slash commands.
package lantern

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/server"
)

// Options configures the Lantern dialect.
type Options struct {
	Hub    *core.Hub
	Tokens *core.Tokens
	// ExternalURL is this server's public base URL.
	ExternalURL string
	// CDNURL is the Discord CDN base (https://cdn.discordapp.com), for images.
	CDNURL string
	// Logger receives internal errors; slog.Default() when nil.
	Logger *slog.Logger
	// Now returns the current time (tests may fix it); time.Now when nil.
	Now func() time.Time
	// CardImages bounds the SVG card's image fetches; zero fields take
	// the defaults.
	CardImages CardImageOptions
	// Socket tunes the WebSocket; zero fields take Lantern's values.
	Socket SocketOptions
}

// Dialect is the Lantern rendering of the hub.
type Dialect struct {
	opts Options
	log  *slog.Logger
	user core.RendererID // the user object (docs/compat/lantern.md §3), cached per snapshot
	// spotify: the Spotify timestamps the clock needs (Dialect.stamps).
	spotify core.RendererID
	card    *cardRenderer // the SVG card (docs/compat/lantern.md §4) and its image cache
	socks   *sockets      // live WebSocket connections (docs/compat/lantern.md §6)
	bulk    *bulkCache    // the bulk route's last answers by query
	// frames are the socket event frames carrying a user object, built
	// once per snapshot and shared by every connection.
	frames map[int]core.RendererID
}

// New registers the dialect's renderers with the hub. Call it before the
// gateway delivers users.
func New(opts Options) *Dialect {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	d := &Dialect{opts: opts, log: opts.Logger, bulk: newBulkCache()}
	if opts.CardImages.Now == nil {
		opts.CardImages.Now = opts.Now
	}
	d.card = newCardRenderer(imageHosts{CDN: opts.CDNURL}, opts.CardImages, d.log)
	d.socks = newSockets(opts.Socket)
	d.frames = map[int]core.RendererID{}
	for _, op := range []int{opPresenceUpdate, opStorageUpdate, opUserJoined} {
		d.frames[op] = opts.Hub.RegisterRenderer(func(u *core.User) []byte { return frame(op, d.UserJSON(u)) })
	}
	d.user = opts.Hub.RegisterRenderer(func(u *core.User) []byte { return RenderUser(u, d.opts.Now()) })
	d.spotify = opts.Hub.RegisterRenderer(renderStamps)
	return d
}

// Register adds the Lantern routes.
func (d *Dialect) Register(e *echo.Echo) {
	d.registerUsers(e) // paths are normalized before routing: RewritePath
	d.registerStorage(e)
	d.registerSocket(e)
	// Every other /api path, and a method a path does not have, is
	// Lantern's 404 with its JSON content type (docs/compat/lantern.md §1.3, §1.4).
	e.Any("/api", notFound)
	e.Any("/api/*", notFound)
}

// notFound answers Lantern's 404 for a path no route matched.
func notFound(c echo.Context) error {
	return c.Blob(http.StatusNotFound, server.JSONContentType, []byte(resourceNotFoundBody))
}

// resourceNotFoundBody is Lantern's body for an unknown route (docs/compat/lantern.md §1.4).
const resourceNotFoundBody = `{"error":"Resource not found."}`

// UserJSON returns u's Lantern user object (docs/compat/lantern.md §3), the same bytes REST and
// every socket event carry. The rendering is cached per snapshot; only the
// Spotify clock values, which depend on the current time, are refreshed per
// call. The result may be shared: never modify it.
func (d *Dialect) UserJSON(u *core.User) []byte {
	return refreshClock(d.opts.Hub.Render(d.user, u), d.stamps(u), d.opts.Now())
}

// The path segments Express matches case-insensitively (docs/compat/lantern.md §1.3); parameters
// (user ids, storage keys) keep their case.
// literalSegments[i] is segment i's literal, "" where the segment is a
// parameter.
var literalSegments = [...]string{1: "api", 2: "v1", 3: "users", 5: "storage"}

// literalSegment returns path segment i's literal, ok false when segment i
// is a parameter or past Lantern's paths.
func literalSegment(i int) (want string, ok bool) {
	if i >= len(literalSegments) {
		return "", false
	}
	return literalSegments[i], literalSegments[i] != ""
}

// RewritePath makes Lantern's paths case-insensitive and drops a single
// trailing slash, as Express 5 matches them (docs/compat/lantern.md §1.3),
// before the server routes the request (server.PathRewriter). Only paths
// under /api/ are touched: the rest belongs to other dialects. A path
// already in its normal form, every request of a well-behaved client, is
// recognized without allocating.
func (d *Dialect) RewritePath(req *http.Request) {
	// Other dialects' paths end here, before EscapedPath scans the path:
	// the escaped form starts with /api/ only if the path does.
	if !hasAPIPrefix(req.URL.Path) {
		return
	}
	p := req.URL.EscapedPath()
	if !hasAPIPrefix(p) || isNormalPath(p) {
		return
	}
	normalizePath(req, p)
}

// hasAPIPrefix reports whether p starts with /api/ in any ASCII case: on
// an escaped path (ASCII only) what strings.EqualFold(p[:5], "/api/")
// reports, at a fraction of its cost (EqualFold was most of
// RewritePath's). An unescaped path whose escaped form has the prefix has
// the same five bytes.
func hasAPIPrefix(p string) bool {
	return len(p) >= 5 && p[0] == '/' && p[1]|0x20 == 'a' && p[2]|0x20 == 'p' && p[3]|0x20 == 'i' && p[4] == '/'
}

// normalizePath rewrites req's path p (its escaped form, under /api/):
// each literal segment in Lantern's case, up to the first that is not one
// case-insensitively, and a single trailing slash dropped.
func normalizePath(req *http.Request, p string) {
	segs := strings.Split(p, "/")
	for i := 1; i < len(segs); i++ {
		want, ok := literalSegment(i)
		if !ok {
			continue
		}
		if !strings.EqualFold(segs[i], want) {
			break
		}
		segs[i] = want
	}
	if n := len(segs); n > 2 && segs[n-1] == "" && segs[n-2] != "" {
		segs = segs[:n-1]
	}
	np := strings.Join(segs, "/")
	if np != p {
		if u, err := url.Parse(np); err == nil {
			req.URL.Path, req.URL.RawPath = u.Path, u.RawPath
		}
	}
}

// isNormalPath reports whether RewritePath would leave p (under /api/) as
// it is: no single trailing slash to drop, and each literal segment, up
// to the first that is not one case-insensitively, already in its case.
func isNormalPath(p string) bool {
	if n := len(p); p[n-1] == '/' && p[n-2] != '/' {
		return false
	}
	rest := p[1:] // after the leading '/': segment 1 onwards
	for i := 1; ; i++ {
		seg, tail, more := strings.Cut(rest, "/")
		// A literal in Lantern's case, the usual path, is compared
		// without folding; one in another case is not normal, and one
		// that is not the literal in any case ends the rewrite there
		// (RewritePath stops here too).
		if want, ok := literalSegment(i); ok && seg != want {
			return !strings.EqualFold(seg, want)
		}
		if !more {
			return true
		}
		rest = tail
	}
}
