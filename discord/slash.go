package discord

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/diamondburned/arikawa/v3/api"
	"github.com/diamondburned/arikawa/v3/discord"
	"github.com/diamondburned/arikawa/v3/gateway"
	"github.com/diamondburned/arikawa/v3/utils/json/option"
	"github.com/halyardhq/halyard/core"
)

// Replies to a slash command that produced no message in its channel: an
// interaction must always be answered.
const (
	replySentDM    = "Sent you a DM."
	replyDone      = "Done."
	replyUnknown   = "Unknown command."
	replyQueueFull = "Halyard is busy, try again in a moment."
)

// registerSlashCommands overwrites the application's global commands with
// every Slash command registered in Commands. The application id comes
// from READY, which saves the CurrentApplication call.
func (b *Bot) registerSlashCommands(ctx context.Context, appID discord.AppID) error {
	var data []api.CreateCommandData
	for _, c := range b.cfg.Commands.All() {
		if c.Slash {
			data = append(data, slashCommandData(c))
		}
	}
	if len(data) == 0 {
		return nil
	}
	_, err := b.client.WithContext(ctx).BulkOverwriteCommands(appID, data)
	if err == nil {
		b.log.Info("discord: slash commands registered", "count", len(data))
	}
	return err
}

// slashCommandData maps a core command to its registration.
func slashCommandData(c core.Command) api.CreateCommandData {
	d := api.CreateCommandData{Name: strings.ToLower(c.Name), Description: description(c.Description, c.Name)}
	for _, o := range c.Options {
		d.Options = append(d.Options, commandOption(o))
	}
	return d
}

// description returns d, or name when d is empty (Discord requires one).
func description(d, name string) string {
	if d == "" {
		return name
	}
	return d
}

// commandOption maps a core option (or sub-command) to arikawa's.
func commandOption(o core.CommandOption) discord.CommandOption {
	name, desc := strings.ToLower(o.Name), description(o.Description, o.Name)
	switch o.Type {
	case core.OptionSubCommand:
		if isGroup(o) {
			// A sub-command whose options are sub-commands is a group
			// ("/storage create token"); Discord needs it typed as one.
			group := &discord.SubcommandGroupOption{OptionName: name, Description: desc, Required: o.Required}
			for _, so := range o.Options {
				if sub, ok := commandOption(so).(*discord.SubcommandOption); ok {
					group.Subcommands = append(group.Subcommands, sub)
				}
			}
			return group
		}
		sub := &discord.SubcommandOption{OptionName: name, Description: desc, Required: o.Required}
		for _, so := range o.Options {
			if v, ok := commandOption(so).(discord.CommandOptionValue); ok {
				sub.Options = append(sub.Options, v)
			}
		}
		return sub
	case core.OptionInteger:
		return &discord.IntegerOption{OptionName: name, Description: desc, Required: o.Required}
	case core.OptionBoolean:
		return &discord.BooleanOption{OptionName: name, Description: desc, Required: o.Required}
	case core.OptionUser:
		return &discord.UserOption{OptionName: name, Description: desc, Required: o.Required}
	default:
		return &discord.StringOption{OptionName: name, Description: desc, Required: o.Required}
	}
}

// isGroup reports whether a sub-command holds sub-commands.
func isGroup(o core.CommandOption) bool {
	for _, so := range o.Options {
		if so.Type == core.OptionSubCommand {
			return true
		}
	}
	return false
}

// flattenOptions returns the invoked sub-command path ("" for none, "group
// sub" for a group) and the options given to it, by name, as text.
func flattenOptions(opts discord.CommandInteractionOptions) (sub string, out map[string]string) {
	var path []string
	for len(opts) == 1 && (opts[0].Type == discord.SubcommandOptionType || opts[0].Type == discord.SubcommandGroupOptionType) {
		path = append(path, opts[0].Name)
		opts = opts[0].Options
	}
	out = make(map[string]string, len(opts))
	for _, o := range opts {
		out[o.Name] = optionText(o.Value)
	}
	return strings.Join(path, " "), out
}

