// Package discord is the only package that speaks Discord: an arikawa
// session that watches guild members and their presences, feeds them to
// the core.Hub, and runs the bot's prefix and slash commands.
package discord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/diamondburned/arikawa/v3/api"
	"github.com/diamondburned/arikawa/v3/discord"
	"github.com/diamondburned/arikawa/v3/gateway"
	"github.com/diamondburned/arikawa/v3/session/shard"
)

// Intents are the gateway intents the bot identifies with (37635):
// guilds, members and presences for the watched population, guild and
// direct messages with their content for prefix commands.
const Intents = gateway.IntentGuilds | gateway.IntentGuildMembers | gateway.IntentGuildPresences |
	gateway.IntentGuildMessages | gateway.IntentDirectMessages | gateway.IntentMessageContent

// largeThreshold is the largest value Discord accepts: fewer GUILD_CREATEs
// come without their offline members.
const largeThreshold = 250

// Bot is a connection to Discord that keeps a core.Hub up to date: one
// gateway session per shard it holds (shards.go), one REST client.
type Bot struct {
	cfg        Config
	log        *slog.Logger
	hub        Hub
	client     *api.Client
	manager    *shard.Manager
	shards     []*shardConn    // index: shard id
	gatewayURL string          // with the v and encoding parameters
	watch      map[string]bool // nil: every guild

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	sync    *syncState
	req     *requester
	workers *workerPool

	appID     atomic.Uint64 // discord.AppID, from READY
	selfID    atomic.Uint64 // the bot's own user id, from READY
	startOnce sync.Once
	started   atomic.Bool // Open or OpenShard was called
	opened    atomic.Bool
	closed    atomic.Bool
	slashDone atomic.Bool
	slashBusy atomic.Bool

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
	plan, err := planShards(client, cfg)
	if err != nil {
		return nil, err
	}

	b := &Bot{
		cfg:        cfg,
		log:        cfg.Logger,
		hub:        cfg.Hub,
		client:     client,
		sync:       newSyncState(),
		dmChannels: map[discord.UserID]discord.ChannelID{},
	}
	if err := b.newShards(plan, id); err != nil {
		return nil, err
	}
	for _, n := range cfg.Shards {
		if n < 0 || n >= plan.count {
			return nil, fmt.Errorf("discord: shard %d does not exist (shard count %d)", n, plan.count)
		}
	}
	if len(cfg.GuildIDs) > 0 {
		b.watch = map[string]bool{}
		for _, g := range cfg.GuildIDs {
			b.watch[g] = true
		}
	}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	b.req = newRequester(b.sendMembersRequest)
	b.req.shardOf = b.shardOf
	b.workers = newWorkerPool(cfg.CommandWorkers, 256)
	return b, nil
}

// Open connects the shards of Config.Shards (every shard when nil, none
// when empty) and returns once each is READY (or RESUMED), ctx ended, or
// Discord refused the bot for good (bad token, disallowed intents, a bad
// shard). The bot then stays connected, reconnecting and resuming as
// needed, until Close; OpenShard and CloseShard change the shards held.
func (b *Bot) Open(ctx context.Context) error {
	if b.closed.Load() {
		return errors.New("discord: bot is closed")
	}
	if !b.opened.CompareAndSwap(false, true) {
		return errors.New("discord: bot already opened")
	}
	b.start()
	ids := b.cfg.Shards
	if ids == nil {
		for i := range b.shards {
			ids = append(ids, i)
		}
	}
	return b.openShards(ctx, ids)
}

// start runs the member requester and the command workers, once.
func (b *Bot) start() {
	b.startOnce.Do(func() {
		b.started.Store(true)
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			b.req.run(b.ctx)
		}()
		b.workers.start(b.ctx)
	})
}

// sendMembersRequest sends an op 8 on the session of the guild's shard.
func (b *Bot) sendMembersRequest(ctx context.Context, cmd *gateway.RequestGuildMembersCommand) error {
	s := b.shards[b.shardOf(cmd.GuildIDs[0].String())].session()
	if s == nil {
		return errShardClosed
	}
	return s.SendGateway(ctx, cmd)
}

// Close disconnects every shard gracefully (close code 1000, so Discord
// ends the sessions at once) and stops the command workers.
func (b *Bot) Close() error {
	if !b.closed.CompareAndSwap(false, true) {
		return nil
	}
	var wg sync.WaitGroup
	for _, sc := range b.shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = sc.Close()
		}()
	}
	wg.Wait()
	b.cancel()
	b.wg.Wait()
	b.workers.wait()
	return nil
}

// Ready reports whether every shard this node is meant to hold (opened
// by Open or OpenShard, not closed since) is connected: identified or
// resumed, and not cut off since (for readiness probes). Before Open or
// OpenShard it is false; a bot opened with no shard (a cluster node
// waiting for a lease) is ready.
func (b *Bot) Ready() bool {
	if b.closed.Load() || !b.started.Load() {
		return false
	}
	for _, sc := range b.shards {
		if sc.wanted.Load() && !sc.connected.Load() {
			return false
		}
	}
	return true
}

// Synced reports whether every shard this node is meant to hold has been READY and
// every watched guild on them has had its full member list at least
// once. A shard closed with CloseShard no longer counts; a bot that holds
// no shard is synced once opened (there is nothing it must load).
func (b *Bot) Synced() bool { return b.sync.synced(b.wantedShards(), b.started.Load()) }

// noteSynced tells the hub once every watched guild has been synced.
func (b *Bot) noteSynced() {
	if b.Synced() {
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
