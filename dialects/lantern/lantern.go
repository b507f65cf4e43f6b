// Package lantern renders the hub in the Lantern dialect (spec/lantern.md):
// bulk and single REST users, the SVG profile card, KV storage routes, the
// WebSocket protocol and the /storage slash commands.
package lantern

import (
	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/core"
)

// Options configures the Lantern dialect.
type Options struct {
	Hub    *core.Hub
	Tokens *core.Tokens
	// ExternalURL is this server's public base URL.
	ExternalURL string
	// CDNURL is the Discord CDN base (https://cdn.discordapp.com), for images.
	CDNURL string
}

// Dialect is the Lantern rendering of the hub.
type Dialect struct {
	opts Options
}

// New registers the dialect's renderers with the hub. Call it before the
// gateway delivers users.
func New(opts Options) *Dialect {
	return &Dialect{opts: opts}
}

// Register adds the Lantern routes.
func (d *Dialect) Register(e *echo.Echo) {
	d.registerUsers(e)
	d.registerStorage(e)
	d.registerSocket(e)
}
