package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/halyardhq/halyard/dialects/harmy"
	"github.com/halyardhq/halyard/dialects/lanyard"
	"github.com/halyardhq/halyard/discord"
	"github.com/halyardhq/halyard/github"
	"github.com/halyardhq/halyard/history"
	"github.com/halyardhq/halyard/server"
	"github.com/halyardhq/halyard/socket"
	"github.com/halyardhq/halyard/storage"
)

// The sections of Config. Each is embedded, so config.toml keys and
// environment variables stay flat (port, PORT) as they always were, while
// the code hands a component its section. A default a package already
// defines is taken from it, so it is written down once.

// HTTP is the HTTP server: where it listens, how it is reached, how
// long slow clients may take, who the client of a request is, and the
// admin API.
type HTTP struct {
	Port int    `toml:"port" env:"PORT"`
	Addr string `toml:"addr" env:"ADDR"`
	// ExternalURL is the public base URL printed in bot replies;
	// normalised from Addr or Port when empty.
	ExternalURL string `toml:"external_url" env:"EXTERNAL_URL"`
	// AdminToken enables the admin API when set.
	AdminToken string `toml:"admin_token" env:"ADMIN_TOKEN"`
	// TrustedProxyHeader names the header a trusted reverse proxy puts the
	// client's address in (internal/clientaddr); it names clients for the
	// socket cap per address, harmy's rate limits and the request log.
	TrustedProxyHeader string `toml:"trusted_proxy_header" env:"TRUSTED_PROXY_HEADER"`

	// Slow HTTP clients (slowloris): how long a client may take to send its
	// headers and its whole request, to read the answer, and to sit idle
	// between keep-alive requests; and the most header bytes it may send.
	ReadHeaderTimeout time.Duration `toml:"http_read_header_timeout" env:"HTTP_READ_HEADER_TIMEOUT"`
	ReadTimeout       time.Duration `toml:"http_read_timeout" env:"HTTP_READ_TIMEOUT"`
	WriteTimeout      time.Duration `toml:"http_write_timeout" env:"HTTP_WRITE_TIMEOUT"`
	IdleTimeout       time.Duration `toml:"http_idle_timeout" env:"HTTP_IDLE_TIMEOUT"`
	MaxHeaderBytes    int           `toml:"http_max_header_bytes" env:"HTTP_MAX_HEADER_BYTES"`
}

// defaultHTTP: port 4001 (Lanyard's) and the server's own timeouts.
func defaultHTTP() HTTP {
	t := server.DefaultTimeouts
	return HTTP{Port: 4001, ReadHeaderTimeout: t.ReadHeader, ReadTimeout: t.Read,
		WriteTimeout: t.Write, IdleTimeout: t.Idle, MaxHeaderBytes: t.MaxHeaderBytes}
}

// Timeouts are the server's slow-client bounds.
func (h HTTP) Timeouts() server.Timeouts {
	return server.Timeouts{ReadHeader: h.ReadHeaderTimeout, Read: h.ReadTimeout,
		Write: h.WriteTimeout, Idle: h.IdleTimeout, MaxHeaderBytes: h.MaxHeaderBytes}
}

// Socket are the WebSocket abuse caps (0 turns one off): the largest
// client message (Lanyard; Lantern keeps its 1024-byte maxPayload, or this
// if lower), users one socket may follow by id, client messages per second
// per socket (at most MessageBurst in each window), and sockets open at once per
// client address (HTTP.TrustedProxyHeader's when set).
type Socket struct {
	MaxMessageBytes   int64   `toml:"socket_max_message_bytes" env:"SOCKET_MAX_MESSAGE_BYTES"`
	MaxSubscriptions  int     `toml:"socket_max_subscriptions" env:"SOCKET_MAX_SUBSCRIPTIONS"`
	MessagesPerSecond float64 `toml:"socket_messages_per_second" env:"SOCKET_MESSAGES_PER_SECOND"`
	MessageBurst      int     `toml:"socket_message_burst" env:"SOCKET_MESSAGE_BURST"`
	MaxPerIP          int     `toml:"socket_max_per_ip" env:"SOCKET_MAX_PER_IP"`
	// SSEPing is the interval of the ": ping" comment on idle
	// server-sent-events streams (they share the sockets' cap per address).
	SSEPing time.Duration `toml:"sse_ping_interval" env:"SSE_PING_INTERVAL"`
}

// defaultSocket is the socket package's defaults. The cap per address is
// off: many users share one behind NAT.
func defaultSocket() Socket {
	return Socket{MaxMessageBytes: socket.DefaultMaxMessageBytes, MaxSubscriptions: socket.DefaultMaxSubscriptions,
		MessagesPerSecond: socket.DefaultMessagesPerSecond, MessageBurst: socket.DefaultMessageBurst, SSEPing: 25 * time.Second}
}

// Discord is the bot: its token, the guilds it watches, its command
// prefix and invite, and where Discord is (the simulator in tests and
// --demo).
type Discord struct {
	BotToken      string   `toml:"bot_token" env:"BOT_TOKEN"`
	GuildIDs      []string `toml:"guild_ids" env:"GUILD_IDS" envSeparator:","`
	CommandPrefix string   `toml:"command_prefix" env:"COMMAND_PREFIX"`
	DiscordInvite string   `toml:"discord_invite" env:"DISCORD_INVITE"`
	GatewayURL    string   `toml:"discord_gateway_url" env:"DISCORD_GATEWAY_URL"`
	APIURL        string   `toml:"discord_api_url" env:"DISCORD_API_URL"`
	// CDNURL is where quicklinks and images fetch avatars from.
	CDNURL string `toml:"discord_cdn_url" env:"DISCORD_CDN_URL"`
	// ShardCount is how many shards the bot's guilds are split into
	// (Discord's num_shards), or auto: Discord's recommendation.
	ShardCount ShardCount `toml:"shard_count" env:"SHARD_COUNT"`
}

