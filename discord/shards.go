package discord

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/diamondburned/arikawa/v3/api"
	"github.com/diamondburned/arikawa/v3/discord"
	"github.com/diamondburned/arikawa/v3/gateway"
	"github.com/diamondburned/arikawa/v3/session"
	"github.com/diamondburned/arikawa/v3/session/shard"
	"github.com/diamondburned/arikawa/v3/utils/handler"
	"golang.org/x/time/rate"
)

// AutoShards as Config.ShardCount takes the shard count Discord
// recommends (GET /gateway/bot's shards) when the bot is built.
const AutoShards = -1

// identifyInterval spaces the IDENTIFYs of one max_concurrency bucket:
// Discord's 5 s, plus a margin for the trip: Discord reckons the 5 s
// between arrivals, and an IDENTIFY that left late (a loaded machine)
// would otherwise bring the next one in too soon, which costs op 9 and a
// reconnect.
const identifyInterval = 5*time.Second + time.Second

// errShardClosed is a gateway send for a guild whose shard this node does
// not hold: the request is dropped (opening the shard syncs the guild anew).
var errShardClosed = errors.New("discord: the guild's shard is not open on this node")

// shardConn is one shard's gateway session. It is the arikawa shard
// manager's Shard: the manager builds the identifiers (shard [i, n], the
// shared identify limits) and routes guilds to shards
// (shard.Manager.FromGuildID); the bot opens and closes each shard on its
// own, for a cluster lease, which the manager's all-or-nothing Open and
// Close cannot. Every Open starts a fresh session, so a shard reopened
// after Close identifies anew instead of resuming a session Discord ended.
type shardConn struct {
	b     *Bot
	id    int
	ident gateway.Identifier

	// opMu orders CloseShard (close, then forget the shard's sync) before
	// an OpenShard that follows it; mu guards the fields below it.
	opMu   sync.Mutex
	mu     sync.Mutex
	sess   *session.Session   // nil while closed
	cancel context.CancelFunc // ends an Open still waiting for READY

	wanted    atomic.Bool  // opened and not closed since, even if connecting failed
	connected atomic.Bool  // READY or RESUMED, and no disconnect since
	closing   atomic.Bool  // CloseShard or Close is ending the session
	hellos    atomic.Int64 // HELLOs since the session was opened
}

// Open connects the shard (shard.Shard). It returns once READY (or
// RESUMED) arrived, ctx ended, Close was called, or Discord refused the
// shard for good; an open shard is left as it is.
func (sc *shardConn) Open(ctx context.Context) error {
	s, openCtx, cancel := sc.prepare(ctx)
	if s == nil {
		return nil
	}
	return sc.connect(ctx, s, openCtx, cancel)
}

// connect opens the session prepare built.
func (sc *shardConn) connect(ctx context.Context, s *session.Session, openCtx context.Context, cancel context.CancelFunc) error {
	defer cancel()
	if err := s.Open(openCtx); err != nil {
		sc.forget(s)
		if ctx.Err() == nil && openCtx.Err() != nil {
			return fmt.Errorf("discord: shard %d was closed while connecting", sc.id)
		}
		return fmt.Errorf("discord: shard %d: %w", sc.id, err)
	}
	return nil
}

// prepare builds the shard's session unless one exists (then s is nil);
// from then on the shard counts as held (Ready waits for it). cancel ends
// openCtx, which Close also does.
func (sc *shardConn) prepare(ctx context.Context) (s *session.Session, openCtx context.Context, cancel context.CancelFunc) {
	sc.opMu.Lock()
	defer sc.opMu.Unlock()
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.wanted.Store(true)
	if sc.sess != nil {
		return nil, nil, nil
	}
	g := gateway.NewCustomWithIdentifier(sc.b.gatewayURL, sc.ident, nil)
	s = session.NewWithGateway(g, handler.New())
	s.Client = sc.b.client
	s.AddSyncHandler(func(ev any) { sc.b.handleOn(sc, ev) })
	sc.sess = s
	sc.closing.Store(false)
	sc.connected.Store(false)
	sc.hellos.Store(0)
	openCtx, sc.cancel = context.WithCancel(ctx)
	return s, openCtx, sc.cancel
}

