package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/halyardhq/halyard/badge"
	"github.com/halyardhq/halyard/cluster"
	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/dialects/harmy"
	"github.com/halyardhq/halyard/dialects/lantern"
	"github.com/halyardhq/halyard/dialects/lanyard"
	"github.com/halyardhq/halyard/discord"
	"github.com/halyardhq/halyard/discord/discordsim"
	"github.com/halyardhq/halyard/docs"
	"github.com/halyardhq/halyard/github"
	"github.com/halyardhq/halyard/history"
	"github.com/halyardhq/halyard/internal/buildinfo"
	"github.com/halyardhq/halyard/privacy"
	"github.com/halyardhq/halyard/server"
	"github.com/halyardhq/halyard/socket"
	"github.com/halyardhq/halyard/storage"
	"github.com/halyardhq/halyard/web/landing"
	"github.com/halyardhq/halyard/web/userpage"
	"github.com/halyardhq/halyard/web/widget"
)

// Main is the whole program: configuration and every component, started in
// order by Run and stopped in reverse by Close. End-to-end tests run the
// exact production wiring through it.
type Main struct {
	Config Config
	Logger *slog.Logger
	Stdout io.Writer
	Stderr io.Writer

	// Store is the database; nil when an external MongoDB was unreachable
	// at start (deferred then reaches it in the background).
	Store    *storage.Store
	Hub      *core.Hub
	Tokens   *core.Tokens
	Commands *core.Commands
	Sim      *discordsim.Sim
	Bot      *discord.Bot
	Server   *server.Server
	Lanyard  *lanyard.Dialect
	Lantern  *lantern.Dialect
	Sockets  *socket.Engine // every WebSocket of every dialect
	Harmy    *harmy.Dialect
	Privacy  *privacy.Privacy // .optout, .optin, .delete-my-data, /privacy
	Badges   *badge.Handler
	GitHub   *github.Cache
	Metrics  *server.Metrics
	Widget   *widget.Script // GET /widget.js
	// History records opted-in users' presence history.
	History *history.Recorder
	// Now is the clock of the presence history; time.Now when nil (tests
	// script a day of changes with it).
	Now func() time.Time
	// Cluster is this node's membership of a cluster (NATS_URL); nil
	// for a single node.
	Cluster *cluster.Node

	botMu sync.Mutex // guards Bot, which a cluster node makes once it joined

	stopChurn func()
	deferred  *storage.Deferred
	pprof     bool // HALYARD_PPROF=1: the admin API serves runtime profiles
}

// NewMain returns a Main with default configuration.
func NewMain() *Main {
	return &Main{Config: DefaultConfig(), Stdout: os.Stdout, Stderr: os.Stderr, Commands: &core.Commands{}}
}

// ParseFlags reads the configuration from args and environ.
func (m *Main) ParseFlags(args []string, environ map[string]string) error {
	cfg, err := ParseConfig(args, environ, m.Stderr)
	if err != nil {
		return err
	}
	m.Config = cfg
	m.pprof = environ[server.PprofEnv] == "1"
	return nil
}

