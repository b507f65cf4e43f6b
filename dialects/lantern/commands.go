package lantern

import (
	"context"

	"github.com/halyardhq/halyard/core"
)

// Commands returns the Lantern bot commands (docs/compat/lantern.md §7.2): the /storage slash
// command with its sub-command groups, as Lantern declares it.
func (d *Dialect) Commands() []core.Command {
	return []core.Command{{
		Name:        "storage",
		Dialect:     "lantern",
		Syntax:      "create|get|update|delete|list|reset …",
		Description: "Manage your key-value storage and its API token",
		Slash:       true,
		Options:     storageOptions,
		Handler:     d.storage,
	}}
}

// Option builders for the /storage tree.
func sub(name, desc string, opts ...core.CommandOption) core.CommandOption {
	return core.CommandOption{Name: name, Description: desc, Type: core.OptionSubCommand, Options: opts}
}

func text(name, desc string) core.CommandOption {
	return core.CommandOption{Name: name, Description: desc, Type: core.OptionString, Required: true}
}

var (
	keyOption   = text("key", "The key (letters and digits, up to 255)")
	valueOption = text("value", "The value")
)

// storageOptions is /storage's tree (docs/compat/lantern.md §7.2). A sub-command whose options are
// sub-commands is a sub-command group: /storage create token.
var storageOptions = []core.CommandOption{
	sub("create", "Create a token or a key-value pair",
		sub("token", "Create (or replace) your storage API token"),
		sub("data", "Add a key-value pair", keyOption, valueOption)),
	sub("get", "Get your token or a value",
		sub("token", "Explains how to get a token"),
		sub("data", "Get the value of a key", keyOption)),
	sub("update", "Update a key-value pair",
		sub("data", "Set the value of a key", keyOption, valueOption)),
	sub("delete", "Delete a key-value pair",
		sub("data", "Delete a key", keyOption)),
	sub("list", "List every key-value pair"),
	sub("reset", "Delete every key-value pair",
		core.CommandOption{Name: "confirm", Description: "Set to True to delete everything", Type: core.OptionBoolean}),
}

// storage routes /storage to its sub-command. Replies are ephemeral in
// guilds (docs/compat/lantern.md §7.2); the token reply is always.
func (d *Dialect) storage(ctx context.Context, req core.CommandRequest) core.CommandReply {
	if !req.Monitored {
		return d.reply(req, core.NotInWatchedGuild)
	}
	switch req.SubCommand {
	case "create token":
		return d.createToken(ctx, req)
	case "get token":
		return d.reply(req, replyGetToken)
	case "create data", "update data":
		return d.setData(ctx, req)
	case "get data":
		return d.getData(req)
	case "delete data":
		return d.deleteData(ctx, req)
	case "list":
		return d.listData(req)
	case "reset":
		return d.resetData(ctx, req)
	}
	return d.reply(req, replyUnknownSub)
}

// reply is one message, ephemeral unless in a DM.
func (d *Dialect) reply(req core.CommandRequest, content string) core.CommandReply {
	return core.CommandReply{Messages: []core.Message{{Content: content, Ephemeral: !req.InDM}}}
}
