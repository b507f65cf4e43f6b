package privacy

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/core/commandtest"
	"github.com/halyardhq/halyard/internal/memstore"
)

// FuzzPrivacyCommands runs arbitrary privacy commands (.optout, .optin,
// .delete-my-data split on single spaces; /privacy with an arbitrary
// sub-command and code) as one user, in a DM or a guild channel.
// Properties: no panic; the victim's KV, token and visibility never
// change; the author's KV and token survive (no input can know the live
// code, which is random); the author is hidden exactly when they opted
// out; replies fit Discord's 2,000 characters and never mention
// @everyone or @here.
func FuzzPrivacyCommands(f *testing.F) {
	env := commandtest.NewEnv(f, memstore.New(), author, victim, core.KVOf("secret", "b"))
	if err := env.Hub.PutKV(context.Background(), author, "mine", "1"); err != nil {
		f.Fatal(err)
	}
	for _, id := range []string{author, victim} {
		if _, err := env.Tokens.Issue(context.Background(), id); err != nil {
			f.Fatal(err)
		}
	}
	p := New(Options{Hub: env.Hub, Tokens: env.Tokens, Prefix: "."})
	for _, s := range []string{"optout", "optin", "delete-my-data", "delete-my-data confirm ABCDEF", "delete-my-data confirm",
		"optout  ", "optin @everyone", "delete-my-data confirm " + strings.Repeat("A", 3000), "delete-my-data confirm \xff\xfe",
		"delete-my-data  confirm  abcdef", "optout " + victim, "delete-my-data " + victim} {
		f.Add(s, "", "", true, false)
		f.Add(s, "", "", false, false)
	}
	f.Add("privacy", "delete-my-data", "ABCDEF", false, true)
	f.Add("privacy", "optout", "", false, true)
	f.Add("privacy", "optin", "@here", true, true)
	f.Add("privacy", "delete-my-data confirm", "\x00", false, true)
	f.Fuzz(func(t *testing.T, content, sub, code string, inDM, slash bool) {
		parts := strings.Split(content, " ")
		req := core.CommandRequest{UserID: author, Args: parts[1:], InDM: inDM, Prefix: ".", Monitored: true, ChannelID: "c", Slash: slash}
		if !inDM {
			req.GuildID = "g"
		}
		if slash {
			req.Args, req.SubCommand, req.Options = nil, sub, map[string]string{"code": code}
		}
		var cmd *core.Command
		for _, c := range p.Commands() {
			if c.Name == parts[0] && c.Slash == slash {
				cmd = &c
			}
		}
		if cmd == nil {
			return
		}
		reply := cmd.Handler(context.Background(), req)
		env.CheckKV(t, content)
		if !env.Tokens.HasToken(victim) || env.Hub.OptedOut(victim) || !env.Hub.IsMonitored(victim) {
			t.Fatalf("%q changed the victim", content)
		}
		if !env.Hub.KV(author).Equal(core.KVOf("mine", "1")) || !env.Tokens.HasToken(author) {
			t.Fatalf("%q deleted the author's data without the code", content)
		}
		if _, served := env.Hub.Get(author); served == env.Hub.OptedOut(author) {
			t.Fatalf("%q: served %v while opted out %v", content, served, env.Hub.OptedOut(author))
		}
		if len(reply.Messages) != 1 {
			t.Fatalf("%q: %d messages", content, len(reply.Messages))
		}
		for _, m := range reply.Messages {
			if n := utf8.RuneCountInString(m.Content); n > 2000 {
				t.Fatalf("%q: a %d-character reply", content, n)
			}
			if strings.Contains(m.Content, "@everyone") || strings.Contains(m.Content, "@here") {
				t.Fatalf("%q: reply mentions everyone: %q", content, m.Content)
			}
		}
	})
}
