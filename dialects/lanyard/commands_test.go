package lanyard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/internal/memstore"
)

// The bot's commands against a real hub and token service (docs/compat/lanyard.md
// §6.4 and §10). The stores are in memory and can be
// switched off to play a database outage.

const (
	member    = "100"
	stranger  = "200"
	extURL    = "https://lanyard.test"
	keyFormat = `^lnyd_[0-9a-f]{32}$`
)

// errDown is the error of the store while it is down.
var errDown = errors.New("connection refused")

type botFixture struct {
	t      *testing.T
	hub    *core.Hub
	tokens *core.Tokens
	store  *memstore.Store
	cmds   *core.Commands
}

// newBot returns the Lanyard commands over a hub where member is
// monitored and stranger is not.
func newBot(t *testing.T, prefix, externalURL string) *botFixture {
	t.Helper()
	store := memstore.New()
	hub := core.NewHub(core.HubOptions{Store: store})
	if err := hub.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hub.Close() })
	tokens, err := core.NewTokens(bytes.Repeat([]byte("k"), 32), store)
	if err != nil {
		t.Fatal(err)
	}
	cmds := &core.Commands{}
	d := New(Options{Hub: hub, Tokens: tokens, ExternalURL: externalURL, Prefix: prefix, Commands: cmds})
	cmds.Register(d.Commands()...)
	hub.UpsertMember("g", core.Member{User: core.DiscordUser{ID: member, Raw: json.RawMessage(`{"id":"100","username":"m"}`)}})
	return &botFixture{t: t, hub: hub, tokens: tokens, store: store, cmds: cmds}
}

// run sends content as user, in a DM or a guild channel, the way discord/
// parses it (one prefix character stripped, split on single spaces).
func (f *botFixture) run(user string, inDM bool, content string) []core.Message {
	f.t.Helper()
	parts := strings.Split(content[1:], " ")
	cmd, ok := f.cmds.Prefix(parts[0])
	if !ok {
		f.t.Fatalf("no command %q", parts[0])
	}
	req := core.CommandRequest{UserID: user, Args: parts[1:], InDM: inDM, Prefix: content[:1],
		Monitored: f.hub.IsMonitored(user), ChannelID: "c"}
	if !inDM {
		req.GuildID = "g"
	}
	return cmd.Handler(context.Background(), req).Messages
}

// text runs a command and returns its one plain reply.
func (f *botFixture) text(user, content string) string {
	f.t.Helper()
	msgs := f.run(user, false, content)
	if len(msgs) != 1 || len(msgs[0].Embeds) != 0 || msgs[0].ToDM {
		f.t.Fatalf("%s: want one plain channel message, got %+v", content, msgs)
	}
	return msgs[0].Content
}

// issue gives user an API key as `.apikey` in a DM does.
func (f *botFixture) issue(user string) string {
	f.t.Helper()
	msgs := f.run(user, true, ".apikey")
	if len(msgs) != 1 || len(msgs[0].Embeds) != 1 {
		f.t.Fatalf(".apikey: %+v", msgs)
	}
	v := msgs[0].Embeds[0].Fields[0].Value
	return strings.TrimSuffix(strings.TrimPrefix(v, "||`"), "`||\n-# *click above to reveal*")
}

