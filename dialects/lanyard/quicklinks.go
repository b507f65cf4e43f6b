package lanyard

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/core"
)

// registerQuicklinks adds the avatar quicklinks /:id.(png|gif|webp|jpg|jpeg)
// (docs/compat/lanyard.md §2.7) as the GET fallback of the whole tree: Lanyard tries a quicklink
// for every GET no other route took. A GET that is no quicklink goes back to
// the server's error handler, which answers in the dialect of its prefix.
func (d *Dialect) registerQuicklinks(e *echo.Echo) {
	cdn := strings.TrimRight(d.opts.CDNURL, "/")
	if cdn == "" {
		cdn = DefaultCDNURL
	}
	q := &quicklinks{hub: d.opts.Hub, cdn: cdn, avatars: newAvatarProxy(avatarProxyOptions{})}
	e.GET("/*", q.get)
}

// DefaultCDNURL is the Discord CDN quicklinks fetch avatars from.
const DefaultCDNURL = "https://cdn.discordapp.com"

// quicklinks serves the avatar quicklinks of one dialect instance.
type quicklinks struct {
	hub     *core.Hub
	cdn     string // base URL without a trailing slash
	avatars *avatarProxy
}

// quicklinkExts are the extensions Lanyard proxies, case-sensitive.
var quicklinkExts = map[string]bool{"png": true, "gif": true, "webp": true, "jpg": true, "jpeg": true}

// getQuicklink serves GET /<id>.<ext>: the user's avatar proxied from the
// Discord CDN with the CDN's status, headers and body.
func (q *quicklinks) get(c echo.Context) error {
	id, ext, ok := quicklinkPath(c.Request().URL.EscapedPath())
	if !ok {
		return echo.ErrNotFound
	}
	u, ok := q.hub.Get(id)
	if !ok {
		return errNotMonitored.write(c)
	}
	av, err := q.avatars.fetch(c.Request().Context(), avatarURL(q.cdn, u, ext))
	if err != nil {
		return errUpstream.write(c)
	}
	h := c.Response().Header()
	for k, vs := range av.header {
		h[k] = vs
	}
	if _, ok := av.header["Content-Type"]; !ok {
		h["Content-Type"] = nil // relay no type rather than a sniffed one
	}
	h.Set("Access-Control-Allow-Origin", "*") // on every response, whatever the CDN says
	c.Response().WriteHeader(av.status)
	_, err = c.Response().Write(av.body)
	return err
}

// quicklinkPath applies Lanyard's path rules, exactly (docs/compat/lanyard.md §2.7): the last
// "."-piece of the whole raw path must be a supported extension, and the
// first path segment must split on "." into exactly [id, ext]; that ext is
// the one used and the rest of the path is ignored (/123.webp/x.png is a
// webp). So /123.png/, /123.PNG and /1.2.png are not quicklinks.
func quicklinkPath(raw string) (id, ext string, ok bool) {
	if !quicklinkExts[raw[strings.LastIndexByte(raw, '.')+1:]] {
		return "", "", false
	}
	first := strings.TrimPrefix(raw, "/")
	if i := strings.IndexByte(first, '/'); i >= 0 {
		first = first[:i]
	}
	id, ext, ok = strings.Cut(first, ".")
	if !ok || strings.Contains(ext, ".") {
		return "", "", false
	}
	if id, err := url.PathUnescape(id); err == nil {
		return id, ext, true
	}
	return "", "", false
}

// avatarURL is the CDN address of the user's avatar as ext (docs/compat/lanyard.md §2.7, §9): the
// avatar hash at size 1024 (a still avatar asked for as gif is fetched as
// jpg), else the default avatar, always png and without size.
func avatarURL(cdn string, u *core.User, ext string) string {
	if hash := u.Discord.Avatar(); hash != "" {
		if ext == "gif" && !strings.HasPrefix(hash, "a_") {
			ext = "jpg"
		}
		return cdn + "/avatars/" + url.PathEscape(u.ID) + "/" + url.PathEscape(hash) + "." + ext + "?size=1024"
	}
	return cdn + "/embed/avatars/" + strconv.FormatUint(defaultAvatar(u), 10) + ".png"
}

// defaultAvatar is the index of the user's default avatar: the legacy
// discriminator mod 5, or for new usernames (discriminator "0", or none at
// all, docs/compat/lanyard.md §9) (id >> 22) mod 6.
func defaultAvatar(u *core.User) uint64 {
	if disc := u.Discord.Discriminator(); disc != "0" {
		if n, err := strconv.ParseUint(disc, 10, 64); err == nil {
			return n % 5
		}
	}
	id, _ := strconv.ParseUint(u.ID, 10, 64)
	return (id >> 22) % 6
}

// relayedHeader drops the upstream headers that describe the upstream
// connection rather than the avatar: Lanyard drops content-length (the
// server sets its own), and hop-by-hop headers are never forwarded.
func relayedHeader(h http.Header) http.Header {
	out := h.Clone()
	for _, k := range []string{"Content-Length", "Connection", "Keep-Alive", "Transfer-Encoding", "Trailer", "Upgrade", "Proxy-Connection"} {
		out.Del(k)
	}
	return out
}
