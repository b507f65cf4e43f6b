package harmy

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
)

// botFixture runs harmy's command handlers directly on a real hub.
type botFixture struct {
	t *testing.T
	s *harmyServer
	g *gitHubStandIn
}

func newBotFixture(t *testing.T) *botFixture {
	g := newGitHubStandIn(t)
	s := startHarmy(t, Options{GitHub: newGitHubCache(t, g, time.Now, time.Second), ExternalURL: "https://halyard.example/"}, nil)
	s.member("1", "", "", "", nil)
	return &botFixture{t: t, s: s, g: g}
}

// run calls the named command (prefix unless slash) as user 1.
func (f *botFixture) run(name string, req core.CommandRequest) []core.Message {
	f.t.Helper()
	if req.UserID == "" {
		req.UserID = "1"
	}
	req.Monitored = req.Monitored || f.s.hub.IsMonitored(req.UserID)
	for _, c := range f.s.dialect.Commands() {
		if c.Name == name && c.Slash == req.Slash {
			return c.Handler(context.Background(), req).Messages
		}
	}
	f.t.Fatalf("no command %s", name)
	return nil
}

// text runs a prefix command from a DM and returns its one reply.
func (f *botFixture) text(name string, args ...string) string {
	f.t.Helper()
	msgs := f.run(name, core.CommandRequest{Args: args, InDM: true, Prefix: "."})
	if len(msgs) != 1 {
		f.t.Fatalf(".%s: %d messages", name, len(msgs))
	}
	return msgs[0].Content
}

func TestCommandsDeclared(t *testing.T) {
	f := newBotFixture(t)
	seen := map[string]bool{}
	for _, c := range f.s.dialect.Commands() {
		if c.Dialect != "harmy" || c.Handler == nil || c.Description == "" || c.Prefix == c.Slash {
			t.Fatalf("bad command %+v", c)
		}
		kind := "."
		if c.Slash {
			kind = "/"
		}
		seen[kind+c.Name] = true
		if c.Name == "del" {
			t.Fatal(".del is Lanyard's")
		}
		if c.Slash && c.Name == "add" && (len(c.Options) != 2 || !c.Options[0].Required || !c.Options[1].Required) {
			t.Fatalf("/add options %+v", c.Options)
		}
		if c.Slash && c.Name == "github" && (len(c.Options) != 1 || c.Options[0].Required) {
			t.Fatalf("/github options %+v", c.Options)
		}
	}
	for _, want := range []string{".add", ".token", ".github", "/add", "/token", "/github"} {
		if !seen[want] {
			t.Fatalf("missing %s", want)
		}
	}
}

