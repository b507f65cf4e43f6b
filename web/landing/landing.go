// Package landing answers GET / with a small HTML page for browsers: what
// this server is, links to /docs, the widget snippet ready to copy and a
// bounded list of monitored users linking to their pages (/u/:id).
//
// GET / is the dialects' JSON service info (docs/compat/cross-dialect.md
// §1.1); this package only takes the requests whose Accept asks for HTML
// before JSON (PrefersHTML), so every API client keeps the JSON unchanged.
package landing

import (
	"bytes"
	_ "embed"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/core"
)

//go:embed landing.html
var pageSource string

var page = template.Must(template.New("landing").Parse(pageSource))

// DefaultMaxUsers bounds the users the page lists.
const DefaultMaxUsers = 48

// fresh is how long a rendered page is reused: the list needs a sort of
// every monitored user, which browsers refreshing / should not repeat.
const fresh = 5 * time.Second

// Options configures the page.
type Options struct {
	Hub *core.Hub
	// ExternalURL is the public base URL, used in the snippet.
	ExternalURL string
	// WidgetPath is the widget's URL path (widget.Path).
	WidgetPath string
	// CDNURL is the Discord CDN for the users' avatars (https://cdn.discordapp.com).
	CDNURL string
	// MaxUsers bounds the list; 0 means DefaultMaxUsers.
	MaxUsers int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Page is the landing page.
type Page struct {
	opts Options

	mu      sync.Mutex
	body    []byte
	builtAt time.Time
}

// New returns the page for opts.
func New(opts Options) *Page {
	if opts.MaxUsers <= 0 {
		opts.MaxUsers = DefaultMaxUsers
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.CDNURL == "" {
		opts.CDNURL = "https://cdn.discordapp.com"
	}
	opts.ExternalURL = strings.TrimRight(opts.ExternalURL, "/")
	opts.CDNURL = strings.TrimRight(opts.CDNURL, "/")
	return &Page{opts: opts}
}

// Wrap makes the handler of GET / (owned by the Lanyard dialect, which
// composes it once when it registers the route) answer HTML to browsers:
// the page when Accept prefers HTML, else next. Both answers vary on
// Accept, for caches. No other route pays for it.
func (p *Page) Wrap(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		c.Response().Header().Add("Vary", "Accept")
		if !PrefersHTML(r.Header.Values("Accept")) {
			return next(c)
		}
		body := p.render()
		h := c.Response().Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		c.Response().WriteHeader(http.StatusOK)
		_, err := c.Response().Write(body)
		return err
	}
}

// listedUser is one row of the user list.
type listedUser struct {
	ID, Name, Status, Avatar string
}

type pageData struct {
	ExternalURL string
	WidgetURL   string // absolute, for the snippet
	WidgetPath  string // this origin's, for the page's own example
	Snippet     string
	Count       int
	Users       []listedUser
	Example     string
}

// render returns the page, rebuilt at most every `fresh`.
func (p *Page) render() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.opts.Now()
	if p.body != nil && now.Sub(p.builtAt) < fresh {
		return p.body
	}
	d := pageData{ExternalURL: p.opts.ExternalURL, WidgetURL: p.opts.ExternalURL + p.opts.WidgetPath,
		WidgetPath: p.opts.WidgetPath, Count: p.opts.Hub.Count()}
	for _, u := range p.opts.Hub.Page("", p.opts.MaxUsers) {
		d.Users = append(d.Users, listedUser{ID: u.ID, Name: displayName(u), Status: string(u.Status()), Avatar: p.avatarURL(u)})
		if d.Example == "" && u.Status() != core.StatusOffline {
			d.Example = u.ID
		}
	}
	if d.Example == "" && len(d.Users) > 0 {
		d.Example = d.Users[0].ID
	}
	example := d.Example
	if example == "" {
		example = "YOUR_DISCORD_USER_ID"
	}
	d.Snippet = `<script src="` + d.WidgetURL + `" async></script>` + "\n" +
		`<halyard-presence user="` + example + `" theme="auto"></halyard-presence>`
	var buf bytes.Buffer
	if err := page.Execute(&buf, d); err != nil {
		buf.Reset() // a template of ours over plain data: cannot fail; keep the answer whole if it does
		buf.WriteString("<!doctype html><title>Halyard</title><p>Halyard: see <a href=\"/docs/\">/docs</a>.")
	}
	p.body, p.builtAt = buf.Bytes(), now
	return p.body
}

// displayName is the name the widget shows: display name, else username
// (guild nicknames are not public, as in the Lanyard presence).
func displayName(u *core.User) string {
	switch {
	case u.Discord.GlobalName() != "":
		return u.Discord.GlobalName()
	case u.Discord.Username() != "":
		return u.Discord.Username()
	}
	return u.ID
}

// avatarURL is the user's avatar on the CDN at list size, or Discord's default avatar.
func (p *Page) avatarURL(u *core.User) string {
	if u.Discord.Avatar() != "" {
		return p.opts.CDNURL + "/avatars/" + u.ID + "/" + u.Discord.Avatar() + ".png?size=64"
	}
	n := 0
	if id, err := strconv.ParseUint(u.ID, 10, 64); err == nil {
		n = int((id >> 22) % 6)
	}
	return p.opts.CDNURL + "/embed/avatars/" + strconv.Itoa(n) + ".png"
}
