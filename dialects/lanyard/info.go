package lanyard

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// registerInfo adds GET / (the cross-dialect service info) and /discord.
// HEAD is never mapped to GET (docs/compat/lanyard.md §2.3), so HEAD / is 404.
func (d *Dialect) registerInfo(e *echo.Echo) {
	root := echo.HandlerFunc(d.getInfo)
	if d.opts.Root != nil {
		root = d.opts.Root(root)
	}
	e.GET("/", root)
	e.GET("/discord", d.getDiscord)
	e.GET("/discord/", d.getDiscord)
}

// serviceInfo is the data of GET / (docs/compat/cross-dialect.md
// §1.1): one object for Lanyard and Lantern clients, whose two counts
// are both the number of monitored users.
type serviceInfo struct {
	Info                     string  `json:"info"`
	DiscordInvite            *string `json:"discord_invite"`
	MonitoredUserCount       int     `json:"monitored_user_count"`
	CurrentlyMonitoringUsers int     `json:"currently_monitoring_users"`
}

// infoText precedes the external URL in GET /'s info string.
const infoText = "Halyard provides Discord presences as an API and WebSocket, compatible with Lanyard, Lantern and harmy. Find out more here: "

// getInfo serves GET /.
func (d *Dialect) getInfo(c echo.Context) error {
	n := d.opts.Hub.Count()
	info := serviceInfo{Info: infoText + d.opts.ExternalURL, MonitoredUserCount: n, CurrentlyMonitoringUsers: n}
	if d.opts.DiscordInvite != "" {
		info.DiscordInvite = &d.opts.DiscordInvite
	}
	return respondJSON(c, http.StatusOK, struct {
		Success bool        `json:"success"`
		Data    serviceInfo `json:"data"`
	}{true, info})
}

// getDiscord serves GET /discord: a 302 to the configured invite whose body
// is the URL with no content type (docs/compat/lanyard.md §2.8), or not_found when
// no invite is configured.
func (d *Dialect) getDiscord(c echo.Context) error {
	invite := d.opts.DiscordInvite
	if invite == "" {
		return errNotFound.write(c)
	}
	h := c.Response().Header()
	h.Set("Location", invite)
	h["Content-Type"] = nil // a nil value stops net/http sniffing one
	c.Response().WriteHeader(http.StatusFound)
	_, err := c.Response().Write([]byte(invite))
	return err
}
