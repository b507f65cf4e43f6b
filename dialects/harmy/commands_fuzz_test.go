package harmy

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

// FuzzBotCommands runs arbitrary harmy commands (.add and .token as prefix
// commands split on single spaces, /add with arbitrary key and value
// options; .github is left out: it calls GitHub) as one user, in a DM or a
// guild channel. Properties: no panic; another user's KV never changes; the
// author's KV always passes the KV rules; replies fit Discord's 2,000
// characters and never mention @everyone or @here; a token the bot made
// only ever goes to the author's DM.
func FuzzBotCommands(f *testing.F) {
	const author, victim = "100", "200"
	env := commandtest.NewEnv(f, memstore.New(), author, victim, core.KVOf("secret", "b"))
	d := New(Options{Hub: env.Hub, Tokens: env.Tokens, ExternalURL: "https://halyard.test", Prefix: "."})
	for _, s := range []string{
		"add location Los Angeles, CA", "add k", "add", "token", "add " + victim + " x", "add k @everyone",
		"add " + strings.Repeat("k", 166) + " v", "add k " + strings.Repeat("😀", 5001), "add bad-key v", "add k \xff\xfe", "add \x00 v",
	} {
		f.Add(s, "", "", true, false)
		f.Add(s, "", "", false, false)
	}
	f.Add("add", "key", "value", true, true)
	f.Add("add", "k", "\xff", false, true)
	f.Add("add", strings.Repeat("a", 200), "@here", false, true)
	f.Fuzz(func(t *testing.T, content, key, value string, inDM, slash bool) {
		parts := strings.Split(content, " ")
		req := core.CommandRequest{UserID: author, Args: parts[1:], InDM: inDM, Prefix: ".", Monitored: true, ChannelID: "c", Slash: slash}
		if !inDM {
			req.GuildID = "g"
		}
		if slash {
			req.Args, req.Options = nil, map[string]string{"key": key, "value": value}
		}
		var cmd *core.Command
		for _, c := range d.Commands() {
			if c.Name == parts[0] && c.Name != "github" && c.Slash == slash {
				cmd = &c
			}
		}
		if cmd == nil {
			return
		}
		reply := cmd.Handler(context.Background(), req)
		env.CheckKV(t, fmt.Sprintf("%q", content))
		typed := content + key + value
		for _, m := range reply.Messages {
			if n := utf8.RuneCountInString(m.Content); n > 2000 {
				t.Fatalf("%q: a %d-character reply", content, n)
			}
			texts := commandtest.Texts(m)
			for _, s := range texts {
				if strings.Contains(s, "@everyone") || strings.Contains(s, "@here") {
					t.Fatalf("%q: reply mentions everyone: %q", content, s)
				}
				for _, tok := range commandtest.AnyToken.FindAllString(s, -1) {
					if !(m.ToDM || inDM || m.Ephemeral) && !strings.Contains(typed, tok) {
						t.Fatalf("%q: a token sent to a channel: %q", content, s)
					}
				}
			}
		}
	})
}
