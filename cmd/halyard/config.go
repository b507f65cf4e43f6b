package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/caarlos0/env/v11"
)

// Config is Halyard's configuration: defaults, then config.toml, then
// environment variables, then flags (each overrides the one before).
// Every environment variable is listed and explained in .env.example.
type Config struct {
	BotToken      string        `toml:"bot_token" env:"BOT_TOKEN"`
	GuildIDs      []string      `toml:"guild_ids" env:"GUILD_IDS" envSeparator:","`
	MongoURI      string        `toml:"mongodb_uri" env:"MONGODB_URI"`
	MongoName     string        `toml:"mongodb_name" env:"MONGODB_NAME"`
	DataDir       string        `toml:"data_dir" env:"DATA_DIR"`
	Port          int           `toml:"port" env:"PORT"`
	Addr          string        `toml:"addr" env:"ADDR"`
	TokenSecret   string        `toml:"token_secret" env:"TOKEN_SECRET"`
	AdminToken    string        `toml:"admin_token" env:"ADMIN_TOKEN"`
	ExternalURL   string        `toml:"external_url" env:"EXTERNAL_URL"`
	DiscordInvite string        `toml:"discord_invite" env:"DISCORD_INVITE"`
	CommandPrefix string        `toml:"command_prefix" env:"COMMAND_PREFIX"`
	GatewayURL    string        `toml:"discord_gateway_url" env:"DISCORD_GATEWAY_URL"`
	APIURL        string        `toml:"discord_api_url" env:"DISCORD_API_URL"`
	CDNURL        string        `toml:"discord_cdn_url" env:"DISCORD_CDN_URL"`
	LogLevel      string        `toml:"log_level" env:"LOG_LEVEL"`
	LogFormat     string        `toml:"log_format" env:"LOG_FORMAT"`
	Demo          bool          `toml:"demo" env:"DEMO"`
	DemoUsers     int           `toml:"demo_users" env:"DEMO_USERS"`
	DemoChurn     time.Duration `toml:"demo_churn" env:"DEMO_CHURN"`

	// The harmy dialect: GitHub profiles and per-client rate limits.
	GitHubAPIURL       string `toml:"github_api_url" env:"GITHUB_API_URL"`
	GitHubToken        string `toml:"github_token" env:"GITHUB_TOKEN"`
	HarmyRatePerSecond int    `toml:"harmy_rate_per_second" env:"HARMY_RATE_PER_SECOND"`
	HarmyRatePerMinute int    `toml:"harmy_rate_per_minute" env:"HARMY_RATE_PER_MINUTE"`
	TrustedProxyHeader string `toml:"trusted_proxy_header" env:"TRUSTED_PROXY_HEADER"`

	// Slow HTTP clients (slowloris): how long a client may take to send its
	// headers and its whole request, to read the answer, and to sit idle
	// between keep-alive requests; and the most header bytes it may send.
	HTTPReadHeaderTimeout time.Duration `toml:"http_read_header_timeout" env:"HTTP_READ_HEADER_TIMEOUT"`
	HTTPReadTimeout       time.Duration `toml:"http_read_timeout" env:"HTTP_READ_TIMEOUT"`
	HTTPWriteTimeout      time.Duration `toml:"http_write_timeout" env:"HTTP_WRITE_TIMEOUT"`
	HTTPIdleTimeout       time.Duration `toml:"http_idle_timeout" env:"HTTP_IDLE_TIMEOUT"`
	HTTPMaxHeaderBytes    int           `toml:"http_max_header_bytes" env:"HTTP_MAX_HEADER_BYTES"`

	// WebSocket abuse caps (0 turns one off): the largest client message
	// (Lanyard; Lantern keeps its 1024-byte maxPayload, or this if lower),
	// users one socket may follow by id, client messages per second per
	// socket (a token bucket of SocketMessageBurst), and sockets open at
	// once per client address (TrustedProxyHeader's when set).
	SocketMaxMessageBytes   int64   `toml:"socket_max_message_bytes" env:"SOCKET_MAX_MESSAGE_BYTES"`
	SocketMaxSubscriptions  int     `toml:"socket_max_subscriptions" env:"SOCKET_MAX_SUBSCRIPTIONS"`
	SocketMessagesPerSecond float64 `toml:"socket_messages_per_second" env:"SOCKET_MESSAGES_PER_SECOND"`
	SocketMessageBurst      int     `toml:"socket_message_burst" env:"SOCKET_MESSAGE_BURST"`
	SocketMaxPerIP          int     `toml:"socket_max_per_ip" env:"SOCKET_MAX_PER_IP"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		MongoName:     "halyard",
		DataDir:       "data",
		Port:          4001,
		CommandPrefix: ".",
		GatewayURL:    "wss://gateway.discord.gg/",
		APIURL:        "https://discord.com",
		CDNURL:        "https://cdn.discordapp.com",
		LogLevel:      "info",
		LogFormat:     "text",
		DemoUsers:     50,
		DemoChurn:     3 * time.Second,

		GitHubAPIURL:       "https://api.github.com",
		HarmyRatePerSecond: 3,
		HarmyRatePerMinute: 120,

		HTTPReadHeaderTimeout: 10 * time.Second,
		HTTPReadTimeout:       30 * time.Second,
		HTTPWriteTimeout:      60 * time.Second,
		HTTPIdleTimeout:       120 * time.Second,
		HTTPMaxHeaderBytes:    64 << 10,

		SocketMaxMessageBytes:   8_000_000,
		SocketMaxSubscriptions:  1000,
		SocketMessagesPerSecond: 20,
		SocketMessageBurst:      60,
		SocketMaxPerIP:          0,
	}
}

// errUsage is returned for bad command lines; main exits 2.
var errUsage = errors.New("usage")

// ParseConfig builds the configuration from args (without the program
// name) and the environment. A config file named by --config must exist;
// ./config.toml is read when present.
func ParseConfig(args []string, environ map[string]string, stderr io.Writer) (Config, error) {
	cfg := DefaultConfig()

	fs := flag.NewFlagSet("halyard", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "path to config.toml (default ./config.toml when present)")
	demo := fs.Bool("demo", false, "run against the built-in Discord simulator, no Discord account needed")
	demoUsers := fs.Int("demo-users", 0, "number of simulated members in --demo mode (default 50)")
	demoChurn := fs.String("demo-churn", "", "how often simulated presences change in --demo mode, e.g. 3s; 0 freezes them")
	addr := fs.String("addr", "", "listen address host:port (default :PORT)")
	dataDir := fs.String("data-dir", "", "directory for the embedded database and the token secret (default ./data)")
	logLevel := fs.String("log-level", "", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return cfg, errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "halyard: unexpected argument %q\n", fs.Arg(0))
		return cfg, errUsage
	}

	if err := loadConfigSources(&cfg, *configPath, environ); err != nil {
		return cfg, err
	}

	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "demo":
			cfg.Demo = *demo
		case "demo-users":
			cfg.DemoUsers = *demoUsers
		case "addr":
			cfg.Addr = *addr
		case "data-dir":
			cfg.DataDir = *dataDir
		case "log-level":
			cfg.LogLevel = *logLevel
		}
	})
	if *demoChurn != "" {
		d, err := parseDuration(*demoChurn)
		if err != nil {
			return cfg, fmt.Errorf("--demo-churn: %v", err)
		}
		cfg.DemoChurn = d
	}
	return cfg, cfg.Validate()
}

// loadConfigSources applies config.toml (configPath, or ./config.toml when
// present) and then the environment over cfg. The server and the import
// commands share it, so they read the same database and secret.
func loadConfigSources(cfg *Config, configPath string, environ map[string]string) error {
	path, required := configPath, true
	if path == "" {
		path, required = "config.toml", false
	}
	if _, err := os.Stat(path); err == nil || required {
		md, err := toml.DecodeFile(path, cfg)
		if err != nil {
			return fmt.Errorf("config file %s: %v", path, oneLine(err))
		}
		if undecoded := md.Undecoded(); len(undecoded) > 0 {
			return fmt.Errorf("config file %s: unknown setting %q", path, undecoded[0].String())
		}
	}
	if err := env.ParseWithOptions(cfg, env.Options{Environment: environ}); err != nil {
		return fmt.Errorf("environment: %v", oneLine(err))
	}
	return nil
}

// Validate checks the settings that do not need the network.
func (c *Config) Validate() error {
	if c.BotToken == "" && !c.Demo {
		return errors.New("BOT_TOKEN is not set: set it (see .env.example) or run with --demo to try Halyard without a Discord bot")
	}
	if c.Port < 1 || c.Port > 65535 {
		return fmt.Errorf("PORT must be from 1 to 65535, got %d", c.Port)
	}
	if c.Addr == "" {
		c.Addr = ":" + strconv.Itoa(c.Port)
	}
	if c.ExternalURL == "" {
		c.ExternalURL = "http://127.0.0.1:" + strconv.Itoa(c.Port)
		if _, port, err := net.SplitHostPort(c.Addr); err == nil && port != "0" {
			c.ExternalURL = "http://127.0.0.1:" + port
		}
	}
	c.ExternalURL = strings.TrimRight(c.ExternalURL, "/")
	if u, err := url.Parse(c.CDNURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("DISCORD_CDN_URL must be an http(s) URL, got %q", c.CDNURL)
	}
	c.CDNURL = strings.TrimRight(c.CDNURL, "/")
	if u, err := url.Parse(c.GitHubAPIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("GITHUB_API_URL must be an http(s) URL, got %q", c.GitHubAPIURL)
	}
	if c.HarmyRatePerSecond < 0 || c.HarmyRatePerMinute < 0 {
		return errors.New("HARMY_RATE_PER_SECOND and HARMY_RATE_PER_MINUTE must not be negative (0 turns a limit off)")
	}
	if c.HTTPReadHeaderTimeout <= 0 || c.HTTPReadTimeout <= 0 || c.HTTPWriteTimeout <= 0 || c.HTTPIdleTimeout <= 0 {
		return errors.New("HTTP_READ_HEADER_TIMEOUT, HTTP_READ_TIMEOUT, HTTP_WRITE_TIMEOUT and HTTP_IDLE_TIMEOUT must be positive (they cut off slow clients)")
	}
	if c.SocketMaxMessageBytes < 0 || c.SocketMaxSubscriptions < 0 || c.SocketMessagesPerSecond < 0 || c.SocketMessageBurst < 0 || c.SocketMaxPerIP < 0 {
		return errors.New("SOCKET_MAX_MESSAGE_BYTES, SOCKET_MAX_SUBSCRIPTIONS, SOCKET_MESSAGES_PER_SECOND, SOCKET_MESSAGE_BURST and SOCKET_MAX_PER_IP must not be negative (0 turns a cap off)")
	}
	if c.HTTPMaxHeaderBytes < 4096 || c.HTTPMaxHeaderBytes > 16<<20 {
		return fmt.Errorf("HTTP_MAX_HEADER_BYTES must be from 4096 to 16777216, got %d", c.HTTPMaxHeaderBytes)
	}
	if c.DemoUsers < 1 || c.DemoUsers > 1_000_000 {
		return fmt.Errorf("--demo-users must be from 1 to 1000000, got %d", c.DemoUsers)
	}
	if c.DemoChurn < 0 {
		return errors.New("--demo-churn must not be negative")
	}
	if c.CommandPrefix == "" {
		return errors.New("COMMAND_PREFIX must not be empty")
	}
	if c.TokenSecret != "" && len(c.TokenSecret) < 32 {
		return errors.New("TOKEN_SECRET must be at least 32 characters (or unset, to have one generated in the data directory)")
	}
	var guilds []string
	for _, id := range c.GuildIDs {
		if id = strings.TrimSpace(id); id == "" {
			continue
		}
		if _, err := strconv.ParseUint(id, 10, 64); err != nil {
			return fmt.Errorf("GUILD_IDS: %q is not a guild id", id)
		}
		guilds = append(guilds, id)
	}
	c.GuildIDs = guilds
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("LOG_LEVEL must be debug, info, warn or error, got %q", c.LogLevel)
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return fmt.Errorf("LOG_FORMAT must be text or json, got %q", c.LogFormat)
	}
	return nil
}

// parseDuration accepts Go durations and a bare "0".
func parseDuration(s string) (time.Duration, error) {
	if s == "0" {
		return 0, nil
	}
	return time.ParseDuration(s)
}

// oneLine keeps an error message on one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// environMap returns the process environment as a map.
func environMap() map[string]string {
	m := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}
