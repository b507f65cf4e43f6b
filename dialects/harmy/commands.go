package harmy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf16"

	"github.com/halyardhq/halyard/core"
)

// harmy's own KV limits (its README), checked before the store-wide rules.
// Lengths are counted as JavaScript counts them (UTF-16 code units), which
// is what a harmy user's client measures.
const (
	MaxKeyLength   = 165
	MaxValueLength = 10000
)

// Commands returns harmy's bot commands: `.add`, `.token` and `.github`,
// each also a slash command. `.del` is Lanyard's (docs/compat/cross-dialect.md §4)
// and not registered here.
func (d *Dialect) Commands() []core.Command {
	keyOpt := core.CommandOption{Name: "key", Description: "The key (letters, digits, _; at most 165)", Type: core.OptionString, Required: true}
	valueOpt := core.CommandOption{Name: "value", Description: "The value (at most 10,000 characters)", Type: core.OptionString, Required: true}
	loginOpt := core.CommandOption{Name: "login", Description: "Your GitHub username; leave empty to unlink", Type: core.OptionString}
	const (
		addDesc    = "Create or replace a key/value pair"
		tokenDesc  = "Get (or reset) your API token, sent by DM"
		githubDesc = "Link a GitHub account to your profile, or unlink it"
	)
	return []core.Command{
		{Name: "add", Dialect: "harmy", Syntax: "<key> <value>", Description: addDesc, Prefix: true, Handler: d.add},
		{Name: "token", Dialect: "harmy", Description: tokenDesc, Prefix: true, Handler: d.token},
		{Name: "github", Dialect: "harmy", Syntax: "[login]", Description: githubDesc, Prefix: true, Handler: d.github},
		{Name: "add", Dialect: "harmy", Description: addDesc, Slash: true, Options: []core.CommandOption{keyOpt, valueOpt}, Handler: d.add},
		{Name: "token", Dialect: "harmy", Description: tokenDesc, Slash: true, Handler: d.token},
		{Name: "github", Dialect: "harmy", Description: githubDesc, Slash: true, Options: []core.CommandOption{loginOpt}, Handler: d.github},
	}
}

// add answers `.add <key> <value…>` and /add: the value is every argument
// after the key joined by single spaces. harmy's limits are checked first,
// then hub.PutKV applies the store-wide rules.
func (d *Dialect) add(ctx context.Context, req core.CommandRequest) core.CommandReply {
	var key, value string
	switch {
	case req.Slash:
		key, value = req.Options["key"], req.Options["value"]
	case len(req.Args) >= 2:
		key, value = req.Args[0], strings.Join(req.Args[1:], " ")
	default:
		return reply(req, fmt.Sprintf("Usage: `%sadd <key> <value>`", d.prefix(req)))
	}
	if !d.monitored(req) {
		return reply(req, core.NotInWatchedGuild)
	}
	if jsLength(key) > MaxKeyLength {
		return reply(req, fmt.Sprintf(":x: key must be %d characters or less", MaxKeyLength))
	}
	if jsLength(value) > MaxValueLength {
		return reply(req, fmt.Sprintf(":x: value must be %d characters or less", MaxValueLength))
	}
	if err := d.opts.Hub.PutKV(ctx, req.UserID, key, value); err != nil {
		return d.writeFailed(req, err)
	}
	return reply(req, fmt.Sprintf(":white_check_mark: Saved `%s`. It is in `KV` of %s/user/%s for requests with your API token (`%stoken`).",
		key, d.externalURL(), req.UserID, d.prefix(req)))
}

// token answers `.token` and /token: a new API token (the previous one
// stops working at once) sent by DM; in a guild channel the channel is
// told where it went. Anyone who can reach the bot may run it, as
// Lanyard's `.apikey`.
func (d *Dialect) token(ctx context.Context, req core.CommandRequest) core.CommandReply {
	tok, err := d.opts.Tokens.Issue(ctx, req.UserID)
	if err != nil {
		logFailure("issuing an API token", req.UserID, err)
		return reply(req, ":x: "+core.ErrorMessage(err))
	}
	dm := core.Message{ToDM: true, Content: fmt.Sprintf(
		"Your API token (any previous one no longer works):\n||`%s`||\n"+
			"Send it as `Authorization: <token>` (or `Bearer <token>`) with `GET %s/user/%s` to see your KV. "+
			"Run `%stoken` again to reset it.", tok, d.externalURL(), req.UserID, d.prefix(req))}
	out := core.CommandReply{Messages: []core.Message{dm}}
	if !req.InDM {
		out.Messages = append(out.Messages, core.Message{Content: "I sent your API token by DM.", Ephemeral: req.Slash})
	}
	return out
}

// writeFailed words a failed KV write: a broken store-wide rule as `:x: `
// and its message, a member who left meanwhile as core.NotInWatchedGuild,
// anything else as a failure (logged when internal).
func (d *Dialect) writeFailed(req core.CommandRequest, err error) core.CommandReply {
	var kvErr *core.KVError
	switch {
	case errors.As(err, &kvErr):
		return reply(req, ":x: "+kvErr.Error())
	case core.ErrorCode(err) == core.ENOTMONITORED:
		return reply(req, core.NotInWatchedGuild)
	}
	logFailure("a KV write", req.UserID, err)
	return reply(req, ":x: "+core.ErrorMessage(err))
}

// reply is one message, ephemeral for a slash command.
func reply(req core.CommandRequest, content string) core.CommandReply {
	return core.CommandReply{Messages: []core.Message{{Content: content, Ephemeral: req.Slash}}}
}

// monitored reports whether the author is in a watched guild, by the
// discord package's word or the hub's (a member who joined since).
func (d *Dialect) monitored(req core.CommandRequest) bool {
	return req.Monitored || d.opts.Hub.IsMonitored(req.UserID)
}

func (d *Dialect) prefix(req core.CommandRequest) string {
	if req.Prefix != "" {
		return req.Prefix
	}
	return d.opts.Prefix
}

func (d *Dialect) externalURL() string { return strings.TrimRight(d.opts.ExternalURL, "/") }

// jsLength is the length of s as JavaScript's String.length counts it.
func jsLength(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// logFailure logs a command that failed on the server's side; database
// outages are already logged by the hub and the store.
func logFailure(what, userID string, err error) {
	if core.ErrorCode(err) == core.EINTERNAL {
		slog.Default().Error("harmy: "+what+" failed", "user", userID, "err", err)
	}
}
