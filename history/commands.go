package history

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/halyardhq/halyard/core"
)

// Commands returns the bot's history commands: `.history on|off|clear`
// (prefix, DMs and channels) and `/history on|off|clear` (slash).
func (r *Recorder) Commands() []core.Command {
	base := core.Command{Name: "history", Dialect: "halyard", Syntax: "on|off|clear",
		Description: "Turn your presence history on or off, or delete it", Handler: r.command}
	prefix, slash := base, base
	prefix.Prefix = true
	slash.Slash = true
	slash.Options = []core.CommandOption{
		{Name: "on", Description: "Start recording your status and activities (anyone can read them)", Type: core.OptionSubCommand},
		{Name: "off", Description: "Stop recording (what was recorded stays until it expires or you clear it)", Type: core.OptionSubCommand},
		{Name: "clear", Description: "Delete everything recorded of your presence history", Type: core.OptionSubCommand},
	}
	return []core.Command{prefix, slash}
}

// command runs one `.history` or `/history`.
func (r *Recorder) command(ctx context.Context, req core.CommandRequest) core.CommandReply {
	sub := req.SubCommand
	if !req.Slash {
		sub = ""
		if len(req.Args) > 0 {
			sub = strings.ToLower(req.Args[0])
		}
	}
	p := req.Prefix
	if p == "" {
		p = r.opts.Prefix
	}
	if req.Slash {
		p = "/"
	}
	days := int(r.opts.Retention / (24 * time.Hour))
	kept := fmt.Sprintf("%d days", days)
	if days < 1 {
		kept = r.opts.Retention.String()
	}
	var text string
	switch sub {
	case "on":
		if !req.Monitored {
			return r.reply(req, core.NotInWatchedGuild)
		}
		if err := r.Enable(ctx, req.UserID); err != nil {
			r.log.Warn("history: turning history on failed", "user", req.UserID, "err", err)
			return r.reply(req, "Could not turn presence history on: "+core.ErrorMessage(err)+".")
		}
		text = fmt.Sprintf("Presence history is **on**. Halyard now records when you are online, idle, on do not disturb or offline, "+
			"and which activities you run, and keeps it for %s. Anyone who knows your id can read it: %s\n"+
			"`%shistory off` stops recording, `%shistory clear` deletes everything recorded.",
			kept, r.userPage(req.UserID), p, p)
	case "off":
		if err := r.Disable(ctx, req.UserID); err != nil {
			r.log.Warn("history: turning history off failed", "user", req.UserID, "err", err)
			return r.reply(req, "Could not turn presence history off: "+core.ErrorMessage(err)+".")
		}
		text = fmt.Sprintf("Presence history is **off**: nothing more is recorded. What was recorded stays until it expires "+
			"(%s) or you run `%shistory clear`.", kept, p)
	case "clear":
		n, err := r.Clear(ctx, req.UserID)
		if err != nil {
			r.log.Warn("history: clearing history failed", "user", req.UserID, "err", err)
			return r.reply(req, "Could not delete your presence history: "+core.ErrorMessage(err)+".")
		}
		text = fmt.Sprintf("Deleted your presence history (%d intervals).", n)
		if r.Enabled(req.UserID) {
			text += fmt.Sprintf(" History is still on: recording starts again now (`%shistory off` stops it).", p)
		}
	default:
		state := "off"
		if r.Enabled(req.UserID) {
			state = "on"
		}
		text = fmt.Sprintf("Presence history is **%s** for you. It is off until you turn it on.\n"+
			"`%shistory on` records your status and activities (kept %s, readable by anyone), "+
			"`%shistory off` stops recording, `%shistory clear` deletes what was recorded.", state, p, kept, p, p)
	}
	return r.reply(req, text)
}

// reply is one message, ephemeral for a slash command in a guild.
func (r *Recorder) reply(req core.CommandRequest, text string) core.CommandReply {
	return core.CommandReply{Messages: []core.Message{{Content: text, Ephemeral: req.Slash && !req.InDM}}}
}

// userPage is the user's page on this server.
func (r *Recorder) userPage(userID string) string {
	return strings.TrimSuffix(r.opts.ExternalURL, "/") + "/u/" + userID
}