// forget drops s if it is still the shard's session (its Open failed).
func (sc *shardConn) forget(s *session.Session) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.sess == s {
		sc.sess = nil
		sc.connected.Store(false)
	}
}

// Close ends the shard's session at once (close 1000, so Discord ends it
// too) and waits for its event loop (shard.Shard); closing a closed shard
// does nothing.
func (sc *shardConn) Close() error {
	sc.mu.Lock()
	s, cancel := sc.sess, sc.cancel
	sc.sess, sc.cancel = nil, nil
	sc.wanted.Store(false)
	if s != nil {
		sc.closing.Store(true)
	}
	sc.connected.Store(false)
	sc.mu.Unlock()
	if s == nil {
		return nil
	}
	if cancel != nil {
		cancel() // an Open waiting for READY returns, closing the session itself
	}
	if err := s.Close(); err != nil && !errors.Is(err, session.ErrClosed) {
		sc.b.log.Debug("discord: gateway closed", "shard", sc.id, "err", err)
	}
	return nil
}

// session returns the shard's session, nil when closed.
func (sc *shardConn) session() *session.Session {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.sess
}

// held reports whether the shard is open on this node (connected or
// connecting).
func (sc *shardConn) held() bool { return sc.session() != nil }

// wantedShards are the shards this node is meant to hold: opened and not
// closed since, whether or not connecting succeeded.
func (b *Bot) wantedShards() []int {
	var out []int
	for _, sc := range b.shards {
		if sc.wanted.Load() {
			out = append(out, sc.id)
		}
	}
	return out
}

// shardPlan is the shard count and identify limits the bot starts with.
type shardPlan struct {
	count          int
	maxConcurrency int
	startLimit     *api.SessionStartLimit // nil when not asked
}

// planShards resolves Config.ShardCount. Discord is asked (GET
// /gateway/bot) when the count is AutoShards or above one, for its
// max_concurrency and session start limit; one shard never asks, as
// before sharding existed.
func planShards(client *api.Client, cfg Config) (shardPlan, error) {
	p := shardPlan{count: max(cfg.ShardCount, 1), maxConcurrency: 1}
	if cfg.ShardCount != AutoShards && cfg.ShardCount <= 1 {
		return p, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), restTimeout)
	defer cancel()
	data, err := client.WithContext(ctx).BotURL()
	if err == nil && (data == nil || data.StartLimit == nil) {
		err = errors.New("no session_start_limit in the answer")
	}
	if err != nil {
		if cfg.ShardCount == AutoShards {
			return p, fmt.Errorf("discord: asking Discord for the shard count (GET /gateway/bot): %w", err)
		}
		cfg.Logger.Warn("discord: GET /gateway/bot failed; identifying one shard per 5 s", "err", err)
		return p, nil
	}
	if cfg.ShardCount == AutoShards {
		p.count = max(data.Shards, 1)
	}
	p.maxConcurrency = max(data.StartLimit.MaxConcurrency, 1)
	p.startLimit = data.StartLimit
	return p, nil
}