func TestBotKVCommands(t *testing.T) {
	f := newBot(t, ".", extURL)

	steps := []struct{ send, want string }{
		{".kv", "*`.get <key>` to get a value*\n*`.del <key>` to delete an existing key*\n*`.set <key> <value>` to set a key*\n\n**Keys:** ```No keys```"},
		{".set k v w", ":white_check_mark: `k` was set. View it with `.get k` or go to https://lanyard.test/v1/users/100"},
		{".get k", ":white_check_mark: Key: `k` | Value: ```v w```"},
		{".set k  two  spaces ", ":white_check_mark: `k` was set. View it with `.get k` or go to https://lanyard.test/v1/users/100"},
		{".get k", ":white_check_mark: Key: `k` | Value: ``` two  spaces ```"},
		{".get missing", ":x: Key missing not found in KV"},
		{".set b `code` @everyone", ":white_check_mark: `b` was set. View it with `.get b` or go to https://lanyard.test/v1/users/100"},
		{".get b", ":white_check_mark: Key: `b` | Value: ```\u0060\u200bcode\u0060\u200b @everyone```"},
		{".set under_score 1", ":white_check_mark: `under_score` was set. View it with `.get under_score` or go to https://lanyard.test/v1/users/100"},
		{".kv ignored args", "*`.get <key>` to get a value*\n*`.del <key>` to delete an existing key*\n*`.set <key> <value>` to set a key*\n\n**Keys:** ```b, k, under_score```"},
		{".del k", ":white_check_mark: Deleted key: `k`"},
		{".del k", ":white_check_mark: Deleted key: `k`"},
		{".del not-a-valid-key", ":white_check_mark: Deleted key: `not-a-valid-key`"},
		{".get k", ":x: Key k not found in KV"},
		{".set a-b v", ":x: key must be alphanumeric (a-zA-Z0-9_)"},
		{".set " + strings.Repeat("k", 256) + " v", ":x: key must be 255 characters or less"},
		{".set v " + strings.Repeat("x", 30001), ":x: value must be 30000 characters or less"},
		{".set v \xff", ":x: value must be valid UTF-8"},
		{".get", "Invalid usage. Example `get` command usage:\n`.get <key>`"},
		{".get a b", "Invalid usage. Example `get` command usage:\n`.get <key>`"},
		{".set", "Invalid usage. Example `set` command usage:\n`.set <key> <value>`"},
		{".set k", "Invalid usage. Example `set` command usage:\n`.set <key> <value>`"},
		{".del", "Invalid usage. Example `del` command usage:\n`.del <key>`"},
		{".del a b", "Invalid usage. Example `del` command usage:\n`.del <key>`"},
		{".get ", ":x: Key  not found in KV"},
	}
	for _, s := range steps {
		if got := f.text(member, s.send); got != s.want {
			t.Fatalf("%q:\n got %q\nwant %q", s.send, got, s.want)
		}
	}
	want := core.KVOf("b", "`code` @everyone", "under_score", "1")
	if got := f.hub.KV(member); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("hub KV %v, want %v", got, want)
	}
	if got := f.store.KV(member); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("stored KV %v, want %v", got, want)
	}
}

func TestBotSetPairLimit(t *testing.T) {
	f := newBot(t, ".", extURL)
	pairs := core.KV{}
	for i := range core.MaxKVPairs {
		pairs.Set(fmt.Sprintf("k%03d", i), "v")
	}
	if err := f.hub.PatchKV(context.Background(), member, pairs); err != nil {
		t.Fatal(err)
	}
	if got := f.text(member, ".set extra v"); got != ":x: request would exceed key limit (512), please delete keys first" {
		t.Fatalf("513th key: %q", got)
	}
	if got := f.text(member, ".set k000 new"); !strings.HasPrefix(got, ":white_check_mark: `k000` was set.") {
		t.Fatalf("overwrite at 512: %q", got)
	}
	// 512 keys of 4 characters do not fit in one message: the list is cut.
	got := f.text(member, ".kv")
	if n := displayLength(got); n > replyLimit {
		t.Fatalf(".kv reply is %d characters", n)
	}
	if !strings.Contains(got, "```k000, k001, ") || !regexp.MustCompile(", … and \\d+ more```$").MatchString(got) {
		t.Fatalf(".kv shortened: %q", got)
	}
}

func TestBotGetTooLong(t *testing.T) {
	f := newBot(t, ".", extURL+"/")
	overhead := displayLength(replyGetFound("k", ""))
	tests := []struct {
		name, value string
		long        bool
	}{
		{"exactly 2000", strings.Repeat("x", replyLimit-overhead), false},
		{"2001", strings.Repeat("x", replyLimit-overhead+1), true},
		// Each @ becomes three characters once defused.
		{"defused @ fits", strings.Repeat("@", (replyLimit-overhead)/3), false},
		{"defused @ too long", strings.Repeat("@", (replyLimit-overhead)/3+1), true},
		// Each backtick gains a zero-width space.
		{"backticks", strings.Repeat("`", (replyLimit-overhead)/2+1), true},
		// Graphemes, not bytes: é as e + combining accent counts one.
		{"graphemes", strings.Repeat("e\u0301", replyLimit-overhead), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := f.hub.PutKV(context.Background(), member, "k", tt.value); err != nil {
				t.Fatal(err)
			}
			got := f.text(member, ".get k")
			wantLong := ":x: The value for `k` is too long to display in Discord.\nView it at https://lanyard.test/v1/users/100"
			if tt.long && got != wantLong {
				t.Fatalf("want G2, got %q…", got[:min(len(got), 80)])
			}
			if !tt.long && !strings.HasPrefix(got, ":white_check_mark: Key: `k` | Value: ```") {
				t.Fatalf("want G1, got %q", got)
			}
		})
	}
}

