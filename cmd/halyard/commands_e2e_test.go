package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
)

// The Lanyard bot commands end to end: a user's message travels the
// simulator's gateway to the bot, the bot's replies the simulator's REST
// API, and the API keys it hands out are used on the real HTTP server.

type botMessage struct {
	Content string `json:"content"`
	Embeds  []struct {
		Title  string `json:"title"`
		Color  int    `json:"color"`
		Fields []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"fields"`
		Footer struct {
			Text string `json:"text"`
		} `json:"footer"`
	} `json:"embeds"`
}

// botChat talks to the bot as one user, in a DM through the admin API or in
// the demo guild's channel through the simulator.
type botChat struct {
	t    *testing.T
	m    *Main
	c    client
	user string
}

const e2eAdmin = "Bearer test-admin-token"

// dms returns everything the bot sent to the user's DM, oldest first.
func (b botChat) dms() []botMessage {
	b.t.Helper()
	code, body := b.c.do("GET", "/admin/v1/demo/messages?user_id="+b.user, e2eAdmin, nil)
	var resp struct{ Messages []botMessage }
	if code != 200 || json.Unmarshal(body, &resp) != nil {
		b.t.Fatalf("demo messages: %d %s", code, body)
	}
	return resp.Messages
}

// guildMessages returns what the bot posted in guild channels.
func (b botChat) guildMessages() []botMessage {
	var out []botMessage
	for _, m := range b.m.Sim.Messages() {
		if m.RecipientID == "" {
			var bm botMessage
			bm.Content = m.Content
			_ = json.Unmarshal(m.Embeds, &bm.Embeds)
			out = append(out, bm)
		}
	}
	return out
}

// waitNew waits until list() has n messages more than before and returns them.
func (b botChat) waitNew(before, n int, list func() []botMessage) []botMessage {
	b.t.Helper()
	var got []botMessage
	eventually(b.t, fmt.Sprintf("%d bot replies", n), func() bool {
		got = list()
		return len(got) >= before+n
	})
	return got[before:]
}

// send sends content to the bot by DM.
func (b botChat) send(content string) {
	b.t.Helper()
	body, _ := json.Marshal(map[string]string{"user_id": b.user, "content": content})
	if code, resp := b.c.do("POST", "/admin/v1/demo/messages", e2eAdmin, body); code != 202 {
		b.t.Fatalf("demo message: %d %s", code, resp)
	}
}

// dm sends content by DM and returns the bot's next reply there.
func (b botChat) dm(content string) botMessage {
	b.t.Helper()
	before := len(b.dms())
	b.send(content)
	return b.waitNew(before, 1, b.dms)[0]
}

// say posts content in the demo guild's channel.
func (b botChat) say(content string) {
	b.t.Helper()
	if err := b.m.Sim.SendGuildMessage(b.m.Sim.GuildIDs()[0], b.user, content); err != nil {
		b.t.Fatal(err)
	}
}

var e2eKey = regexp.MustCompile("^\\|\\|`(lnyd_[0-9a-f]{32})`\\|\\|\n-# \\*click above to reveal\\*$")

// apikey runs .apikey in a DM and returns the key of the A1 embed.
func (b botChat) apikey() string {
	b.t.Helper()
	r := b.dm(".apikey")
	if r.Content != "" || len(r.Embeds) != 1 || r.Embeds[0].Title != "Lanyard API Key" || r.Embeds[0].Color != 0x5865F2 ||
		len(r.Embeds[0].Fields) != 1 || r.Embeds[0].Fields[0].Name != "Key" ||
		r.Embeds[0].Footer.Text != "Run this command again if you need to re-generate your key" {
		b.t.Fatalf(".apikey reply: %+v", r)
	}
	m := e2eKey.FindStringSubmatch(r.Embeds[0].Fields[0].Value)
	if m == nil {
		b.t.Fatalf(".apikey key field: %q", r.Embeds[0].Fields[0].Value)
	}
	return m[1]
}

func TestLanyardCommandsEndToEnd(t *testing.T) {
	m := startDemo(t, t.TempDir(), 10)
	defer m.Close()
	c := client{t, m.URL()}
	user := m.Sim.MemberIDs(m.Sim.GuildIDs()[0])[2]
	eventually(t, "member served", func() bool { code, _ := c.do("GET", "/v1/users/"+user, "", nil); return code == 200 })
	b := botChat{t: t, m: m, c: c, user: user}
	u := m.Config.HTTP.ExternalURL

	me := func(key string) int { code, _ := c.do("GET", "/v1/users/@me", key, nil); return code }

	// .apikey in a DM: an lnyd_ key that works; a second one replaces it.
	first := b.apikey()
	if code := me(first); code != 200 {
		t.Fatalf("@me with the issued key: %d", code)
	}
	second := b.apikey()
	if second == first || me(first) != 401 || me(second) != 200 {
		t.Fatalf("rotation: old key %d, new key %d", me(first), me(second))
	}

	// KV through the bot, visible on the REST API.
	steps := []struct{ send, want string }{
		{".set k v w", ":white_check_mark: `k` was set. View it with `.get k` or go to " + u + "/v1/users/" + user},
		{".get k", ":white_check_mark: Key: `k` | Value: ```v w```"},
		{".set m @everyone hi", ":white_check_mark: `m` was set. View it with `.get m` or go to " + u + "/v1/users/" + user},
		// Plain content has every @ defused with two zero-width spaces.
		{".get m", ":white_check_mark: Key: `m` | Value: ```@\u200b\u200beveryone hi```"},
		{".kv", "*`.get <key>` to get a value*\n*`.del <key>` to delete an existing key*\n*`.set <key> <value>` to set a key*\n\n**Keys:** ```k, m```"},
		{".del k", ":white_check_mark: Deleted key: `k`"},
		{".get k", ":x: Key k not found in KV"},
		{".set a-b v", ":x: key must be alphanumeric (a-zA-Z0-9_)"},
		{".del a b", "Invalid usage. Example `del` command usage:\n`.del <key>`"},
	}
	for _, s := range steps {
		if got := b.dm(s.send).Content; got != s.want {
			t.Fatalf("%q:\n got %q\nwant %q", s.send, got, s.want)
		}
	}
	_, body := c.do("GET", "/v1/users/"+user, "", nil)
	var presence struct {
		Data struct{ KV map[string]string } `json:"data"`
	}
	if json.Unmarshal(body, &presence) != nil || len(presence.Data.KV) != 1 || presence.Data.KV["m"] != "@everyone hi" {
		t.Fatalf("REST kv after the commands: %s", body)
	}

	// .apikey in the guild channel: refused there, no key issued.
	g := len(b.guildMessages())
	b.say(".apikey")
	if r := b.waitNew(g, 1, b.guildMessages)[0]; r.Content != ":x: You can only perform this command in DMs with me" {
		t.Fatalf("guild .apikey: %+v", r)
	}
	if me(second) != 200 {
		t.Fatal("guild .apikey changed the key")
	}

	// The leak guard: the key posted in the guild channel is replaced, the
	// warning goes to the channel and the new key to the DM.
	g, d := len(b.guildMessages()), len(b.dms())
	b.say(".get " + second)
	warn := b.waitNew(g, 1, b.guildMessages)[0]
	if warn.Content != ":x: Whoops, you just posted your API key, this is meant to stay private, regenerating this for you, check your DM" {
		t.Fatalf("L1: %q", warn.Content)
	}
	l2 := b.waitNew(d, 1, b.dms)[0].Content
	third := regexp.MustCompile("Your new Lanyard API key is `(lnyd_[0-9a-f]{32})`").FindStringSubmatch(l2)
	if third == nil || !strings.HasPrefix(l2, ":repeat: **We've regenerated your api key as you used it in a K/V command.**\n") {
		t.Fatalf("L2: %q", l2)
	}
	if me(second) != 401 || me(third[1]) != 200 {
		t.Fatalf("after the leak: old key %d, new key %d", me(second), me(third[1]))
	}

	// A user in no watched guild can DM the bot: KV commands say why they
	// cannot work, .apikey works.
	outsider := botChat{t: t, m: m, c: c, user: "1300000000000000777"}
	if got := outsider.dm(".kv").Content; got != core.NotInWatchedGuild {
		t.Fatalf("outsider .kv: %q", got)
	}
	if got := outsider.dm(".get k").Content; got != ":x: Key k not found in KV" {
		t.Fatalf("outsider .get: %q", got)
	}
	if key := outsider.apikey(); me(key) != 404 {
		t.Fatalf("outsider @me: %d, want 404 user_not_monitored", me(key))
	}

	// Unknown commands get no reply.
	d = len(b.dms())
	b.send(".nope")
	b.send(".Get k")
	time.Sleep(300 * time.Millisecond)
	if n := len(b.dms()); n != d {
		t.Fatalf("unknown command answered: %+v", b.dms()[d:])
	}
}
