// Package harmy renders the hub in the harmy dialect (docs/compat/harmy.md): one
// REST route, GET /user/:id, with the user's presence, their KV for their
// own token and their linked GitHub profile; harmy's error body and rate
// limits; and harmy's bot commands (.add, .token, .github).
package harmy

import (
	"time"

	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/github"
)

// DefaultGitHubFirstWait is how long GET /user/:id waits for GitHub when it
// knows nothing yet about the user's linked login (the first request after
// a restart). Every later request is answered from the cache at once.
const DefaultGitHubFirstWait = 250 * time.Millisecond

// harmy's own per-client limits (docs/compat/harmy.md §3.1), the defaults of
// Options.RatePerSecond and RatePerMinute in Halyard's configuration.
const (
	DefaultRatePerSecond = 3
	DefaultRatePerMinute = 120
)

// Options configures the harmy dialect.
type Options struct {
	Hub    *core.Hub
	Tokens *core.Tokens
	// GitHub caches linked profiles; nil serves "github": null always.
	GitHub *github.Cache
	// GitHubFirstWait bounds the wait described at DefaultGitHubFirstWait;
	// DefaultGitHubFirstWait when zero, no wait at all when negative.
	GitHubFirstWait time.Duration
	// RatePerSecond and RatePerMinute are the per-client limits on the
	// harmy routes, as fixed windows of a second and a minute (harmy's are
	// 3 and 120); zero turns a limit off.
	RatePerSecond int
	RatePerMinute int
	// TrustedProxyHeader names the header a trusted reverse proxy puts the
	// client's address in (X-Forwarded-For, Forwarded, X-Real-IP); its
	// right-most entry is the client (internal/clientaddr). Empty: the
	// socket's remote address is the client.
	TrustedProxyHeader string
	// ExternalURL is this server's public base URL, printed in bot replies.
	ExternalURL string
	// Prefix is the bot's command prefix.
	Prefix string
}

// Dialect is the harmy rendering of the hub.
type Dialect struct {
	opts     Options
	presence core.RendererID // the "presence" object
	kv       core.RendererID // the user's KV as a JSON object
	limits   *rateLimiter
}

// New registers the dialect's renderers with the hub. Call it before the
// gateway delivers users.
func New(opts Options) *Dialect {
	if opts.Prefix == "" {
		opts.Prefix = "."
	}
	if opts.GitHubFirstWait == 0 {
		opts.GitHubFirstWait = DefaultGitHubFirstWait
	}
	d := &Dialect{opts: opts}
	d.presence = opts.Hub.RegisterRenderer(RenderPresence)
	d.kv = opts.Hub.RegisterRenderer(func(u *core.User) []byte { return marshal(u.KV.Map()) }) // sorted keys, as harmy's Go encoder writes them
	d.limits = newRateLimiter(opts.RatePerSecond, opts.RatePerMinute)
	return d
}

// Register adds the harmy routes, rate limited per client.
func (d *Dialect) Register(e *echo.Echo) {
	e.GET("/user/:id", d.getUser)
	e.GET("/user/:id/", d.getUser)
}
