package lanyard

import (
	"context"
	"log/slog"

	"github.com/halyardhq/halyard/core"
)

// apikey answers `.apikey`: only in a DM, where it issues a new key (the
// old one stops working at once) and sends it in embed A1. Anyone who can
// DM the bot may run it, monitored or not.
func (d *Dialect) apikey(ctx context.Context, req core.CommandRequest) core.CommandReply {
	if !req.InDM {
		return core.Reply(replyDMOnly)
	}
	key, err := d.opts.Tokens.Issue(ctx, req.UserID)
	if err != nil {
		logFailure("issuing an API key", req.UserID, err)
		return core.Reply(replyFailure(err))
	}
	return core.CommandReply{Messages: []core.Message{{Embeds: []core.Embed{apiKeyEmbed(key, d.externalURL(), req.UserID)}}}}
}

// guardLeak is Lanyard's key-leak guard for `.get`, `.set` and `.del`
// (docs/compat/lanyard.md §6.3): when any of args is the author's current API
// key, the command is not run. The key is replaced, the channel gets L1
// and the author's DM gets L2 with the new key. leaked reports whether
// the guard fired.
func (d *Dialect) guardLeak(ctx context.Context, req core.CommandRequest, args ...string) (reply core.CommandReply, leaked bool) {
	if d.opts.Tokens == nil || !d.opts.Tokens.HasToken(req.UserID) {
		return core.CommandReply{}, false
	}
	for _, a := range args {
		if a != "" && d.opts.Tokens.IsToken(req.UserID, a) {
			leaked = true
			break
		}
	}
	if !leaked {
		return core.CommandReply{}, false
	}
	key, err := d.opts.Tokens.Issue(ctx, req.UserID)
	if err != nil {
		logFailure("replacing a leaked API key", req.UserID, err)
		return core.Reply(replyLeakRotateFailed(d.prefix(req), err)), true
	}
	return core.CommandReply{Messages: []core.Message{
		{Content: replyLeakWarning},
		{Content: replyLeakNewKey(key), ToDM: true},
	}}, true
}

// logFailure logs a command that failed on the server's side; database
// outages are already logged by the hub and the store.
func logFailure(what, userID string, err error) {
	if core.ErrorCode(err) == core.EINTERNAL {
		commandLog().Error("lanyard: "+what+" failed", "user", userID, "err", err)
	}
}

// commandLog is where the bot commands log.
func commandLog() *slog.Logger { return slog.Default() }
