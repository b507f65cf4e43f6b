// Package discord is the only package that speaks Discord: an arikawa
// session that watches guild members and their presences, feeds them to
// the core.Hub, and runs the bot's prefix and slash commands.
package discord

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/diamondburned/arikawa/v3/discord"
	"github.com/diamondburned/arikawa/v3/gateway"
	"github.com/diamondburned/arikawa/v3/session"
	"github.com/diamondburned/arikawa/v3/utils/handler"
)

// Intents are the gateway intents the bot identifies with (37635):
// guilds, members and presences for the watched population, guild and
// direct messages with their content for prefix commands.
const Intents = gateway.IntentGuilds | gateway.IntentGuildMembers | gateway.IntentGuildPresences |
	gateway.IntentGuildMessages | gateway.IntentDirectMessages | gateway.IntentMessageContent

// largeThreshold is the largest value Discord accepts: fewer GUILD_CREATEs
// come without their offline members.
const largeThreshold = 250

// Bot is a connection to Discord that keeps a core.Hub up to date.
type Bot struct {
	cfg   Config
	log   *slog.Logger
	hub   Hub
	s     *session.Session
	watch map[string]bool // nil: every guild

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	sync    *syncState
	req     *requester
	workers *workerPool

	appID     atomic.Uint64 // discord.AppID, from READY
	selfID    atomic.Uint64 // the bot's own user id, from READY
	connected atomic.Bool
	hellos    atomic.Int64
	opened    atomic.Bool
	closed    atomic.Bool
	slashDone atomic.Bool

	dmMu       sync.Mutex
	dmChannels map[discord.UserID]discord.ChannelID

	stats stats
}

// Stats are the bot's counters since New.
type Stats struct {
	Reconnects      int64 // connections after the first
	Resumes         int64 // RESUMED dispatches
	Identifies      int64 // READY dispatches (fresh sessions)
	Dispatches      int64 // op 0 events decoded
	DecodeErrors    int64 // events (or parts of them) that could not be read
	CommandsHandled int64 // prefix and slash commands run
}

type stats struct {
	reconnects, resumes, identifies, dispatches, decodeErrors, commands atomic.Int64
}

// New builds a bot from cfg; nothing connects until Open.
func New(cfg Config) (*Bot, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	installArikawaHooks(cfg.Logger)

	client, err := newRESTClient(cfg.Token, cfg.RESTBase)
	if err != nil {
		return nil, err
	}
	id := gateway.DefaultIdentifier("Bot " + cfg.Token)
	id.AddIntents(Intents)
	id.LargeThreshold = largeThreshold
	id.Presence = &gateway.UpdatePresenceCommand{
		Status:     discord.OnlineStatus,
		Activities: []discord.Activity{{Name: "you <3", Type: discord.WatchingActivity}},
	}
	if cfg.FastIdentify {
		id.IdentifyShortLimit = nil
	}
	g := gateway.NewCustomWithIdentifier(gateway.AddGatewayParams(cfg.GatewayURL), id, nil)
	s := session.NewWithGateway(g, handler.New())
	s.Client = client

	b := &Bot{
		cfg:        cfg,
		log:        cfg.Logger,
		hub:        cfg.Hub,
		s:          s,
		sync:       newSyncState(),
		dmChannels: map[discord.UserID]discord.ChannelID{},
	}
	if len(cfg.GuildIDs) > 0 {
		b.watch = map[string]bool{}
		for _, g := range cfg.GuildIDs {
			b.watch[g] = true
		}
	}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	b.req = newRequester(func(ctx context.Context, cmd *gateway.RequestGuildMembersCommand) error {
		return s.SendGateway(ctx, cmd)
	})
	b.workers = newWorkerPool(cfg.CommandWorkers, 256)
	s.AddSyncHandler(b.handle)
	return b, nil
}

// Open connects to the gateway and returns once READY (or RESUMED)
// arrived, ctx ended, or Discord refused the bot for good (bad token,
// disallowed intents). The bot then stays connected, reconnecting and
// resuming as needed, until Close.
func (b *Bot) Open(ctx context.Context) error {
	if b.closed.Load() {
		return errors.New("discord: bot is closed")
	}
	if !b.opened.CompareAndSwap(false, true) {
		return errors.New("discord: bot already opened")
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		b.req.run(b.ctx)
	}()
	b.workers.start(b.ctx)
	if err := b.s.Open(ctx); err != nil {
		return err
	}
	return nil
}

// Close disconnects gracefully (close code 1000, so Discord ends the
// session at once) and stops the command workers.
func (b *Bot) Close() error {
	if !b.closed.CompareAndSwap(false, true) {
		return nil
	}
	if b.opened.Load() {
		if cerr := b.s.Close(); cerr != nil && !errors.Is(cerr, session.ErrClosed) {
			b.log.Debug("discord: gateway closed", "err", cerr)
		}
	}
	b.connected.Store(false)
	b.cancel()
	b.wg.Wait()
	b.workers.wait()
	return nil
}

// Ready reports whether the gateway connection is up and identified or
// resumed (for readiness probes).
func (b *Bot) Ready() bool { return b.connected.Load() && !b.closed.Load() }

// Synced reports whether every watched guild's full member list has been
// received at least once.
func (b *Bot) Synced() bool { return b.sync.synced() }

// noteSynced tells the hub once every watched guild has been synced.
func (b *Bot) noteSynced() {
	if b.sync.synced() {
		b.hub.MarkSynced()
	}
}

// Stats returns the bot's counters.
func (b *Bot) Stats() Stats {
	return Stats{
		Reconnects:      b.stats.reconnects.Load(),
		Resumes:         b.stats.resumes.Load(),
		Identifies:      b.stats.identifies.Load(),
		Dispatches:      b.stats.dispatches.Load(),
		DecodeErrors:    b.stats.decodeErrors.Load(),
		CommandsHandled: b.stats.commands.Load(),
	}
}

// watched reports whether the bot follows the guild.
func (b *Bot) watched(guildID string) bool {
	return guildID != "" && (b.watch == nil || b.watch[guildID])
}