func TestBotPrefixAndURL(t *testing.T) {
	f := newBot(t, "!", "http://127.0.0.1:4001/")
	if got := f.text(member, "!set k v"); got != ":white_check_mark: `k` was set. View it with `!get k` or go to http://127.0.0.1:4001/v1/users/100" {
		t.Fatalf("S1: %q", got)
	}
	if got := f.text(member, "!get"); got != "Invalid usage. Example `get` command usage:\n`!get <key>`" {
		t.Fatalf("I-get: %q", got)
	}
	if got := f.text(member, "!kv"); !strings.HasPrefix(got, "*`!get <key>` to get a value*\n*`!del <key>`") {
		t.Fatalf("K1: %q", got)
	}
}

func TestBotAPIKey(t *testing.T) {
	f := newBot(t, ".", extURL)

	if got := f.text(member, ".apikey"); got != ":x: You can only perform this command in DMs with me" {
		t.Fatalf("A0: %q", got)
	}
	if f.tokens.HasToken(member) {
		t.Fatal("a key was issued outside a DM")
	}

	msgs := f.run(member, true, ".apikey extra args")
	if len(msgs) != 1 || msgs[0].Content != "" || msgs[0].ToDM || len(msgs[0].Embeds) != 1 {
		t.Fatalf("A1: %+v", msgs)
	}
	e := msgs[0].Embeds[0]
	first := f.issue(member) // the key of a second .apikey; the first one is in e
	keyOfA1 := strings.TrimSuffix(strings.TrimPrefix(e.Fields[0].Value, "||`"), "`||\n-# *click above to reveal*")
	want := core.Embed{
		Title:       "Lanyard API Key",
		Description: "**Absolutely do not share or post this key anywhere, it is a secret key that will allow anyone to manage your Lanyard K/V**\n\n**This key is not to be used in a front-end application/website**\n\nIf you are looking for the public endpoint for your data, you would use your discord user ID like so\nhttps://lanyard.test/v1/users/100",
		Color:       5793266,
		Fields:      []core.EmbedField{{Name: "Key", Value: "||`" + keyOfA1 + "`||\n-# *click above to reveal*", Inline: false}},
		Footer:      "Run this command again if you need to re-generate your key",
	}
	if fmt.Sprintf("%#v", e) != fmt.Sprintf("%#v", want) {
		t.Fatalf("A1 embed:\n got %#v\nwant %#v", e, want)
	}
	for _, k := range []string{keyOfA1, first} {
		if !regexp.MustCompile(keyFormat).MatchString(k) {
			t.Fatalf("key format %q", k)
		}
	}
	if _, err := f.tokens.Verify(keyOfA1); err == nil {
		t.Fatal("the previous key still works after .apikey")
	}
	if u, err := f.tokens.Verify(first); err != nil || u != member {
		t.Fatalf("new key: %q %v", u, err)
	}

	// Anyone who can DM the bot gets a key, monitored or not.
	if k := f.issue(stranger); !f.tokens.IsToken(stranger, k) {
		t.Fatal("stranger's key does not verify")
	}
}

func TestBotLeakGuard(t *testing.T) {
	tests := []struct {
		name string
		send func(key string) string
	}{
		{"get", func(k string) string { return ".get " + k }},
		{"get invalid usage", func(k string) string { return ".get a " + k }},
		{"del", func(k string) string { return ".del " + k }},
		{"del invalid usage", func(k string) string { return ".del " + k + " b" }},
		{"set key", func(k string) string { return ".set " + k + " v" }},
		{"set key alone", func(k string) string { return ".set " + k }},
		{"set value", func(k string) string { return ".set k " + k }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newBot(t, ".", extURL)
			f.hub.PutKV(context.Background(), member, "k", "kept")
			leaked := f.issue(member)
			msgs := f.run(member, false, tt.send(leaked))
			if len(msgs) != 2 {
				t.Fatalf("want L1 and L2, got %+v", msgs)
			}
			if msgs[0].Content != ":x: Whoops, you just posted your API key, this is meant to stay private, regenerating this for you, check your DM" || msgs[0].ToDM {
				t.Fatalf("L1: %+v", msgs[0])
			}
			m := regexp.MustCompile("^:repeat: \\*\\*We've regenerated your api key as you used it in a K/V command.\\*\\*\nYour new Lanyard API key is `(lnyd_[0-9a-f]{32})`\n\n\\*\\*ABSOLUTELY DO NOT SHARE OR POST THIS KEY ANYWHERE IT WILL ALLOW ANYONE TO MANAGE YOUR LANYARD K/V\\*\\*\n\\*Run `.apikey` in this DM if you need to re-generate your key\\*$").
				FindStringSubmatch(msgs[1].Content)
			if m == nil || !msgs[1].ToDM {
				t.Fatalf("L2: %+v", msgs[1])
			}
			if _, err := f.tokens.Verify(leaked); err == nil {
				t.Fatal("the leaked key still works")
			}
			if !f.tokens.IsToken(member, m[1]) {
				t.Fatal("the key in L2 does not work")
			}
			if kv := f.hub.KV(member); kv.Len() != 1 || kv.Value("k") != "kept" {
				t.Fatalf("the command ran: %v", kv)
			}
		})
	}

	t.Run("other users' keys and near misses", func(t *testing.T) {
		f := newBot(t, ".", extURL)
		own := f.issue(member)
		other := f.issue(stranger)
		for _, send := range []string{".get " + other, ".get " + strings.ToUpper(own), ".set k " + own + " more", ".get " + own + "x"} {
			msgs := f.run(member, false, send)
			if len(msgs) == 1 && strings.Contains(msgs[0].Content, "Whoops") {
				t.Fatalf("%q fired the leak guard", send)
			}
		}
		if !f.tokens.IsToken(member, own) {
			t.Fatal("key rotated without a leak")
		}
	})

	t.Run("unmonitored", func(t *testing.T) {
		f := newBot(t, ".", extURL)
		leaked := f.issue(stranger)
		if msgs := f.run(stranger, true, ".set "+leaked+" v"); len(msgs) != 2 || !msgs[1].ToDM {
			t.Fatalf("leak by an unmonitored user: %+v", msgs)
		}
		if f.tokens.IsToken(stranger, leaked) {
			t.Fatal("the leaked key still works")
		}
	})
}