// optionText is an option value as text: strings unquoted, numbers,
// booleans and snowflakes as Discord wrote them.
func optionText(raw []byte) string {
	if kind(raw) == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	}
	if isNull(raw) {
		return ""
	}
	return strings.TrimSpace(string(raw))
}

// onInteraction runs a slash command and answers the interaction.
func (b *Bot) onInteraction(e *gateway.InteractionCreateEvent) {
	data, ok := e.Data.(*discord.CommandInteraction)
	sender := e.Sender()
	if !ok || sender == nil {
		return
	}
	cmd, found := b.cfg.Commands.Slash(data.Name)
	sub, opts := flattenOptions(data.Options)
	req := core.CommandRequest{
		UserID:     sender.ID.String(),
		Username:   sender.Username,
		Options:    opts,
		SubCommand: sub,
		Slash:      true,
		InDM:       !e.GuildID.IsValid(),
		ChannelID:  e.ChannelID.String(),
		Prefix:     b.cfg.Prefix,
		Monitored:  b.hub.IsMonitored(sender.ID.String()),
	}
	if e.GuildID.IsValid() {
		req.GuildID = e.GuildID.String()
	}
	ev := e.InteractionEvent
	queued := b.workers.submit(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, commandTimeout)
		defer cancel()
		reply := core.CommandReply{Messages: []core.Message{{Content: replyUnknown, Ephemeral: true}}}
		if found && cmd.Handler != nil {
			reply = b.run(ctx, cmd, req)
		}
		b.answer(ctx, &ev, reply)
	})
	if !queued {
		b.log.Warn("discord: command queue full, refusing a slash command", "command", data.Name, "user", req.UserID)
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			b.answer(b.ctx, &ev, core.CommandReply{Messages: []core.Message{{Content: replyQueueFull, Ephemeral: true}}})
		}()
	}
}

// answer sends a slash command's reply: the first channel message as the
// interaction response, the others as follow-ups, and the ToDM ones to the
// user's DM.
func (b *Bot) answer(ctx context.Context, e *discord.InteractionEvent, reply core.CommandReply) {
	var inChannel, toDM []core.Message
	for _, m := range reply.Messages {
		switch {
		case empty(m):
		case m.ToDM:
			toDM = append(toDM, m)
		default:
			inChannel = append(inChannel, m)
		}
	}
	if len(inChannel) == 0 {
		content := replyDone
		if len(toDM) > 0 {
			content = replySentDM
		}
		inChannel = []core.Message{{Content: content, Ephemeral: true}}
	}
	c := b.client.WithContext(ctx)
	resp := api.InteractionResponse{Type: api.MessageInteractionWithSource, Data: interactionData(inChannel[0])}
	if err := c.RespondInteraction(e.ID, e.Token, resp); err != nil {
		b.log.Warn("discord: answering an interaction", "interaction", e.ID, "err", err)
		return
	}
	for _, m := range inChannel[1:] {
		if _, err := c.FollowUpInteraction(e.AppID, e.Token, *interactionData(m)); err != nil {
			b.log.Warn("discord: sending an interaction follow-up", "interaction", e.ID, "err", err)
		}
	}
	if sender := e.Sender(); sender != nil {
		for _, m := range toDM {
			if err := b.sendDM(ctx, sender.ID, m); err != nil {
				b.log.Warn("discord: sending a command reply by DM", "user", sender.ID, "err", err)
			}
		}
	}
}

// interactionData is the response body for m (ephemeral when asked).
func interactionData(m core.Message) *api.InteractionResponseData {
	d := &api.InteractionResponseData{}
	if m.Content != "" {
		d.Content = option.NewNullableString(defuseMentions(m.Content))
	}
	if e := embeds(m.Embeds); len(e) > 0 {
		d.Embeds = &e
	}
	if m.Ephemeral {
		d.Flags = discord.EphemeralMessage
	}
	return d
}
