// Package userpage serves GET /u/:id: a human page for one monitored
// user with the live widget, their public KV and, for users who turned
// presence history on, a timeline of the last 7 days drawn by the page's
// own script from the history API. Everything it needs is embedded: no
// CDN, no build step.
package userpage

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/core"
)

//go:embed assets/page.html.tmpl assets/page.css assets/timeline.js
var assets embed.FS

var (
	pageCSS    = mustRead("assets/page.css")
	timelineJS = mustRead("assets/timeline.js")
	page       = template.Must(template.New("page.html.tmpl").ParseFS(assets, "assets/page.html.tmpl"))
)

func mustRead(name string) string {
	b, err := assets.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// HistorySwitch tells whether a user turned presence history on (package
// history's Recorder).
type HistorySwitch interface {
	Enabled(userID string) bool
}

// Options configures the page.
type Options struct {
	Hub *core.Hub
	// History is nil when history is not kept: every page says private.
	History HistorySwitch
	// ExternalURL is this server's public base URL (og:url).
	ExternalURL string
	// CDNURL is the Discord CDN base for avatars.
	CDNURL string
}

// Page is the /u/:id handler.
type Page struct{ opts Options }

// New returns the page.
func New(opts Options) *Page {
	opts.ExternalURL = strings.TrimSuffix(opts.ExternalURL, "/")
	opts.CDNURL = strings.TrimSuffix(opts.CDNURL, "/")
	return &Page{opts: opts}
}

// Register adds GET /u/:id.
func (p *Page) Register(e *echo.Echo) {
	e.GET("/u/:id", p.serve)
}

// view is what the template renders; html/template escapes every field
// for where it lands.
type view struct {
	Found       bool
	ID          string
	Name        string
	Username    string
	Status      string
	Avatar      string
	URL         string
	Description string
	KV          []pair
	History     bool
	CSS         template.CSS
	JS          template.JS
}

type pair struct{ Key, Value string }

// serve renders the page of a monitored user, and a 404 page for any
// other id, well-formed or not.
func (p *Page) serve(c echo.Context) error {
	id := c.Param("id")
	v := view{ID: id, CSS: template.CSS(pageCSS), JS: template.JS(timelineJS)}
	status := http.StatusNotFound
	if u, ok := p.opts.Hub.Get(id); ok {
		status = http.StatusOK
		v.Found = true
		v.Name, v.Username = displayName(u), u.Discord.Username()
		v.Status = string(u.Status())
		v.Avatar = avatarURL(p.opts.CDNURL, u)
		v.URL = p.opts.ExternalURL + "/u/" + url.PathEscape(id)
		v.Description = describe(u)
		for k, val := range u.KV.All() {
			v.KV = append(v.KV, pair{k, val})
		}
		v.History = p.opts.History != nil && p.opts.History.Enabled(id)
	}
	var buf bytes.Buffer
	if err := page.Execute(&buf, v); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	return c.HTMLBlob(status, buf.Bytes())
}

// displayName is the name Discord shows: the global name, else the
// username, else the id.
func displayName(u *core.User) string {
	for _, n := range []string{u.Discord.GlobalName(), u.Discord.Username()} {
		if n != "" {
			return n
		}
	}
	return u.ID
}

// describe is the unfurl's description: the status and the main activity.
func describe(u *core.User) string {
	desc := displayName(u) + " is " + statusWords(u.Status())
	for _, a := range u.Activities() {
		switch {
		case a.Type == 4 && a.State != "":
			desc += " · “" + a.State + "”"
		case a.Type != 4 && a.Name != "":
			desc += " · " + activityVerb(a.Type) + " " + a.Name
		default:
			continue
		}
		break
	}
	return desc + " — live Discord presence on Halyard."
}

func statusWords(s core.Status) string {
	switch s {
	case core.StatusOnline:
		return "online"
	case core.StatusIdle:
		return "idle"
	case core.StatusDND:
		return "on do not disturb"
	}
	return "offline"
}

func activityVerb(t int) string {
	switch t {
	case 1:
		return "streaming"
	case 2:
		return "listening to"
	case 3:
		return "watching"
	case 5:
		return "competing in"
	}
	return "playing"
}

// avatarURL is the CDN address of the user's avatar (animated ones as
// gif), else of their default avatar.
func avatarURL(cdn string, u *core.User) string {
	if hash := u.Discord.Avatar(); hash != "" {
		ext := "png"
		if strings.HasPrefix(hash, "a_") {
			ext = "gif"
		}
		return cdn + "/avatars/" + url.PathEscape(u.ID) + "/" + url.PathEscape(hash) + "." + ext + "?size=256"
	}
	var index uint64
	if n, err := strconv.ParseUint(u.Discord.Discriminator(), 10, 64); err == nil && u.Discord.Discriminator() != "0" {
		index = n % 5
	} else {
		id, _ := strconv.ParseUint(u.ID, 10, 64)
		index = (id >> 22) % 6
	}
	return cdn + "/embed/avatars/" + strconv.FormatUint(index, 10) + ".png"
}