func TestAddCommand(t *testing.T) {
	f := newBotFixture(t)
	kv := func() core.KV { return f.s.hub.KV("1") }
	long := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name  string
		args  []string
		reply string // prefix of the reply
		check func(core.KV) bool
	}{
		{"usage, nothing", nil, "Usage: `.add <key> <value>`", nil},
		{"usage, key only", []string{"k"}, "Usage: `.add <key> <value>`", nil},
		{"value joined by spaces", []string{"greeting", "hello", "", "world"}, ":white_check_mark: Saved `greeting`.",
			func(kv core.KV) bool { return kv.Value("greeting") == "hello  world" }},
		{"replace", []string{"greeting", "bye"}, ":white_check_mark:", func(kv core.KV) bool { return kv.Value("greeting") == "bye" }},
		{"empty value", []string{"empty", ""}, ":white_check_mark:", func(kv core.KV) bool { v, ok := kv.Get("empty"); return ok && v == "" }},
		{"key of 165", []string{long(165), "v"}, ":white_check_mark:", func(kv core.KV) bool { return kv.Value(long(165)) == "v" }},
		{"key of 166", []string{long(166), "v"}, ":x: key must be 165 characters or less", func(kv core.KV) bool { _, ok := kv.Get(long(166)); return !ok }},
		{"value of 10000", []string{"big", long(10000)}, ":white_check_mark:", func(kv core.KV) bool { return len(kv.Value("big")) == 10000 }},
		{"value of 10001", []string{"big2", long(10001)}, ":x: value must be 10000 characters or less", func(kv core.KV) bool { _, ok := kv.Get("big2"); return !ok }},
		{"astral characters count twice", []string{"emoji", strings.Repeat("😀", 5001)}, ":x: value must be 10000 characters or less", nil},
		{"astral within limit", []string{"emoji", strings.Repeat("😀", 5000)}, ":white_check_mark:", nil},
		{"store-wide key rule", []string{"a-b", "v"}, ":x: key must be alphanumeric (a-zA-Z0-9_)", func(kv core.KV) bool { _, ok := kv.Get("a-b"); return !ok }},
		{"store-wide UTF-8 rule", []string{"bad", "\xff"}, ":x: value must be valid UTF-8", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := f.text("add", tt.args...)
			if !strings.HasPrefix(got, tt.reply) {
				t.Fatalf("reply %q, want %q…", got, tt.reply)
			}
			if tt.check != nil && !tt.check(kv()) {
				t.Fatalf("KV after: %v", kv())
			}
		})
	}
	if got := f.text("add", "k", "v"); !strings.Contains(got, "https://halyard.example/user/1") {
		t.Fatalf("reply names the route: %q", got)
	}

	// The store-wide pair limit.
	pairs := core.KV{}
	for i := kv().Len(); i < core.MaxKVPairs; i++ {
		pairs.Set(fmt.Sprintf("p%d", i), "v")
	}
	if err := f.s.hub.PatchKV(context.Background(), "1", pairs); err != nil {
		t.Fatal(err)
	}
	if got := f.text("add", "onemore", "v"); got != ":x: request would exceed key limit (512), please delete keys first" {
		t.Fatalf("pair limit: %q", got)
	}

	// The slash twin, answered only to its author.
	msgs := f.run("add", core.CommandRequest{Slash: true, GuildID: "g", Options: map[string]string{"key": "greeting", "value": "from slash"}})
	if len(msgs) != 1 || !msgs[0].Ephemeral || !strings.HasPrefix(msgs[0].Content, ":white_check_mark:") || kv().Value("greeting") != "from slash" {
		t.Fatalf("/add: %+v %v", msgs, kv().Value("greeting"))
	}

	// An author in no watched guild.
	msgs = f.run("add", core.CommandRequest{UserID: "999", Args: []string{"k", "v"}, InDM: true})
	if len(msgs) != 1 || msgs[0].Content != core.NotInWatchedGuild || f.s.hub.KV("999").Len() != 0 {
		t.Fatalf("unmonitored: %+v", msgs)
	}
}

func TestTokenCommand(t *testing.T) {
	f := newBotFixture(t)
	// In a DM: one message, the token.
	msgs := f.run("token", core.CommandRequest{InDM: true, Prefix: "."})
	if len(msgs) != 1 || !msgs[0].ToDM {
		t.Fatalf("DM: %+v", msgs)
	}
	first := tokenIn(t, msgs[0].Content)
	if owner, err := f.s.tokens.Verify(first); err != nil || owner != "1" {
		t.Fatalf("token does not verify: %v", err)
	}
	if !strings.Contains(msgs[0].Content, "https://halyard.example/user/1") || !strings.Contains(msgs[0].Content, "`.token`") {
		t.Fatalf("DM text: %q", msgs[0].Content)
	}
	// In a guild channel: the token by DM, a note in the channel; the old token is revoked.
	msgs = f.run("token", core.CommandRequest{GuildID: "g", ChannelID: "c"})
	if len(msgs) != 2 || !msgs[0].ToDM || msgs[1].ToDM || strings.Contains(msgs[1].Content, "lnyd_") || msgs[1].Content != "I sent your API token by DM." {
		t.Fatalf("guild: %+v", msgs)
	}
	second := tokenIn(t, msgs[0].Content)
	if _, err := f.s.tokens.Verify(first); err == nil {
		t.Fatal("old token still valid")
	}
	resp, body := f.s.get(t, "/user/1", auth(first))
	assertError(t, resp, body, 401)
	if resp, _ := f.s.get(t, "/user/1", auth(second)); resp.StatusCode != 200 {
		t.Fatalf("new token: %d", resp.StatusCode)
	}
	// The slash twin in a guild: an ephemeral note.
	msgs = f.run("token", core.CommandRequest{Slash: true, GuildID: "g"})
	if len(msgs) != 2 || !msgs[0].ToDM || !msgs[1].Ephemeral {
		t.Fatalf("/token: %+v", msgs)
	}
}