func TestBotUnmonitored(t *testing.T) {
	f := newBot(t, ".", extURL)
	f.hub.UpsertMember("g", core.Member{User: core.DiscordUser{ID: stranger}})
	f.hub.PutKV(context.Background(), stranger, "k", "v")
	f.hub.RemoveMember("g", stranger)
	if f.hub.IsMonitored(stranger) {
		t.Fatal("stranger is still monitored")
	}
	for _, send := range []string{".set k other", ".set new v", ".del k", ".kv"} {
		if got := f.text(stranger, send); got != core.NotInWatchedGuild {
			t.Fatalf("%q: %q", send, got)
		}
	}
	if got := f.text(stranger, ".get k"); got != ":x: Key k not found in KV" {
		t.Fatalf(".get: %q", got)
	}
	if kv := f.hub.KV(stranger); kv.Len() != 1 || kv.Value("k") != "v" {
		t.Fatalf("KV changed: %v", kv)
	}
	// Usage errors come first, as in Lanyard.
	if got := f.text(stranger, ".set k"); !strings.HasPrefix(got, "Invalid usage.") {
		t.Fatalf(".set k: %q", got)
	}
}

func TestBotDatabaseOutage(t *testing.T) {
	f := newBot(t, ".", extURL)
	key := f.issue(member)
	f.hub.PutKV(context.Background(), member, "k", "v")
	f.store.SetDown(errDown)
	const down = ":x: The database is unavailable, try again later."
	for _, send := range []string{".set k other", ".set new v", ".del k"} {
		if got := f.text(member, send); got != down {
			t.Fatalf("%q: %q", send, got)
		}
	}
	if msgs := f.run(member, true, ".apikey"); len(msgs) != 1 || msgs[0].Content != down {
		t.Fatalf(".apikey: %+v", msgs)
	}
	msgs := f.run(member, false, ".get "+key)
	if len(msgs) != 1 || msgs[0].ToDM ||
		msgs[0].Content != ":x: Whoops, you just posted your API key, this is meant to stay private, but I could not regenerate it: The database is unavailable, try again later. Run `.apikey` in a DM with me as soon as you can." {
		t.Fatalf("leak during an outage: %+v", msgs)
	}
	if kv := f.hub.KV(member); kv.Len() != 1 || kv.Value("k") != "v" {
		t.Fatalf("a write went through during the outage: %v", kv)
	}
	f.store.SetDown(nil)
	if got := f.text(member, ".set k v"); !strings.HasPrefix(got, ":white_check_mark:") {
		t.Fatalf("after the outage: %q", got)
	}
}

func TestBotHelpStillListed(t *testing.T) {
	f := newBot(t, ".", extURL)
	for _, name := range []string{"get", "set", "del", "kv", "apikey", "help"} {
		if c, ok := f.cmds.Prefix(name); !ok || c.Dialect != "lanyard" {
			t.Fatalf("prefix command %q not registered", name)
		}
	}
	msgs := f.run(member, false, ".help")
	if len(msgs) != 1 || len(msgs[0].Embeds) != 1 || msgs[0].Embeds[0].Title != "Lanyard Bot Commands" {
		t.Fatalf(".help: %+v", msgs)
	}
}
