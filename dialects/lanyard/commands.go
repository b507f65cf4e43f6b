package lanyard

import (
	"context"

	"github.com/halyardhq/halyard/core"
)

// embedColor is Lanyard's blurple (0x5865F2).
const embedColor = 0x5865F2

// Commands returns the Lanyard bot commands this dialect answers
// (docs/compat/lanyard.md §6.4): `.get`, `.set`, `.del`, `.kv`, `.apikey` and
// `.help`, plus the /help slash command listing every dialect's commands.
func (d *Dialect) Commands() []core.Command {
	return []core.Command{
		{Name: "get", Dialect: "lanyard", Syntax: "<key>", Description: "Get the value of a key", Prefix: true, Handler: d.get},
		{Name: "set", Dialect: "lanyard", Syntax: "<key> <value>", Description: "Set a key to a value", Prefix: true, Handler: d.set},
		{Name: "del", Dialect: "lanyard", Syntax: "<key>", Description: "Delete a key", Prefix: true, Handler: d.del},
		{Name: "kv", Dialect: "lanyard", Description: "List all of your current keys", Prefix: true, Handler: d.kv},
		{Name: "apikey", Dialect: "lanyard", Description: "Get (or regenerate) your Lanyard API key, sent via DM", Prefix: true, Handler: d.apikey},
		{Name: "help", Dialect: "lanyard", Description: "List the bot's commands", Prefix: true, Handler: d.help},
		{Name: "help", Dialect: "halyard", Description: "List every command of every dialect", Slash: true, Handler: d.helpAll},
	}
}

// help replies with Lanyard's help embed (docs/compat/lanyard.md §6.4, H1), word
// for word; `.help all` lists every dialect's commands instead.
func (d *Dialect) help(_ context.Context, req core.CommandRequest) core.CommandReply {
	if len(req.Args) > 0 && req.Args[0] == "all" {
		return d.helpAll(context.Background(), req)
	}
	p := d.prefix(req)
	return core.CommandReply{Messages: []core.Message{{Embeds: []core.Embed{{
		Title:       "Lanyard Bot Commands",
		Description: "Store and manage custom data on your Lanyard profile.",
		Color:       embedColor,
		Fields: []core.EmbedField{
			{Name: "`" + p + "get <key>`", Value: "Get the value of a key"},
			{Name: "`" + p + "set <key> <value>`", Value: "Set a key to a value"},
			{Name: "`" + p + "del <key>`", Value: "Delete a key"},
			{Name: "`" + p + "kv`", Value: "List all of your current keys"},
			{Name: "`" + p + "apikey`", Value: "Get (or regenerate) your Lanyard API key, sent via DM"},
			{Name: "Docs & Source", Value: "[API/Socket docs](https://github.com/Phineas/lanyard#readme) · [Source code](https://github.com/Phineas/lanyard)"},
		},
	}}}}}
}

// helpAll lists every registered command of every dialect (`.help all` and
// the /help slash command).
func (d *Dialect) helpAll(_ context.Context, req core.CommandRequest) core.CommandReply {
	p := d.prefix(req)
	embed := core.Embed{Title: "Halyard Bot Commands", Color: embedColor,
		Description: "Every command this bot answers, by dialect."}
	if d.opts.Commands != nil {
		for _, c := range d.opts.Commands.All() {
			name := "/" + c.Name
			if c.Prefix {
				name = p + c.Name
			}
			if c.Syntax != "" {
				name += " " + c.Syntax
			}
			embed.Fields = append(embed.Fields, core.EmbedField{Name: "`" + name + "`", Value: c.Description + " (" + c.Dialect + ")"})
		}
	}
	return core.CommandReply{Messages: []core.Message{{Embeds: []core.Embed{embed}, Ephemeral: true}}}
}

func (d *Dialect) prefix(req core.CommandRequest) string {
	if req.Prefix != "" {
		return req.Prefix
	}
	return d.opts.Prefix
}
