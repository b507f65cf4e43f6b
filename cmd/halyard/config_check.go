package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/halyardhq/halyard/discord"
)

// Normalize fills the settings derived from others and puts values in
// their one form: the listen address from PORT, the external URL from the
// listen address, base URLs without a trailing slash, guild ids trimmed
// and without empty entries. It runs before Validate and is idempotent.
func (c *Config) Normalize() {
	c.HTTP.normalize()
	c.Discord.normalize()
	c.Cluster.normalize()
}

// Validate checks the settings that do not need the network; it changes
// nothing (a value receiver), so it can be run again on an accepted
// configuration. Run Normalize first.
func (c Config) Validate() error {
	if c.Discord.BotToken == "" && !c.Demo.Enabled {
		return errors.New("BOT_TOKEN is not set: set it (see .env.example) or run with --demo to try Halyard without a Discord bot")
	}
	for _, check := range []func() error{c.HTTP.validate, c.Discord.validate, c.Harmy.validate,
		c.Socket.validate, c.Demo.validate, c.Storage.Validate, c.Log.validate, c.History.validate, c.Cluster.validate} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func (h *HTTP) normalize() {
	if h.Addr == "" {
		h.Addr = ":" + strconv.Itoa(h.Port)
	}
	if h.ExternalURL == "" {
		h.ExternalURL = "http://127.0.0.1:" + strconv.Itoa(h.Port)
		if _, port, err := net.SplitHostPort(h.Addr); err == nil && port != "0" {
			h.ExternalURL = "http://127.0.0.1:" + port
		}
	}
	h.ExternalURL = strings.TrimRight(h.ExternalURL, "/")
}

func (h HTTP) validate() error {
	if h.Port < 1 || h.Port > 65535 {
		return fmt.Errorf("PORT must be from 1 to 65535, got %d", h.Port)
	}
	if h.ReadHeaderTimeout <= 0 || h.ReadTimeout <= 0 || h.WriteTimeout <= 0 || h.IdleTimeout <= 0 {
		return errors.New("HTTP_READ_HEADER_TIMEOUT, HTTP_READ_TIMEOUT, HTTP_WRITE_TIMEOUT and HTTP_IDLE_TIMEOUT must be positive (they cut off slow clients)")
	}
	if h.MaxHeaderBytes < 4096 || h.MaxHeaderBytes > 16<<20 {
		return fmt.Errorf("HTTP_MAX_HEADER_BYTES must be from 4096 to 16777216, got %d", h.MaxHeaderBytes)
	}
	return nil
}

func (d *Discord) normalize() {
	d.CDNURL = strings.TrimRight(d.CDNURL, "/")
	var guilds []string
	for _, id := range d.GuildIDs {
		if id = strings.TrimSpace(id); id != "" {
			guilds = append(guilds, id)
		}
	}
	d.GuildIDs = guilds
}

func (d Discord) validate() error {
	if !isHTTPURL(d.CDNURL) {
		return fmt.Errorf("DISCORD_CDN_URL must be an http(s) URL, got %q", d.CDNURL)
	}
	if d.CommandPrefix == "" {
		return errors.New("COMMAND_PREFIX must not be empty")
	}
	for _, id := range d.GuildIDs {
		if _, err := strconv.ParseUint(id, 10, 64); err != nil {
			return fmt.Errorf("GUILD_IDS: %q is not a guild id", id)
		}
	}
	// config.toml can write a bare number, which skips UnmarshalText.
	if d.ShardCount != ShardCount(discord.AutoShards) && (d.ShardCount < 1 || d.ShardCount > maxShardCount) {
		return fmt.Errorf("SHARD_COUNT must be auto or a number of shards from 1 to %d, got %d", maxShardCount, int(d.ShardCount))
	}
	return nil
}

func (h Harmy) validate() error {
	if !isHTTPURL(h.GitHubAPIURL) {
		return fmt.Errorf("GITHUB_API_URL must be an http(s) URL, got %q", h.GitHubAPIURL)
	}
	if h.RatePerSecond < 0 || h.RatePerMinute < 0 {
		return errors.New("HARMY_RATE_PER_SECOND and HARMY_RATE_PER_MINUTE must not be negative (0 turns a limit off)")
	}
	return nil
}

func (s Socket) validate() error {
	if s.MaxMessageBytes < 0 || s.MaxSubscriptions < 0 || s.MessagesPerSecond < 0 || s.MessageBurst < 0 || s.MaxPerIP < 0 {
		return errors.New("SOCKET_MAX_MESSAGE_BYTES, SOCKET_MAX_SUBSCRIPTIONS, SOCKET_MESSAGES_PER_SECOND, SOCKET_MESSAGE_BURST and SOCKET_MAX_PER_IP must not be negative (0 turns a cap off)")
	}
	if s.SSEPing < 100*time.Millisecond || s.SSEPing > time.Hour {
		return fmt.Errorf("SSE_PING_INTERVAL must be from 100ms to 1h, got %v", s.SSEPing)
	}
	return nil
}

func (d Demo) validate() error {
	if d.Users < 1 || d.Users > 1_000_000 {
		return fmt.Errorf("--demo-users must be from 1 to 1000000, got %d", d.Users)
	}
	if d.Churn < 0 {
		return errors.New("--demo-churn must not be negative")
	}
	return nil
}

// Validate checks the storage settings; the import commands, which need
// no bot, check only these.
func (s Storage) Validate() error {
	if s.TokenSecret != "" && len(s.TokenSecret) < 32 {
		return errors.New("TOKEN_SECRET must be at least 32 characters (or unset, to have one generated in the data directory)")
	}
	return nil
}

func (l Log) validate() error {
	switch l.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("LOG_LEVEL must be debug, info, warn or error, got %q", l.LogLevel)
	}
	switch l.LogFormat {
	case "text", "json":
	default:
		return fmt.Errorf("LOG_FORMAT must be text or json, got %q", l.LogFormat)
	}
	return nil
}