// Run starts every component: store, hub, HTTP, (simulator,) bot. It
// returns once Halyard serves and the gateway session is READY.
func (m *Main) Run(ctx context.Context) error {
	cfg := &m.Config
	m.Logger = newLogger(m.Stderr, cfg.Log.LogLevel, cfg.Log.LogFormat)
	bi := buildinfo.Read() // first line: which build wrote these logs
	m.Logger.Info("starting halyard", "version", bi.Version, "revision", bi.Revision,
		"vcs_time", bi.Time, "modified", bi.Modified, "go", bi.GoVersion)
	if err := os.MkdirAll(cfg.Storage.DataDir, 0o700); err != nil {
		return fmt.Errorf("data directory %s: %v", cfg.Storage.DataDir, err)
	}
	secret, err := loadTokenSecret(cfg.Storage.TokenSecret, cfg.Storage.DataDir)
	if err != nil {
		return err
	}

	openCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := m.openStore(openCtx, secret); err != nil {
		return err
	}

	if cfg.Cluster.Enabled() {
		// Before the history recorder, which asks the node which users'
		// history it writes.
		m.newClusterNode()
	}
	if err := m.openHistory(openCtx); err != nil {
		return err
	}

	// One socket engine and one connection cap per client address across
	// every socket endpoint.
	m.Sockets = socket.NewEngine()
	sockConns := socket.NewConnLimiter(cfg.Socket.MaxPerIP, cfg.HTTP.TrustedProxyHeader)
	sockCaps := socket.CapsConfig{MessagesPerSecond: cfg.Socket.MessagesPerSecond,
		Burst: cfg.Socket.MessageBurst, MaxSubscriptions: cfg.Socket.MaxSubscriptions}
	lanternMax := int64(0) // Lantern's own 1024-byte maxPayload unless the cap is lower
	if cfg.Socket.MaxMessageBytes > 0 && cfg.Socket.MaxMessageBytes < 1024 {
		lanternMax = cfg.Socket.MaxMessageBytes
	}
	m.Lanyard = lanyard.New(lanyard.Options{Hub: m.Hub, Tokens: m.Tokens, ExternalURL: cfg.HTTP.ExternalURL,
		Prefix: cfg.Discord.CommandPrefix, Commands: m.Commands, DiscordInvite: cfg.Discord.DiscordInvite, CDNURL: cfg.Discord.CDNURL,
		History: m.History,
		// GET /: browsers that ask for HTML get the landing page.
		Root: landing.New(landing.Options{Hub: m.Hub, ExternalURL: cfg.HTTP.ExternalURL, WidgetPath: widget.Path,
			CDNURL: cfg.Discord.CDNURL}).Wrap,
		Socket: lanyard.SocketOptions{Engine: m.Sockets, MaxMessageSize: cfg.Socket.MaxMessageBytes, Caps: sockCaps, Conns: sockConns},
		SSE:    lanyard.SSEOptions{Ping: cfg.Socket.SSEPing}})
	m.Commands.Register(m.Lanyard.Commands()...)
	m.Lantern = lantern.New(lantern.Options{Hub: m.Hub, Tokens: m.Tokens, ExternalURL: cfg.HTTP.ExternalURL, CDNURL: cfg.Discord.CDNURL,
		Logger: m.Logger.With("component", "lantern"),
		Socket: lantern.SocketOptions{Engine: m.Sockets, MaxMessageSize: lanternMax, Caps: sockCaps, Conns: sockConns}})
	m.Commands.Register(m.Lantern.Commands()...)
	m.GitHub = github.NewCache(github.CacheConfig{Logger: m.Logger.With("component", "github"),
		Client: github.NewClient(github.Config{BaseURL: cfg.Harmy.GitHubAPIURL, Token: cfg.Harmy.GitHubToken})})
	m.Harmy = harmy.New(harmy.Options{Hub: m.Hub, Tokens: m.Tokens, GitHub: m.GitHub, ExternalURL: cfg.HTTP.ExternalURL,
		Prefix: cfg.Discord.CommandPrefix, RatePerSecond: cfg.Harmy.RatePerSecond, RatePerMinute: cfg.Harmy.RatePerMinute,
		TrustedProxyHeader: cfg.HTTP.TrustedProxyHeader})
	m.Commands.Register(m.Harmy.Commands()...)
	m.Commands.Register(m.History.Commands()...)
	// The privacy commands come last: no dialect's prefix command may
	// take their names (a later registration wins, core.Commands.Register).
	m.Privacy = privacy.New(privacy.Options{Hub: m.Hub, Tokens: m.Tokens, Prefix: cfg.Discord.CommandPrefix,
		Logger: m.Logger.With("component", "privacy")})
	m.Commands.Register(m.Privacy.Commands()...)
	m.Badges = badge.New(m.Hub)

	if cfg.Demo.Enabled {
		if err := m.startDemo(); err != nil {
			return err
		}
	}

	botCfg := discord.Config{
		Token: cfg.Discord.BotToken, GatewayURL: cfg.Discord.GatewayURL, RESTBase: cfg.Discord.APIURL, GuildIDs: cfg.Discord.GuildIDs,
		Prefix: cfg.Discord.CommandPrefix, Hub: m.Hub, Commands: m.Commands, Logger: m.Logger.With("component", "discord"),
		FastIdentify: cfg.Demo.Enabled, ShardCount: int(cfg.Discord.ShardCount),
	}
	if !cfg.Cluster.Enabled() {
		if m.Bot, err = discord.New(botCfg); err != nil {
			return err
		}
	}

	srvOpts := server.Options{Hub: m.Hub, Tokens: m.Tokens, Logger: m.Logger.With("component", "http"),
		AdminToken: cfg.HTTP.AdminToken, Ready: m.readiness, TrustedProxyHeader: cfg.HTTP.TrustedProxyHeader,
		Timeouts: cfg.HTTP.Timeouts(), Pprof: m.pprof,
		SocketStats: map[string]func() server.SocketStats{"lanyard": m.Lanyard.SocketStats, "lantern": m.Lantern.SocketStats}}
	if m.Sim != nil {
		srvOpts.Demo = simDriver{m.Sim}
	}
	if m.Store != nil { // without a store history is unavailable: backups hold none
		srvOpts.History = m.History
	}
	srvOpts.Cluster = clusterView{m}
	m.Server = server.New(srvOpts)
	if m.Metrics, err = m.newMetrics(); err != nil {
		return err
	}
	if m.Cluster != nil {
		if err := m.Metrics.Register(m.Cluster.Collector()); err != nil {
			return err
		}
	}
	m.Server.EnableMetrics(m.Metrics)
	docs.Register(m.Server.Echo()) // /docs: Swagger UI and the OpenAPI document
	m.Server.Register(m.Lanyard, m.Lantern, m.Harmy)
	m.Widget = widget.New(widget.Options{CDNURL: cfg.Discord.CDNURL})
	m.Widget.Register(m.Server.Echo())
	m.Badges.Register(m.Server.Echo()) // /badge/:id/:kind.svg: SVG answers, errors included
	userpage.New(userpage.Options{Hub: m.Hub, History: m.History, ExternalURL: cfg.HTTP.ExternalURL,
		CDNURL: cfg.Discord.CDNURL}).Register(m.Server.Echo()) // /u/:id
	shared := m.Server.RegisterSocket(m.Sockets, m.Lanyard, m.Lantern) // shared /socket; Lanyard first: it takes ambiguous first messages
	shared.MaxMessageSize, shared.Conns = cfg.Socket.MaxMessageBytes, sockConns
	if err := m.Server.Listen(cfg.HTTP.Addr); err != nil {
		return fmt.Errorf("cannot listen on %s: %v", cfg.HTTP.Addr, err)
	}
	m.Server.Serve()
	m.Logger.Info("serving HTTP", "addr", m.Server.Addr(), "external_url", cfg.HTTP.ExternalURL)

	if cfg.Cluster.Enabled() {
		// The gateway session opens when this node takes the shard's
		// lease; /readyz says when the node has the cluster's state.
		return m.startCluster(ctx, botCfg)
	}
	gwCtx, gwCancel := context.WithTimeout(ctx, 60*time.Second)
	defer gwCancel()
	if err := m.Bot.Open(gwCtx); err != nil {
		return fmt.Errorf("connecting to the Discord gateway: %v", err)
	}
	m.Logger.Info("gateway ready", "monitored_users", m.Hub.Count())
	if m.Sim != nil && m.Config.Demo.Churn > 0 {
		m.stopChurn = m.Sim.StartChurn(cfg.Demo.Churn, discordsim.ChurnPerTick(cfg.Demo.Users))
	}
	return nil
}

