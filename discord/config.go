package discord

import (
	"errors"
	"log/slog"
	"net/url"
	"strings"

	"github.com/halyardhq/halyard/core"
)

// Defaults for the Config fields left empty.
const (
	DefaultGatewayURL = "wss://gateway.discord.gg/"
	DefaultRESTBase   = "https://discord.com"
	DefaultPrefix     = "."
)

// Config configures a Bot.
type Config struct {
	// Token is the bot token, without the "Bot " prefix.
	Token string
	// GatewayURL is the WebSocket URL dialled (DefaultGatewayURL when
	// empty); the v and encoding parameters are added to it.
	GatewayURL string
	// RESTBase is the scheme and host every REST request is sent to
	// (DefaultRESTBase when empty), so a simulator can stand in for Discord.
	RESTBase string
	// GuildIDs narrows the watched guilds; empty watches every guild the
	// bot is in.
	GuildIDs []string
	// Prefix starts a prefix command (DefaultPrefix when empty).
	Prefix string
	// Hub receives the members and presences; required. A *core.Hub, or
	// a cluster's tee that also publishes them to the other nodes.
	Hub Hub
	// Commands are the commands the bot answers; nil answers none.
	Commands *core.Commands
	// Logger receives the bot's logs; nil discards them.
	Logger *slog.Logger
	// FastIdentify drops the 5 s identify rate limit, for tests and the demo
	// against the simulator. Never set it against Discord.
	FastIdentify bool
	// CommandWorkers bounds how many commands run at once (8 when zero).
	CommandWorkers int
	// ShardCount is how many shards the guilds are split into (Discord's
	// num_shards; a guild is on shard (guild_id >> 22) % ShardCount).
	// 0 or 1: one session, as before sharding. AutoShards: the count
	// Discord recommends, asked at New. Above one, New also asks Discord
	// for max_concurrency and the session start limit.
	ShardCount int
	// Shards are the shard ids Open connects: nil connects every shard,
	// an empty non-nil slice none (a cluster node that opens shards with
	// OpenShard once it holds their lease).
	Shards []int
}

// Hub is what the bot writes the gateway's members and presences into,
// and asks whether a user is monitored. *core.Hub implements it.
type Hub interface {
	UpsertMember(guildID string, m core.Member)
	UpdatePresence(userID string, p *core.Presence)
	RemoveMember(guildID, userID string)
	PruneGuild(guildID string, keep func(userID string) bool)
	RemoveGuild(guildID string)
	MarkSynced()
	IsMonitored(userID string) bool
}

var _ Hub = (*core.Hub)(nil)

// withDefaults validates c and fills in the defaults.
func (c Config) withDefaults() (Config, error) {
	c.Token = strings.TrimPrefix(strings.TrimSpace(c.Token), "Bot ")
	if c.Token == "" {
		return c, errors.New("discord: a bot token is required")
	}
	if c.Hub == nil {
		return c, errors.New("discord: a hub is required")
	}
	if c.GatewayURL == "" {
		c.GatewayURL = DefaultGatewayURL
	}
	if u, err := url.Parse(c.GatewayURL); err != nil || (u.Scheme != "ws" && u.Scheme != "wss") {
		return c, errors.New("discord: the gateway URL must be a ws:// or wss:// URL")
	}
	if c.RESTBase == "" {
		c.RESTBase = DefaultRESTBase
	}
	if u, err := url.Parse(c.RESTBase); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, errors.New("discord: the REST base must be an http:// or https:// URL")
	}
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.Commands == nil {
		c.Commands = &core.Commands{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.CommandWorkers <= 0 {
		c.CommandWorkers = 8
	}
	if c.ShardCount < AutoShards {
		return c, errors.New("discord: the shard count must be at least 1 (or AutoShards)")
	}
	return c, nil
}