// isHTTPURL reports whether s is an absolute http(s) URL with a host.
func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// normalize trims the server list and the node name (Name fills in the
// host name when it is empty, so the configuration prints as written).
func (c *Cluster) normalize() {
	var urls []string
	for _, u := range strings.Split(c.NATSURL, ",") {
		if u = strings.TrimSpace(u); u != "" {
			urls = append(urls, u)
		}
	}
	c.NATSURL = strings.Join(urls, ",")
	c.NodeName = strings.TrimSpace(c.NodeName)
}

// Name is this node's name: NODE_NAME, else the host name.
func (c Cluster) Name() string {
	if c.NodeName != "" {
		return c.NodeName
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return strings.ReplaceAll(h, ".", "-")
	}
	return "halyard"
}

// validate checks the NATS URLs and the node name, which becomes part of
// NATS subjects and lease values: no spaces, dots or wildcards.
func (c Cluster) validate() error {
	for _, u := range strings.Split(c.NATSURL, ",") {
		if u == "" {
			continue
		}
		p, err := url.Parse(u)
		if err != nil || p.Host == "" || (p.Scheme != "nats" && p.Scheme != "tls" && p.Scheme != "ws" && p.Scheme != "wss") {
			return fmt.Errorf("NATS_URL must list nats://, tls://, ws:// or wss:// URLs separated by commas, got %q", u)
		}
	}
	if c.NATSCreds != "" && c.NATSURL == "" {
		return errors.New("NATS_CREDS is set but NATS_URL is not: set NATS_URL to run as a cluster node")
	}
	if len(c.NodeName) > 64 || strings.ContainsAny(c.NodeName, " \t\r\n.*>") {
		return fmt.Errorf("NODE_NAME must be at most 64 characters without spaces, dots, '*' or '>', got %q", c.NodeName)
	}
	return nil
}