func tokenIn(t *testing.T, s string) string {
	t.Helper()
	i := strings.Index(s, "lnyd_")
	if i < 0 || len(s) < i+37 || !core.LooksLikeToken(s[i:i+37]) {
		t.Fatalf("no token in %q", s)
	}
	return s[i : i+37]
}

func TestGitHubCommand(t *testing.T) {
	f := newBotFixture(t)
	login := func() string { r, _ := f.s.hub.Record("1"); return r.GitHubLogin }

	if got := f.text("github"); got != "No GitHub account is linked." {
		t.Fatalf("unlink with none: %q", got)
	}
	for _, bad := range []string{"-x", "a_b", "x--y", strings.Repeat("a", 40), "<@123>"} {
		if got := f.text("github", bad); !strings.HasPrefix(got, ":x: That is not a GitHub username") || login() != "" {
			t.Fatalf("%q: %q", bad, got)
		}
	}
	if got := f.text("github", "a", "b"); !strings.HasPrefix(got, "Usage:") {
		t.Fatalf("two args: %q", got)
	}
	// Linked with GitHub's spelling of the login; the profile is served at once.
	if got := f.text("github", "VaQQQ"); !strings.HasPrefix(got, ":white_check_mark: Linked GitHub account `vaqqq`") || login() != "vaqqq" {
		t.Fatalf("link: %q, %q", got, login())
	}
	if got := githubField(t, f.s, "1"); got != vaqqqProfile {
		t.Fatalf("profile: %s", got)
	}
	// A login GitHub does not know is refused and the link kept as it was.
	f.g.set("404")
	if got := f.text("github", "nosuchuser"); got != ":x: GitHub has no user `nosuchuser`; nothing was linked." || login() != "vaqqq" {
		t.Fatalf("404: %q, %q", got, login())
	}
	// GitHub down or rate limited: linked unconfirmed, profile later.
	for _, mode := range []string{"5xx", "ratelimit"} {
		f.g.set(mode)
		if got := f.text("github", "later-"+mode[:1]); !strings.Contains(got, "GitHub cannot be reached right now") || login() != "later-"+mode[:1] {
			t.Fatalf("%s: %q, %q", mode, got, login())
		}
	}
	// Unlink.
	if got := f.text("github"); got != ":white_check_mark: Unlinked GitHub account `later-r`." || login() != "" {
		t.Fatalf("unlink: %q", got)
	}
	if got := githubField(t, f.s, "1"); got != "null" {
		t.Fatalf("after unlink: %s", got)
	}
	// An author in no watched guild cannot link.
	msgs := f.run("github", core.CommandRequest{UserID: "999", Args: []string{"vaqqq"}, InDM: true})
	if msgs[0].Content != core.NotInWatchedGuild {
		t.Fatalf("unmonitored: %+v", msgs)
	}
}

func TestGitHubSlashCommand(t *testing.T) {
	f := newBotFixture(t)
	msgs := f.run("github", core.CommandRequest{Slash: true, Options: map[string]string{"login": "vaqqq"}})
	if len(msgs) != 1 || !msgs[0].Ephemeral || !strings.HasPrefix(msgs[0].Content, ":white_check_mark: Linked") {
		t.Fatalf("/github login: %+v", msgs)
	}
	msgs = f.run("github", core.CommandRequest{Slash: true, Options: map[string]string{}})
	if !strings.HasPrefix(msgs[0].Content, ":white_check_mark: Unlinked") {
		t.Fatalf("/github: %+v", msgs)
	}
}

func TestGitHubCommandWithoutCache(t *testing.T) {
	s := startHarmy(t, Options{}, nil)
	s.member("1", "", "", "", nil)
	r := s.dialect.github(context.Background(), core.CommandRequest{UserID: "1", Args: []string{"vaqqq"}, Monitored: true})
	if r.Messages[0].Content != ":white_check_mark: Linked GitHub account `vaqqq`." {
		t.Fatalf("%+v", r)
	}
	if got := githubField(t, s, "1"); got != "null" {
		t.Fatalf("no GitHub client: %s", got)
	}
}
