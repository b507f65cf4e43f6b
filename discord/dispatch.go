package discord

import (
	"errors"
	"fmt"
	"strings"

	"github.com/diamondburned/arikawa/v3/discord"
	"github.com/diamondburned/arikawa/v3/gateway"
	"github.com/diamondburned/arikawa/v3/utils/ws"
)

// handle handles an event of shard 0 (tests feed events through it).
func (b *Bot) handle(ev any) { b.handleOn(b.shards[0], ev) }

// handleOn receives every gateway event of a shard, in order, on that
// shard's arikawa event loop. Presence work happens right here so a
// user's updates on a shard are never reordered (a user in guilds on two
// shards gets one update per guild, each in its shard's order, as from
// Discord); commands are handed to the worker pool. It must not call
// Session methods that take the session's lock (GatewayOpts, SendGateway,
// …): Open holds that lock until READY, and Close until this loop ends.
func (b *Bot) handleOn(sc *shardConn, ev any) {
	defer func() {
		if r := recover(); r != nil {
			b.stats.decodeErrors.Add(1)
			b.log.Error("discord: panic while handling a gateway event", "event", fmt.Sprintf("%T", ev), "panic", r)
		}
	}()
	if e, ok := ev.(ws.Event); ok && e.Op() == 0 {
		b.stats.dispatches.Add(1)
	}
	var err error
	switch e := ev.(type) {
	case *gateway.HelloEvent:
		if sc.hellos.Add(1) > 1 {
			b.stats.reconnects.Add(1)
		}
		sc.connected.Store(false)
	case *gateway.ReadyEvent:
		b.onReady(sc, e)
	case *gateway.ResumedEvent:
		b.stats.resumes.Add(1)
		sc.connected.Store(true)
		b.onResumed(sc)
	case *gateway.ReconnectEvent, *gateway.InvalidSessionEvent:
		sc.connected.Store(false)
	case *ws.CloseEvent:
		sc.connected.Store(false)
		if gateway.DefaultGatewayOpts.ErrorIsFatalClose(e) {
			b.log.Error("discord: gateway refused the bot", "shard", sc.id, "code", e.Code, "err", e.Err)
		} else if !b.closed.Load() && !sc.closing.Load() {
			b.log.Info("discord: gateway connection closed, reconnecting", "shard", sc.id, "code", e.Code, "err", e.Err)
		}
	case *ws.BackgroundErrorEvent:
		b.onBackgroundError(sc, e)
	case *rawGuildCreate:
		err = b.onGuildCreate(e.raw)
	case *rawGuildDelete:
		err = b.onGuildDelete(e.raw)
	case *rawMembersChunk:
		err = b.onMembersChunk(e.chunk())
	case *rawMemberAdd:
		err = b.onMemberAdd(e.raw)
	case *rawMemberUpdate:
		err = b.onMemberUpdate(e.raw)
	case *rawMemberRemove:
		err = b.onMemberRemove(e.raw)
	case *rawPresenceUpdate:
		err = b.onPresenceUpdate(e.raw)
	case *rawRateLimited:
		err = b.onRateLimited(e.raw)
	case *gateway.MessageCreateEvent:
		b.onMessage(e)
	case *gateway.InteractionCreateEvent:
		b.onInteraction(e)
	}
	if err != nil {
		b.decodeError(ev.(ws.Event).EventType(), err)
	}
}

// decodeError counts and logs an event that could not be read.
func (b *Bot) decodeError(t ws.EventType, err error) {
	b.stats.decodeErrors.Add(1)
	b.log.Warn("discord: malformed gateway event", "event", string(t), "err", err)
}

func (b *Bot) onReady(sc *shardConn, e *gateway.ReadyEvent) {
	b.stats.identifies.Add(1)
	b.appID.Store(uint64(e.Application.ID))
	b.selfID.Store(uint64(e.User.ID))
	var guilds []string
	for _, g := range e.Guilds {
		if id := g.ID.String(); b.watched(id) {
			guilds = append(guilds, id)
		}
	}
	b.sync.onReady(sc.id, guilds)
	sc.connected.Store(true)
	b.noteSynced()
	b.req.poke()
	b.log.Info("discord: ready", "shard", sc.id, "shards", len(b.shards), "user", e.User.Username,
		"guilds", len(e.Guilds), "watched", len(guilds))
	// Commands are registered once per process, by the first shard READY.
	if !b.slashDone.Load() && b.slashBusy.CompareAndSwap(false, true) {
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			defer b.slashBusy.Store(false)
			if err := b.registerSlashCommands(b.ctx, e.Application.ID); err != nil {
				b.log.Error("discord: registering slash commands", "err", err)
				return
			}
			b.slashDone.Store(true)
		}()
	}
}

// onResumed re-sends the all-members requests still waiting for chunks:
// one sent just before the connection dropped may have been lost. Chunks
// of a request that did arrive are replayed and finish it first; the
// duplicate then gets a RATE_LIMITED, which is ignored.
func (b *Bot) onResumed(sc *shardConn) {
	for g, nonce := range b.sync.unfinished() {
		if b.shardOf(g) == sc.id {
			b.req.requestAll(g, nonce)
		}
	}
	b.req.poke()
}

// onBackgroundError sorts arikawa's background errors: a dispatch it could
// not decode is a decode error; unknown dispatch types and connection
// trouble are only logged.
func (b *Bot) onBackgroundError(sc *shardConn, e *ws.BackgroundErrorEvent) {
	var unknown ws.UnknownEventError
	switch msg := e.Err.Error(); {
	case errors.As(e.Err, &unknown):
		b.log.Debug("discord: ignoring unknown gateway event", "op", int(unknown.Op), "event", string(unknown.Type))
	case strings.HasPrefix(msg, "cannot unmarshal JSON event"):
		b.stats.decodeErrors.Add(1)
		b.log.Warn("discord: malformed gateway event", "err", e.Err)
	case strings.Contains(msg, "heartbeat timed out"):
		sc.connected.Store(false)
		b.log.Warn("discord: gateway heartbeat timed out, reconnecting", "shard", sc.id)
	default:
		b.log.Debug("discord: gateway error", "err", e.Err)
	}
}

// selfUserID returns the bot's own user id (zero before READY).
func (b *Bot) selfUserID() discord.UserID { return discord.UserID(b.selfID.Load()) }
