package discord

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/diamondburned/arikawa/v3/gateway"
	"github.com/halyardhq/halyard/core"
)

// commandTimeout bounds one command's handler and its replies.
const commandTimeout = 30 * time.Second

// parsePrefixCommand splits a message the way Lanyard does
// (docs/compat/lanyard.md §6.3): it must start with prefix; exactly one character is
// stripped (whatever the prefix's length) and the rest is split on single
// spaces, so consecutive spaces give empty arguments. The first piece is
// the command name.
func parsePrefixCommand(content, prefix string) (name string, args []string, ok bool) {
	if prefix == "" || !strings.HasPrefix(content, prefix) {
		return "", nil, false
	}
	_, size := utf8.DecodeRuneInString(content)
	parts := strings.Split(content[size:], " ")
	return parts[0], parts[1:], true
}

// onMessage runs a prefix command. Messages from bots (including the
// bot's own replies echoed back) and unknown commands are ignored.
func (b *Bot) onMessage(e *gateway.MessageCreateEvent) {
	if e.Author.Bot || e.Author.ID == b.selfUserID() {
		return
	}
	name, args, ok := parsePrefixCommand(e.Content, b.cfg.Prefix)
	if !ok {
		return
	}
	cmd, ok := b.cfg.Commands.Prefix(name)
	if !ok || cmd.Handler == nil {
		return
	}
	req := core.CommandRequest{
		UserID:    e.Author.ID.String(),
		Username:  e.Author.Username,
		Args:      args,
		InDM:      !e.GuildID.IsValid(),
		ChannelID: e.ChannelID.String(),
		Prefix:    b.cfg.Prefix,
		Monitored: b.hub.IsMonitored(e.Author.ID.String()),
	}
	if e.GuildID.IsValid() {
		req.GuildID = e.GuildID.String()
	}
	author, channel := e.Author.ID, e.ChannelID
	queued := b.workers.submit(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, commandTimeout)
		defer cancel()
		reply := b.run(ctx, cmd, req)
		for _, m := range reply.Messages {
			var err error
			if m.ToDM {
				err = b.sendDM(ctx, author, m)
			} else {
				err = b.send(ctx, channel, m)
			}
			if err != nil {
				b.log.Warn("discord: sending a command reply", "command", cmd.Name, "user", req.UserID, "err", err)
			}
		}
	})
	if !queued {
		b.log.Warn("discord: command queue full, dropping a command", "command", name, "user", req.UserID)
	}
}

// run calls a command's handler, turning a panic into no reply.
func (b *Bot) run(ctx context.Context, cmd core.Command, req core.CommandRequest) (reply core.CommandReply) {
	b.stats.commands.Add(1)
	defer func() {
		if r := recover(); r != nil {
			b.log.Error("discord: command handler panicked", "command", cmd.Name, "panic", r)
			reply = core.CommandReply{}
		}
	}()
	return cmd.Handler(ctx, req)
}