// openHistory starts the presence history recorder on the store (none
// while an unreachable MongoDB is retried: history is then unavailable).
func (m *Main) openHistory(ctx context.Context) error {
	cfg := &m.Config
	opts := history.Options{Hub: m.Hub, Logger: m.Logger.With("component", "history"), Now: m.Now,
		Retention: cfg.History.HistoryRetention, ExternalURL: cfg.HTTP.ExternalURL, Prefix: cfg.Discord.CommandPrefix}
	if m.Store != nil {
		opts.Store = m.Store
	}
	if m.Cluster != nil {
		// Every node records in memory; the holder of a user's shard
		// writes (history/cluster.go).
		opts.Writes = m.Cluster.WritesHistoryOf
	}
	m.History = history.New(opts)
	if err := m.History.Open(ctx); err != nil {
		return fmt.Errorf("loading presence history opt-ins: %v", err)
	}
	if m.Cluster != nil && m.Store != nil {
		m.Cluster.SetHistory(m.History) // opt-ins on the bus; handovers with the leases
	}
	return nil
}

// startDemo starts the embedded Discord simulator and points the bot at it.
func (m *Main) startDemo() error {
	cfg := &m.Config
	sim, err := discordsim.New(discordsim.Config{
		Seed: 1, Members: cfg.Demo.Users, Logger: m.Logger.With("component", "discordsim"),
		HeartbeatInterval: 5 * time.Second,
	})
	if err != nil {
		return fmt.Errorf("starting the Discord simulator: %v", err)
	}
	m.Sim = sim
	cfg.Discord.BotToken = sim.Token()
	cfg.Discord.GatewayURL = sim.GatewayURL()
	cfg.Discord.APIURL = sim.RESTURL()
	if cfg.HTTP.AdminToken == "" {
		cfg.HTTP.AdminToken = randomHex(16)
		fmt.Fprintf(m.Stdout, "demo admin token: %s\n", cfg.HTTP.AdminToken)
	}
	ids := sim.MemberIDs(sim.GuildIDs()[0])
	if len(ids) > 0 {
		example := ids[0]
		for _, id := range ids {
			if t, ok := sim.Truth(id); ok && t.Status != "offline" {
				example = id
				break
			}
		}
		fmt.Fprintf(m.Stdout, "demo: %d simulated members; try %s/v1/users/%s\n", len(ids), cfg.HTTP.ExternalURL, example)
	}
	return nil
}