// newShards builds the shard manager and one shardConn per shard.
func (b *Bot) newShards(p shardPlan, id gateway.Identifier) error {
	id.SetShard(0, p.count)
	// Discord's max_concurrency: one IDENTIFY per 5 s in each bucket
	// shard_id % max_concurrency.
	buckets := make([]*rate.Limiter, p.maxConcurrency)
	for i := range buckets {
		buckets[i] = rate.NewLimiter(rate.Every(identifyInterval), 1)
	}
	if p.startLimit != nil {
		// As arikawa's own manager does (shard.updateIdentifier): the
		// session starts left now, the full allowance after reset_after.
		id.IdentifyGlobalLimit.SetBurst(p.startLimit.Remaining)
		id.IdentifyGlobalLimit.SetBurstAt(time.Now().Add(p.startLimit.ResetAfter.Duration()), p.startLimit.Total)
	}
	b.shards = make([]*shardConn, p.count)
	m, err := shard.NewIdentifiedManagerWithURL(b.cfg.GatewayURL, id, func(m *shard.Manager, id *gateway.Identifier) (shard.Shard, error) {
		n := id.Shard.ShardID()
		sc := &shardConn{b: b, id: n, ident: *id}
		sc.ident.IdentifyShortLimit = buckets[n%len(buckets)]
		if b.cfg.FastIdentify {
			sc.ident.IdentifyShortLimit = nil
		}
		if p.count == 1 {
			sc.ident.Shard = nil // one shard identifies as it always did, without the field
		}
		b.shards[n] = sc
		return sc, nil
	})
	if err != nil {
		return err
	}
	b.manager = m
	b.gatewayURL = m.GatewayURL()
	return nil
}

// shardOf returns the shard holding the guild ((guild_id >> 22) %
// count); 0 for an unreadable id.
func (b *Bot) shardOf(guildID string) int {
	id, err := strconv.ParseUint(guildID, 10, 64)
	if err != nil || len(b.shards) <= 1 {
		return 0
	}
	_, n := b.manager.FromGuildID(discord.GuildID(id))
	return n
}

// ShardCount returns how many shards the bot's guilds are split into
// (Discord's num_shards), Config.ShardCount resolved.
func (b *Bot) ShardCount() int { return len(b.shards) }

// OpenShards returns the ids of the shards open on this node (connected
// or connecting), ascending.
func (b *Bot) OpenShards() []int {
	var out []int
	for _, sc := range b.shards {
		if sc.held() {
			out = append(out, sc.id)
		}
	}
	return out
}

// OpenShard connects one shard and returns once it is READY (as Open
// does for the shards it opens); an open shard is left as it is. The
// bot's command workers start with the first shard opened. When it fails
// the shard still counts as meant to be held (Ready is false) until
// CloseShard.
func (b *Bot) OpenShard(ctx context.Context, id int) error {
	if b.closed.Load() {
		return errors.New("discord: bot is closed")
	}
	if id < 0 || id >= len(b.shards) {
		return fmt.Errorf("discord: shard %d does not exist (shard count %d)", id, len(b.shards))
	}
	b.start()
	return b.shards[id].Open(ctx)
}

// CloseShard ends one shard's session at once (close 1000) and forgets
// its guilds' member sync, so Ready and Synced no longer wait for it; the
// hub keeps their members as they were. Closing a closed shard does
// nothing.
func (b *Bot) CloseShard(id int) error {
	if id < 0 || id >= len(b.shards) {
		return fmt.Errorf("discord: shard %d does not exist (shard count %d)", id, len(b.shards))
	}
	sc := b.shards[id]
	sc.opMu.Lock()
	defer sc.opMu.Unlock()
	err := sc.Close() // returns once the session's event loop ended
	b.sync.dropShard(id, b.shardOf)
	b.req.dropShard(id, b.shardOf)
	return err
}

// openShards opens the given shards at once; each waits for its
// max_concurrency bucket. Every shard is marked held before any connects,
// so Ready and Synced wait for all of them.
func (b *Bot) openShards(ctx context.Context, ids []int) error {
	for _, id := range ids {
		if id < 0 || id >= len(b.shards) {
			return fmt.Errorf("discord: shard %d does not exist (shard count %d)", id, len(b.shards))
		}
	}
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	type opening struct {
		sc      *shardConn
		s       *session.Session
		openCtx context.Context
		cancel  context.CancelFunc
	}
	var todo []opening
	for _, id := range ids {
		sc := b.shards[id]
		if s, openCtx, cancel := sc.prepare(ctx); s != nil {
			todo = append(todo, opening{sc, s, openCtx, cancel})
		}
	}
	errs := make([]error, len(todo))
	var wg sync.WaitGroup
	for i, o := range todo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = o.sc.connect(ctx, o.s, o.openCtx, o.cancel)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
