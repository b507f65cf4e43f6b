// Package lanyard renders the hub in the Lanyard dialect
// (docs/compat/lanyard.md): REST presence under /v1/users, its error envelope and
// its bot commands.
package lanyard

import (
	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/core"
)

// Options configures the Lanyard dialect.
type Options struct {
	Hub    *core.Hub
	Tokens *core.Tokens
	// ExternalURL is this server's public base URL, printed in bot replies.
	ExternalURL string
	// Prefix is the bot's command prefix.
	Prefix string
	// Commands is the registry of every dialect's commands, for `.help all`.
	Commands *core.Commands
	// DiscordInvite is served at /discord and in GET /; "" for none.
	DiscordInvite string
	// CDNURL is the Discord CDN base for quicklinks (https://cdn.discordapp.com).
	CDNURL string
	// Socket tunes the WebSocket (timeouts, queue); zero for the defaults.
	Socket SocketOptions
	// SSE tunes the server-sent-events streams; zero for the defaults.
	SSE SSEOptions
	// History answers GET /v1/users/:id/history; nil leaves the route out.
	History HistoryReader
	// Root wraps GET / (the landing page answers browsers there and hands
	// API clients on); composed once, at registration.
	Root echo.MiddlewareFunc
}

// Dialect is the Lanyard rendering of the hub.
type Dialect struct {
	opts     Options
	presence core.RendererID // the presence object (docs/compat/lanyard.md §3)
	envelope core.RendererID // {"data":<presence>,"success":true}
	sockets  *sockets        // the WebSocket side (socket.go)
	streams  *streams        // the server-sent-events side (sse.go)
}

// New registers the dialect's renderers with the hub. Call it before the
// gateway delivers users.
func New(opts Options) *Dialect {
	if opts.Prefix == "" {
		opts.Prefix = "."
	}
	d := &Dialect{opts: opts}
	d.presence = opts.Hub.RegisterRenderer(RenderPresence)
	d.envelope = opts.Hub.RegisterRenderer(func(u *core.User) []byte {
		p := opts.Hub.Render(d.presence, u)
		out := make([]byte, 0, len(p)+27)
		out = append(out, `{"data":`...)
		out = append(out, p...)
		return append(out, `,"success":true}`...)
	})
	d.sockets = newSockets(opts.Hub, d.presence, opts.Socket)
	d.streams = newStreams(opts.Hub, d.presence, d.sockets, opts.SSE)
	return d
}

// Register adds the Lanyard routes.
func (d *Dialect) Register(e *echo.Echo) {
	d.registerInfo(e)
	d.registerUsers(e)
	d.registerHistory(e)
	d.registerKV(e)
	d.registerQuicklinks(e)
	d.registerSocket(e)
	d.registerStreams(e)
}

// Presence returns the user's rendered presence object (cached per snapshot).
func (d *Dialect) Presence(u *core.User) []byte { return d.opts.Hub.Render(d.presence, u) }
