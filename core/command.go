package core

import (
	"context"
	"sort"
	"strings"
	"sync"
)

// Command is a bot command a dialect declares. discord/ parses messages and
// interactions, routes them here and delivers the replies, so no Discord
// type reaches a dialect.
type Command struct {
	// Name is the command word without prefix or slash ("get", "storage").
	Name string
	// Dialect owns the command ("lanyard", "lantern", "harmy").
	Dialect string
	// Syntax shows the arguments, for help listings ("<key> <value>").
	Syntax string
	// Description is one line for help listings and slash registration.
	Description string
	// Prefix: reachable as a prefix command in DMs and channels.
	Prefix bool
	// Slash: registered as a slash command with these options.
	Slash   bool
	Options []CommandOption
	// Handler runs the command and returns what to send back.
	Handler func(ctx context.Context, req CommandRequest) CommandReply
}

// CommandOption is one option of a slash command (or a sub-command when
// Options is set).
type CommandOption struct {
	Name        string
	Description string
	Type        CommandOptionType
	Required    bool
	Options     []CommandOption // for sub-commands
}

// CommandOptionType is the type of a slash command option.
type CommandOptionType int

// Option types (Discord's numbering).
const (
	OptionSubCommand CommandOptionType = 1
	OptionString     CommandOptionType = 3
	OptionInteger    CommandOptionType = 4
	OptionBoolean    CommandOptionType = 5
	OptionUser       CommandOptionType = 6
)

// CommandRequest is one invocation.
type CommandRequest struct {
	UserID   string
	Username string
	// Args are the prefix command's arguments split on single spaces
	// (consecutive spaces give empty arguments, as Lanyard splits).
	Args []string
	// Options are a slash command's options by name; a sub-command's name is
	// in SubCommand and its options are flattened here.
	Options    map[string]string
	SubCommand string
	Slash      bool
	InDM       bool
	GuildID    string
	ChannelID  string
	Prefix     string // the configured prefix, for reply texts
	// Monitored reports whether the author is in a watched guild.
	Monitored bool
}

// Message is one message the bot sends.
type Message struct {
	Content string
	Embeds  []Embed
	// ToDM sends the message to the author's DM instead of the channel the
	// command came from.
	ToDM bool
	// Ephemeral hides a slash command reply from everyone but the author.
	Ephemeral bool
}

// Embed is a Discord embed, kept to the fields the commands use.
type Embed struct {
	Title       string
	Description string
	Color       int
	Fields      []EmbedField
	Footer      string
}

// EmbedField is one field of an embed.
type EmbedField struct {
	Name   string
	Value  string
	Inline bool
}

// CommandReply is the list of messages to send; empty means no reply.
type CommandReply struct {
	Messages []Message
}

// Reply returns a reply of one plain message.
func Reply(content string) CommandReply {
	return CommandReply{Messages: []Message{{Content: content}}}
}

// Commands is the registry every dialect adds its commands to.
type Commands struct {
	mu   sync.RWMutex
	list []Command
}

// Register adds commands. A later registration of a prefix name already
// taken replaces the earlier one (docs/compat/cross-dialect.md §4 names the winner).
func (c *Commands) Register(cmds ...Command) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cmd := range cmds {
		replaced := false
		for i := range c.list {
			if c.list[i].Name == cmd.Name && c.list[i].Prefix == cmd.Prefix && c.list[i].Slash == cmd.Slash {
				c.list[i] = cmd
				replaced = true
			}
		}
		if !replaced {
			c.list = append(c.list, cmd)
		}
	}
}

// Prefix returns the prefix command with that name (case-sensitive).
func (c *Commands) Prefix(name string) (Command, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, cmd := range c.list {
		if cmd.Prefix && cmd.Name == name {
			return cmd, true
		}
	}
	return Command{}, false
}

// Slash returns the slash command with that name.
func (c *Commands) Slash(name string) (Command, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, cmd := range c.list {
		if cmd.Slash && strings.EqualFold(cmd.Name, name) {
			return cmd, true
		}
	}
	return Command{}, false
}

// All returns every command, sorted by dialect then name.
func (c *Commands) All() []Command {
	c.mu.RLock()
	out := append([]Command(nil), c.list...)
	c.mu.RUnlock()
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Dialect != out[j].Dialect {
			return out[i].Dialect < out[j].Dialect
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// NotInWatchedGuild is the reply to a command from a user who is in no
// watched guild, or who opted out and is therefore answered as such
// (docs/compat/cross-dialect.md §4, §9).
const NotInWatchedGuild = "You are not in a server this bot watches (or you opted out), so Halyard has no presence or KV for you."
