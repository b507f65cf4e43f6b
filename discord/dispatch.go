package discord

import (
	"errors"
	"fmt"
	"strings"

	"github.com/diamondburned/arikawa/v3/discord"
	"github.com/diamondburned/arikawa/v3/gateway"
	"github.com/diamondburned/arikawa/v3/utils/ws"
)

// handle receives every gateway event, in order, on arikawa's event loop.
// Presence work happens right here so a user's updates are never
// reordered; commands are handed to the worker pool. It must not call
// Session methods that take the session's lock (GatewayOpts, SendGateway,
// …): Open holds that lock until READY, and Close until this loop ends.
func (b *Bot) handle(ev any) {
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
		if b.hellos.Add(1) > 1 {
			b.stats.reconnects.Add(1)
		}
		b.connected.Store(false)
	case *gateway.ReadyEvent:
		b.onReady(e)
	case *gateway.ResumedEvent:
		b.stats.resumes.Add(1)
		b.connected.Store(true)
		b.onResumed()
	case *gateway.ReconnectEvent, *gateway.InvalidSessionEvent:
		b.connected.Store(false)
	case *ws.CloseEvent:
		b.connected.Store(false)
		if gateway.DefaultGatewayOpts.ErrorIsFatalClose(e) {
			b.log.Error("discord: gateway refused the bot", "code", e.Code, "err", e.Err)
		} else if !b.closed.Load() {
			b.log.Info("discord: gateway connection closed, reconnecting", "code", e.Code, "err", e.Err)
		}
	case *ws.BackgroundErrorEvent:
		b.onBackgroundError(e)
	case *rawGuildCreate:
		err = b.onGuildCreate(e.raw)
	case *rawGuildDelete:
		err = b.onGuildDelete(e.raw)
	case *rawMembersChunk:
		err = b.onMembersChunk(e.raw)
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

func (b *Bot) onReady(e *gateway.ReadyEvent) {
	b.stats.identifies.Add(1)
	b.appID.Store(uint64(e.Application.ID))
	b.selfID.Store(uint64(e.User.ID))
	var guilds []string
	for _, g := range e.Guilds {
		if id := g.ID.String(); b.watched(id) {
			guilds = append(guilds, id)
		}
	}
	b.sync.onReady(guilds)
	b.connected.Store(true)
	b.noteSynced()
	b.req.poke()
	b.log.Info("discord: ready", "user", e.User.Username, "guilds", len(e.Guilds), "watched", len(guilds))
	if !b.slashDone.Load() {
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
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
func (b *Bot) onResumed() {
	for g, nonce := range b.sync.unfinished() {
		b.req.requestAll(g, nonce)
	}
	b.req.poke()
}

// onBackgroundError sorts arikawa's background errors: a dispatch it could
// not decode is a decode error; unknown dispatch types and connection
// trouble are only logged.
func (b *Bot) onBackgroundError(e *ws.BackgroundErrorEvent) {
	var unknown ws.UnknownEventError
	switch msg := e.Err.Error(); {
	case errors.As(e.Err, &unknown):
		b.log.Debug("discord: ignoring unknown gateway event", "op", int(unknown.Op), "event", string(unknown.Type))
	case strings.HasPrefix(msg, "cannot unmarshal JSON event"):
		b.stats.decodeErrors.Add(1)
		b.log.Warn("discord: malformed gateway event", "err", e.Err)
	case strings.Contains(msg, "heartbeat timed out"):
		b.connected.Store(false)
		b.log.Warn("discord: gateway heartbeat timed out, reconnecting")
	default:
		b.log.Debug("discord: gateway error", "err", e.Err)
	}
}

// selfUserID returns the bot's own user id (zero before READY).
func (b *Bot) selfUserID() discord.UserID { return discord.UserID(b.selfID.Load()) }
