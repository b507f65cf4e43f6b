package lantern

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/server"
)

// getOrHead are the methods of every read route: HEAD works wherever GET
// does (docs/compat/lantern.md §1.3).
var getOrHead = []string{http.MethodGet, http.MethodHead}

// registerUsers adds GET /api/v1/users and /api/v1/users/:user_id (docs/compat/lantern.md §2–§3).
func (d *Dialect) registerUsers(e *echo.Echo) {
	e.Match(getOrHead, "/api/v1/users", d.getUsers)
	e.Match(getOrHead, "/api/v1/users/:user_id", d.getUser)
}

// getUsers serves the bulk route (docs/compat/lantern.md §2.3 as decided in §9): 1–50 ids given
// as repeated user_ids (or user_ids[]), answered in request order; ids that
// are not monitored are left out. A repeated query whose users have not
// changed is answered from the bulk cache.
func (d *Dialect) getUsers(c echo.Context) error {
	raw := c.Request().URL.RawQuery
	now := d.opts.Now()
	if body := d.bulk.get(raw, d.opts.Hub, now); body != nil {
		return server.JSONBlob(c, http.StatusOK, body)
	}
	q := parseQuery(raw)
	ids := slices.Concat(q.get("user_ids"), q.get("user_ids[]"))
	if msg := validateBulkIDs(ids); msg != "" {
		return invalid(msg).write(c)
	}
	if len(ids) > maxBulkUsers {
		return errTooManyUsers.write(c)
	}
	// Each user's bytes come pre-rendered from the hub; only the Spotify
	// clock is patched, while copying into one buffer of the exact size.
	users := make([]*core.User, len(ids)) // nil where not monitored
	parts := make([][]byte, len(ids))
	size, found := 2, 0
	for i, id := range ids {
		u, ok := d.opts.Hub.Get(id)
		if !ok {
			continue
		}
		users[i], parts[i] = u, d.opts.Hub.Render(d.user, u)
		size += len(parts[i]) + 1
		found++
	}
	if found == 0 {
		return errNoneMonitored.write(c)
	}
	buf := server.AnswerBuffer(size)
	out := append(*buf, '[')
	for i, r := range parts {
		if users[i] == nil {
			continue
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = appendClocked(out, r, d.stamps(users[i]), now)
	}
	out = append(out, ']')
	err := server.JSONBlob(c, http.StatusOK, out) // written before it returns
	d.bulk.put(raw, ids, users, out, now, d.stamps)
	*buf = out
	server.ReleaseAnswerBuffer(buf)
	return err
}

// getUser serves one user (docs/compat/lantern.md §2.4): the JSON user object, or the SVG card
// when svg is exactly one "1".
func (d *Dialect) getUser(c echo.Context) error {
	id := pathSegment(c, 4)
	if msg := validateUserID(id); msg != "" {
		return invalid(msg).write(c)
	}
	q := parseQuery(c.Request().URL.RawQuery)
	if msg := validateCardQuery(q); msg != "" {
		return invalid(msg).write(c)
	}
	u, ok := d.opts.Hub.Get(id)
	if !ok {
		return notMonitored(id).write(c)
	}
	if svg := q.get("svg"); len(svg) == 1 && svg[0] == "1" {
		return d.serveCard(c, u)
	}
	return d.writeUser(c, u)
}

// writeUser answers u's user object (UserJSON): the cached rendering
// itself, or, when the Spotify clock moved, a copy patched in a pooled
// buffer rather than a new one per request.
func (d *Dialect) writeUser(c echo.Context, u *core.User) error {
	r := d.opts.Hub.Render(d.user, u)
	i, j, cur, end, ok := clockEdits(r, d.stamps(u), d.opts.Now())
	if !ok {
		return server.JSONBlob(c, http.StatusOK, r)
	}
	buf := server.AnswerBuffer(len(r))
	out := patchClock(*buf, r, i, j, cur, end)
	err := server.JSONBlob(c, http.StatusOK, out) // written before it returns
	*buf = out
	server.ReleaseAnswerBuffer(buf)
	return err
}

// pathSegment returns the i-th segment of the request path (1 is "api"),
// percent-decoded as Express decodes parameters; "" when absent. echo's
// parameters are decoded or not depending on the path, so they are not
// used.
func pathSegment(c echo.Context, i int) string {
	p := c.Request().URL.EscapedPath()
	for ; i > 0; i-- { // skip segments 0 to i-1, each ended by a '/'
		j := strings.IndexByte(p, '/')
		if j < 0 {
			return ""
		}
		p = p[j+1:]
	}
	seg, _, _ := strings.Cut(p, "/")
	s, err := url.PathUnescape(seg) // seg itself when it has no '%'
	if err != nil {
		return seg
	}
	return s
}
