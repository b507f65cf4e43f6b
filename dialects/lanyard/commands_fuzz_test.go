package lanyard

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/core/commandtest"
	"github.com/halyardhq/halyard/internal/memstore"
)

// FuzzBotCommands runs arbitrary prefix-command messages (".set …",
// ".get …", ".del …", ".kv", ".apikey", ".help", split on single spaces as
// the bot splits them) as one user, in a DM or a guild channel.
// Properties: no panic; another user's KV never changes; the author's KV
// always passes the KV rules; every reply fits Discord's 2,000 characters
// and never holds an @everyone or @here mention; an API key the bot made
// is only ever sent to the author's DM, never to a channel (a channel reply
// may only echo text the author typed).
func FuzzBotCommands(f *testing.F) {
	const author, victim = "100", "200"
	env := commandtest.NewEnv(f, memstore.New(), author, victim, core.KVOf("secret", "b", "k", "b"))
	hub := env.Hub
	cmds := &core.Commands{}
	d := New(Options{Hub: hub, Tokens: env.Tokens, ExternalURL: "https://lanyard.test", Prefix: ".", Commands: cmds})
	cmds.Register(d.Commands()...)
	for _, s := range []string{
		"set k v", "set k  two  spaces ", "get k", "del k", "kv", "apikey", "help", "set", "set k", "del a b",
		"set " + victim + " x", "set secret @everyone @here", "get " + strings.Repeat("k", 300),
		"set k " + strings.Repeat("😀", 2100), "set bad-key v", "set k \xff\xfe", "set \x00 v", "get lnyd_" + strings.Repeat("0", 32),
	} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, content string, inDM bool) {
		parts := strings.Split(content, " ")
		cmd, ok := cmds.Prefix(parts[0])
		if !ok {
			return
		}
		req := core.CommandRequest{UserID: author, Args: parts[1:], InDM: inDM, Prefix: ".", Monitored: true, ChannelID: "c"}
		if !inDM {
			req.GuildID = "g"
		}
		reply := cmd.Handler(context.Background(), req)
		env.CheckKV(t, fmt.Sprintf("%q", content))
		for _, m := range reply.Messages {
			texts := commandtest.Texts(m)
			if n := utf8.RuneCountInString(m.Content); n > 2000 {
				t.Fatalf("%q: a %d-character reply", content, n)
			}
			// A mention may only repeat what the author wrote: this
			// message, or a value they stored earlier (".get" shows it; the
			// bot defuses every @ when it sends, in discord/).
			authored := content
			for _, v := range hub.KV(author).All() {
				authored += "\n" + v
			}
			for _, s := range texts {
				for _, mention := range []string{"@everyone", "@here"} {
					if strings.Contains(s, mention) && !strings.Contains(authored, mention) {
						t.Fatalf("%q: reply mentions %s: %q", content, mention, s)
					}
				}
				for _, tok := range commandtest.AnyToken.FindAllString(s, -1) {
					if !(m.ToDM || inDM) && !strings.Contains(content, tok) {
						t.Fatalf("%q: an API key sent to a channel: %q", content, s)
					}
				}
			}
		}
	})
}
