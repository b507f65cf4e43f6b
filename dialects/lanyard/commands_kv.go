package lanyard

import (
	"context"
	"errors"
	"strings"

	"github.com/halyardhq/halyard/core"
)

// get answers `.get <key>` (docs/compat/lanyard.md §6.4): G1, G2 when G1 would
// not fit in a message, G3 when the key is absent or the author is not
// monitored.
func (d *Dialect) get(ctx context.Context, req core.CommandRequest) core.CommandReply {
	if reply, leaked := d.guardLeak(ctx, req, req.Args...); leaked {
		return reply
	}
	p := d.prefix(req)
	if len(req.Args) != 1 {
		return core.Reply(replyUsage("get", p, "get <key>"))
	}
	key := req.Args[0]
	if !d.monitored(req) {
		return core.Reply(replyGetMissing(key))
	}
	value, ok := d.opts.Hub.KV(req.UserID).Get(key)
	if !ok {
		return core.Reply(replyGetMissing(key))
	}
	text := replyGetFound(key, value)
	if displayLength(text) > replyLimit {
		text = replyGetTooLong(key, d.externalURL(), req.UserID)
	}
	return core.Reply(text)
}

// set answers `.set <key> <value…>`: the value is every argument after the
// key joined by single spaces. A broken KV rule is answered with Lanyard's
// PUT wording.
func (d *Dialect) set(ctx context.Context, req core.CommandRequest) core.CommandReply {
	var key, value string
	if len(req.Args) > 0 {
		key, value = req.Args[0], strings.Join(req.Args[1:], " ")
	}
	if reply, leaked := d.guardLeak(ctx, req, key, value); leaked {
		return reply
	}
	p := d.prefix(req)
	if len(req.Args) < 2 {
		return core.Reply(replyUsage("set", p, "set <key> <value>"))
	}
	if !d.monitored(req) {
		return core.Reply(core.NotInWatchedGuild)
	}
	if err := d.opts.Hub.PutKV(ctx, req.UserID, key, value); err != nil {
		return d.writeFailed(req.UserID, err)
	}
	return core.Reply(replySet(key, p, d.externalURL(), req.UserID))
}

// del answers `.del <key>`: no key validation, and deleting an absent key
// succeeds.
func (d *Dialect) del(ctx context.Context, req core.CommandRequest) core.CommandReply {
	if reply, leaked := d.guardLeak(ctx, req, req.Args...); leaked {
		return reply
	}
	if len(req.Args) != 1 {
		return core.Reply(replyUsage("del", d.prefix(req), "del <key>"))
	}
	if !d.monitored(req) {
		return core.Reply(core.NotInWatchedGuild)
	}
	key := req.Args[0]
	if err := d.opts.Hub.DeleteKV(ctx, req.UserID, key); err != nil {
		return d.writeFailed(req.UserID, err)
	}
	return core.Reply(replyDeleted(key))
}

// kv answers `.kv` with the author's keys in sorted order; arguments are
// ignored.
func (d *Dialect) kv(_ context.Context, req core.CommandRequest) core.CommandReply {
	if !d.monitored(req) {
		return core.Reply(core.NotInWatchedGuild)
	}
	p := d.prefix(req)
	keys := d.opts.Hub.KV(req.UserID).SortedKeys()
	text := replyKeys(p, keys)
	if displayLength(text) > replyLimit {
		text = replyKeysShortened(p, keys)
	}
	return core.Reply(text)
}

// writeFailed words a failed KV write: a broken rule as `:x: ` and
// Lanyard's message, a user who left the guilds meanwhile as
// core.NotInWatchedGuild, anything else as a server failure.
func (d *Dialect) writeFailed(userID string, err error) core.CommandReply {
	var kvErr *core.KVError
	switch {
	case errors.As(err, &kvErr):
		return core.Reply(":x: " + kvErr.Error())
	case core.ErrorCode(err) == core.ENOTMONITORED:
		return core.Reply(core.NotInWatchedGuild)
	}
	logFailure("a KV write", userID, err)
	return core.Reply(replyFailure(err))
}

// monitored reports whether the author is in a watched guild, by the
// discord package's word or the hub's (a member who joined since).
func (d *Dialect) monitored(req core.CommandRequest) bool {
	return req.Monitored || d.opts.Hub.IsMonitored(req.UserID)
}

// externalURL is U of the reply texts, without a trailing slash.
func (d *Dialect) externalURL() string {
	return strings.TrimRight(d.opts.ExternalURL, "/")
}
