// Package privacy is the bot's privacy commands: a user hides themselves
// from every dialect and socket (.optout, .optin) or has Halyard delete
// what it keeps about them (.delete-my-data, confirmed with a short code),
// as prefix commands and as one /privacy slash command.
//
// The rule itself — an opted-out user is answered as not monitored
// everywhere — is the hub's (core/hub_optout.go), so that every dialect,
// socket and later feature inherits it; this package is only the commands
// that change it. Deletion goes through the same path as the admin API's
// purge: the token (core.Tokens.Revoke), then Hub.Purge (KV and record,
// and whatever later features hook into it). The opt-out flag survives a
// deletion: it is the one thing kept.
package privacy

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/halyardhq/halyard/core"
)

// DefaultCodeTTL is how long a .delete-my-data confirmation code is valid.
const DefaultCodeTTL = 5 * time.Minute

// Options configures the privacy commands.
type Options struct {
	Hub    *core.Hub
	Tokens *core.Tokens
	// Prefix is the prefix-command prefix, for reply texts when a request
	// does not carry it.
	Prefix string
	Logger *slog.Logger
	// Now returns the current time (tests move it to expire codes);
	// time.Now when nil.
	Now func() time.Time
	// CodeTTL is how long a confirmation code is valid; DefaultCodeTTL
	// when zero.
	CodeTTL time.Duration
}

// Privacy serves the privacy commands.
type Privacy struct {
	opts Options

	mu      sync.Mutex
	pending map[string]pendingDeletion // by user id
}

// pendingDeletion is a .delete-my-data waiting for its confirmation.
type pendingDeletion struct {
	code    string
	expires time.Time
}

// New returns the privacy commands over opts.Hub and opts.Tokens.
func New(opts Options) *Privacy {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.CodeTTL <= 0 {
		opts.CodeTTL = DefaultCodeTTL
	}
	return &Privacy{opts: opts, pending: map[string]pendingDeletion{}}
}

// Dialect is the Dialect of the privacy commands: they belong to no API
// dialect (as /help, which is Halyard's too).
const Dialect = "halyard"

// Slash sub-command names, which are also the prefix command names.
const (
	cmdOptOut = "optout"
	cmdOptIn  = "optin"
	cmdDelete = "delete-my-data"
)

// Commands returns the privacy commands: .optout, .optin and
// .delete-my-data as prefix commands, and /privacy with one sub-command
// each (delete-my-data's optional code option confirms).
func (p *Privacy) Commands() []core.Command {
	codeOpt := core.CommandOption{Name: "code", Description: "The code the first /privacy delete-my-data gave you, to confirm",
		Type: core.OptionString}
	return []core.Command{
		{Name: cmdOptOut, Dialect: Dialect, Description: descOptOut, Prefix: true, Handler: p.prefixOptOut},
		{Name: cmdOptIn, Dialect: Dialect, Description: descOptIn, Prefix: true, Handler: p.prefixOptIn},
		{Name: cmdDelete, Dialect: Dialect, Syntax: "[confirm <code>]", Description: descDelete, Prefix: true, Handler: p.prefixDelete},
		{Name: "privacy", Dialect: Dialect, Syntax: "optout|optin|delete-my-data [code]",
			Description: "Hide yourself from Halyard's APIs, show yourself again, or delete your data", Slash: true,
			Options: []core.CommandOption{
				{Name: cmdOptOut, Description: descOptOut, Type: core.OptionSubCommand},
				{Name: cmdOptIn, Description: descOptIn, Type: core.OptionSubCommand},
				{Name: cmdDelete, Description: descDelete, Type: core.OptionSubCommand, Options: []core.CommandOption{codeOpt}},
			},
			Handler: p.slash},
	}
}

const (
	descOptOut = "Hide your presence and KV from every API and socket"
	descOptIn  = "Show your presence and KV again after an opt-out"
	descDelete = "Delete your KV, API token and record (asks to confirm)"
)

// prefixOptOut serves .optout: no arguments.
func (p *Privacy) prefixOptOut(ctx context.Context, req core.CommandRequest) core.CommandReply {
	if args := words(req.Args); len(args) > 0 {
		return reply(req, noArguments(p.prefix(req)+cmdOptOut))
	}
	return reply(req, p.optOut(ctx, req))
}

// prefixOptIn serves .optin: no arguments.
func (p *Privacy) prefixOptIn(ctx context.Context, req core.CommandRequest) core.CommandReply {
	if args := words(req.Args); len(args) > 0 {
		return reply(req, noArguments(p.prefix(req)+cmdOptIn))
	}
	return reply(req, p.optIn(ctx, req))
}

// prefixDelete serves .delete-my-data (asks) and .delete-my-data confirm
// CODE (deletes).
func (p *Privacy) prefixDelete(ctx context.Context, req core.CommandRequest) core.CommandReply {
	args := words(req.Args)
	switch {
	case len(args) == 0:
		return reply(req, p.askDeletion(req))
	case len(args) == 2 && args[0] == "confirm":
		return reply(req, p.confirmDeletion(ctx, req, args[1]))
	}
	return reply(req, "Usage: `"+p.prefix(req)+cmdDelete+"` to see what would be deleted and get a code, then `"+
		p.prefix(req)+cmdDelete+" confirm <code>` to delete it. Nothing was deleted.")
}

// slash serves /privacy.
func (p *Privacy) slash(ctx context.Context, req core.CommandRequest) core.CommandReply {
	switch req.SubCommand {
	case cmdOptOut:
		return reply(req, p.optOut(ctx, req))
	case cmdOptIn:
		return reply(req, p.optIn(ctx, req))
	case cmdDelete:
		if code, ok := req.Options["code"]; ok && code != "" {
			return reply(req, p.confirmDeletion(ctx, req, code))
		}
		return reply(req, p.askDeletion(req))
	}
	return reply(req, "Unknown /privacy command: use `/privacy optout`, `/privacy optin` or `/privacy delete-my-data`.")
}

// reply is one message, ephemeral for a slash command outside DMs: what a
// user chooses about their privacy is nobody else's business.
func reply(req core.CommandRequest, content string) core.CommandReply {
	return core.CommandReply{Messages: []core.Message{{Content: content, Ephemeral: req.Slash && !req.InDM}}}
}

// words drops the empty arguments that consecutive spaces give.
func words(args []string) []string {
	var out []string
	for _, a := range args {
		if a != "" {
			out = append(out, a)
		}
	}
	return out
}

func noArguments(cmd string) string {
	return "`" + cmd + "` takes no arguments. Nothing changed."
}

// prefix is the prefix of the request, or the configured one.
func (p *Privacy) prefix(req core.CommandRequest) string {
	if req.Prefix != "" {
		return req.Prefix
	}
	return p.opts.Prefix
}

// failure words a store failure; nothing changed, as the hub stores
// before it changes anything.
func (p *Privacy) failure(req core.CommandRequest, what string, err error) string {
	if core.ErrorCode(err) == core.EUNAVAILABLE {
		return "The database is unavailable right now, so nothing changed. Try again in a moment."
	}
	p.opts.Logger.Error("privacy: "+what+" failed", "user", req.UserID, "err", err)
	return "Something went wrong on our side, so nothing changed. Try again later."
}