// readiness lists why Halyard is not ready: gateway not READY, store down
// or not taking writes.
func (m *Main) readiness(ctx context.Context) []string {
	var reasons []string
	if m.Cluster != nil {
		reasons = append(reasons, m.Cluster.Readiness()...)
		if bot := m.bot(); bot != nil && !bot.Ready() {
			reasons = append(reasons, "gateway session is not ready")
		}
	} else if m.Bot == nil || !m.Bot.Ready() {
		reasons = append(reasons, "gateway session is not ready")
	} else if !m.Hub.IsSynced() {
		reasons = append(reasons, "guild members are still loading")
	}
	switch st := m.storeHealth(); {
	case st == nil || st.Ping(ctx) != nil:
		reasons = append(reasons, "database is unreachable")
	default:
		if err := st.ProbeWrite(ctx); err != nil {
			m.Logger.Warn("readiness: the database does not take writes", "err", err)
			reasons = append(reasons, "database does not take writes")
		}
	}
	return reasons
}

// URL returns the base URL of the listening HTTP server.
func (m *Main) URL() string {
	addr := m.Server.Addr()
	if strings.HasPrefix(addr, "[::]:") {
		addr = "127.0.0.1:" + strings.TrimPrefix(addr, "[::]:")
	}
	return "http://" + addr
}

// Close stops everything in reverse order of Run.
func (m *Main) Close() error {
	var errs []error
	if m.stopChurn != nil {
		m.stopChurn()
	}
	if m.Server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		errs = append(errs, m.Server.Shutdown(ctx))
		cancel()
	}
	if m.Sockets != nil {
		m.Sockets.Close() // 1001 Going Away to every socket of every dialect, waited for
	}
	if m.Cluster != nil {
		errs = append(errs, m.Cluster.Close()) // closes this node's shards, frees their leases
	}
	if bot := m.setBot(nil); bot != nil {
		errs = append(errs, bot.Close())
	}
	if m.GitHub != nil {
		errs = append(errs, m.GitHub.Close())
	}
	if m.Sim != nil {
		errs = append(errs, m.Sim.Close())
	}
	if m.History != nil {
		errs = append(errs, m.History.Close()) // closes open intervals: before the store
	}
	if m.Hub != nil {
		errs = append(errs, m.Hub.Close())
	}
	if m.deferred != nil {
		errs = append(errs, m.deferred.Close())
	}
	if m.Store != nil {
		errs = append(errs, m.Store.Close())
	}
	return errors.Join(errs...)
}

// loadTokenSecret returns TOKEN_SECRET, or the secret kept in the data
// directory, generating it on first start.
func loadTokenSecret(configured, dataDir string) ([]byte, error) {
	if configured != "" {
		return []byte(configured), nil
	}
	path := filepath.Join(dataDir, "token_secret")
	b, err := os.ReadFile(path)
	if err == nil {
		s := strings.TrimSpace(string(b))
		if len(s) < 32 {
			return nil, fmt.Errorf("%s holds a secret shorter than 32 characters", path)
		}
		return []byte(s), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reading %s: %v", path, err)
	}
	s := randomHex(32)
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("writing %s: %v", path, err)
	}
	return []byte(s), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails on supported platforms
	return hex.EncodeToString(b)
}

// newLogger builds the process logger.
func newLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level)) // checked by Config.Validate
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