// defaultDiscord is Discord itself, as the discord and lanyard packages
// define it, with one shard.
func defaultDiscord() Discord {
	return Discord{CommandPrefix: discord.DefaultPrefix, GatewayURL: discord.DefaultGatewayURL,
		APIURL: discord.DefaultRESTBase, CDNURL: lanyard.DefaultCDNURL, ShardCount: 1}
}

// ShardCount is SHARD_COUNT: a number of shards from 1, or "auto"
// (discord.AutoShards: GET /gateway/bot's shards, asked at start).
type ShardCount int

// maxShardCount bounds SHARD_COUNT; Discord's largest bots run a few
// thousand shards.
const maxShardCount = 65536

// UnmarshalText reads "auto" or a number (config.toml strings, the
// environment, --shard-count).
func (s *ShardCount) UnmarshalText(b []byte) error {
	t := strings.TrimSpace(string(b))
	if strings.EqualFold(t, "auto") {
		*s = ShardCount(discord.AutoShards)
		return nil
	}
	n, err := strconv.Atoi(t)
	if err != nil || n < 1 || n > maxShardCount {
		return fmt.Errorf("SHARD_COUNT must be auto or a number of shards from 1 to %d, got %q", maxShardCount, t)
	}
	*s = ShardCount(n)
	return nil
}

// MarshalText is the count, or "auto".
func (s ShardCount) MarshalText() ([]byte, error) {
	if s == ShardCount(discord.AutoShards) {
		return []byte("auto"), nil
	}
	return []byte(strconv.Itoa(int(s))), nil
}

// Storage is where Halyard keeps its data: MongoDB (or the embedded
// database in DataDir) and the token secret.
type Storage struct {
	MongoURI  string `toml:"mongodb_uri" env:"MONGODB_URI"`
	MongoName string `toml:"mongodb_name" env:"MONGODB_NAME"`
	DataDir   string `toml:"data_dir" env:"DATA_DIR"`
	// TokenSecret hashes API tokens; generated in DataDir when empty.
	TokenSecret string `toml:"token_secret" env:"TOKEN_SECRET"`
}

// defaultStorage: the storage package's database name, ./data.
func defaultStorage() Storage {
	return Storage{MongoName: storage.DefaultDatabase, DataDir: "data"}
}

// Harmy is the harmy dialect: GitHub profiles and per-client rate
// limits.
type Harmy struct {
	GitHubAPIURL  string `toml:"github_api_url" env:"GITHUB_API_URL"`
	GitHubToken   string `toml:"github_token" env:"GITHUB_TOKEN"`
	RatePerSecond int    `toml:"harmy_rate_per_second" env:"HARMY_RATE_PER_SECOND"`
	RatePerMinute int    `toml:"harmy_rate_per_minute" env:"HARMY_RATE_PER_MINUTE"`
}

// defaultHarmy: GitHub's API and harmy's own limits.
func defaultHarmy() Harmy {
	return Harmy{GitHubAPIURL: github.DefaultBaseURL,
		RatePerSecond: harmy.DefaultRatePerSecond, RatePerMinute: harmy.DefaultRatePerMinute}
}

// Demo is --demo (Enabled): the built-in Discord simulator with Users members
// whose presences change every Churn (0 freezes them).
type Demo struct {
	Enabled bool          `toml:"demo" env:"DEMO"`
	Users   int           `toml:"demo_users" env:"DEMO_USERS"`
	Churn   time.Duration `toml:"demo_churn" env:"DEMO_CHURN"`
}

// defaultDemo: 50 members changing every 3 seconds.
func defaultDemo() Demo {
	return Demo{Users: 50, Churn: 3 * time.Second}
}

// Cluster makes this process one node of several (docs: README
// "Cluster"): NATSURL lists the NATS servers (comma-separated), NATSCreds
// names a credentials file (.creds, as `nsc` writes it), NodeName is this
// node's name in the cluster (the host name when empty). Without NATSURL
// Halyard is one node and opens no NATS connection.
type Cluster struct {
	NATSURL   string `toml:"nats_url" env:"NATS_URL"`
	NATSCreds string `toml:"nats_creds" env:"NATS_CREDS"`
	NodeName  string `toml:"node_name" env:"NODE_NAME"`
}

// Enabled reports whether this process is a node of a cluster.
func (c Cluster) Enabled() bool { return c.NATSURL != "" }

// Log is the process log.
type Log struct {
	LogLevel  string `toml:"log_level" env:"LOG_LEVEL"`
	LogFormat string `toml:"log_format" env:"LOG_FORMAT"`
}

// defaultLog: info, as text.
func defaultLog() Log {
	return Log{LogLevel: "info", LogFormat: "text"}
}

// History is presence history (opt-in with `.history on`): how long it is
// kept.
type History struct {
	HistoryRetention time.Duration `toml:"history_retention" env:"HISTORY_RETENTION"`
}

// defaultHistory: the history package's 30 days.
func defaultHistory() History {
	return History{HistoryRetention: history.DefaultRetention}
}

// validate: from an hour (the recorder prunes hourly) to ten years.
func (h History) validate() error {
	if h.HistoryRetention < time.Hour || h.HistoryRetention > 10*365*24*time.Hour {
		return fmt.Errorf("HISTORY_RETENTION must be from 1h to 87600h (ten years), got %s", h.HistoryRetention)
	}
	return nil
}
