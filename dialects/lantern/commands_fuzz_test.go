package lantern

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/core/commandtest"
	"github.com/halyardhq/halyard/internal/memstore"
)

// FuzzStorageCommand runs /storage with arbitrary sub-commands and key,
// value and confirm options as one user, in a DM or a guild. Properties:
// no panic; another user's pairs never change; the author's pairs pass the
// store-wide rules; replies fit Discord's 2,000 characters; a reply others
// can see (not ephemeral, not in a DM) never mentions @everyone or @here
// and never holds a token the bot made.
func FuzzStorageCommand(f *testing.F) {
	const author, victim = "100000000000000001", "100000000000000002"
	env := commandtest.NewEnv(f, memstore.New(), author, victim, core.KVOf("secret", "b"))
	d := New(Options{Hub: env.Hub, Tokens: env.Tokens, ExternalURL: "https://halyard.test", CDNURL: "http://127.0.0.1:9"})
	for _, sub := range []string{"create token", "get token", "create data", "update data", "get data", "delete data", "reset", "nope"} {
		f.Add(sub, "mood", "happy", "true", true)
		f.Add(sub, "secret", "@everyone", "false", false)
	}
	f.Add("create data", strings.Repeat("k", 256), "v", "", false)
	f.Add("create data", "k_1", "\xff\xfe", "", true)
	f.Add("update data", victim, strings.Repeat("😀", 15001), "", true)
	f.Add("get data", "\x00", "", "", false)
	f.Fuzz(func(t *testing.T, sub, key, value, confirm string, inDM bool) {
		cmd := d.Commands()[0]
		req := core.CommandRequest{UserID: author, Slash: true, SubCommand: sub, InDM: inDM, Monitored: true,
			Options: map[string]string{"key": key, "value": value, "confirm": confirm}, ChannelID: "c"}
		if !inDM {
			req.GuildID = "g"
		}
		reply := cmd.Handler(context.Background(), req)
		env.CheckKV(t, "/storage "+sub)
		for _, m := range reply.Messages {
			if n := utf8.RuneCountInString(m.Content); n > 2000 {
				t.Fatalf("/storage %s: a %d-character reply", sub, n)
			}
			public := !(m.Ephemeral || m.ToDM || inDM) // seen by others than the author
			if public && (strings.Contains(m.Content, "@everyone") || strings.Contains(m.Content, "@here")) {
				t.Fatalf("/storage %s: reply mentions everyone: %q", sub, m.Content)
			}
			for _, tok := range commandtest.AnyToken.FindAllString(m.Content, -1) {
				if public && !strings.Contains(key+value, tok) {
					t.Fatalf("/storage %s: a token in a public reply: %q", sub, m.Content)
				}
			}
		}
	})
}
