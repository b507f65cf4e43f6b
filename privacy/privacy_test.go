package privacy

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/internal/memstore"
)

const (
	author = "100"
	victim = "200"
)

// env is a hub on a memstore with two members, each with a KV pair, a
// token and a record, and the privacy commands on a clock the test moves.
type env struct {
	t     *testing.T
	hub   *core.Hub
	store *memstore.Store
	tok   *core.Tokens
	p     *Privacy
	now   time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, store: memstore.New(), now: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
	clock := func() time.Time { return e.now }
	e.hub = core.NewHub(core.HubOptions{Store: e.store, Now: clock, RecordFlushInterval: time.Hour})
	if err := e.hub.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.hub.Close() })
	var err error
	if e.tok, err = core.NewTokens([]byte(strings.Repeat("s", 32)), e.store); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{author, victim} {
		e.hub.UpsertMember("g", core.Member{User: core.DiscordUser{ID: id, Username: "u" + id,
			Raw: json.RawMessage(`{"id":"` + id + `","username":"u` + id + `"}`)}})
		if err := e.hub.PutKV(t.Context(), id, "k", "v"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.tok.Issue(t.Context(), id); err != nil {
			t.Fatal(err)
		}
	}
	e.hub.FlushRecords(t.Context())
	e.p = New(Options{Hub: e.hub, Tokens: e.tok, Prefix: ".", Now: clock})
	return e
}

// prefix runs a prefix command line ("optout", "delete-my-data confirm X")
// as the author in a DM, split as the bot splits it.
func (e *env) prefix(line string) string {
	e.t.Helper()
	return e.prefixAs(author, line)
}

func (e *env) prefixAs(user, line string) string {
	e.t.Helper()
	parts := strings.Split(line, " ")
	for _, c := range e.p.Commands() {
		if c.Prefix && c.Name == parts[0] {
			r := c.Handler(context.Background(), core.CommandRequest{UserID: user, Args: parts[1:], InDM: true, Prefix: "."})
			return only(e.t, r)
		}
	}
	e.t.Fatalf("no prefix command %q", parts[0])
	return ""
}

// slash runs /privacy sub [code] as the author in a guild channel.
func (e *env) slash(sub string, opts map[string]string) core.Message {
	e.t.Helper()
	for _, c := range e.p.Commands() {
		if c.Slash && c.Name == "privacy" {
			r := c.Handler(context.Background(), core.CommandRequest{UserID: author, Slash: true, SubCommand: sub,
				Options: opts, GuildID: "g", ChannelID: "c", Prefix: "."})
			if len(r.Messages) != 1 {
				e.t.Fatalf("/privacy %s: %+v", sub, r)
			}
			return r.Messages[0]
		}
	}
	e.t.Fatal("no /privacy")
	return core.Message{}
}

func only(t *testing.T, r core.CommandReply) string {
	t.Helper()
	if len(r.Messages) != 1 || r.Messages[0].ToDM {
		t.Fatalf("reply: %+v", r)
	}
	return r.Messages[0].Content
}

// intact fails unless the user's KV, token and record are all held, in
// the store and in the hub.
func (e *env) intact(id, when string) {
	e.t.Helper()
	_, rec := e.store.Record(id)
	_, hash := e.store.TokenHash(id)
	if e.store.KV(id).Len() != 1 || !hash || !rec || e.hub.KV(id).Len() != 1 || !e.tok.HasToken(id) {
		e.t.Fatalf("%s: data of %s not intact (kv %v, token %v, record %v)", when, id, e.store.KV(id), hash, rec)
	}
}

var codeIn = regexp.MustCompile("`\\.delete-my-data confirm ([A-Z2-7]{6})`")

func TestOptOutAndIn(t *testing.T) {
	e := newEnv(t)
	if r := e.prefix("optout"); !strings.HasPrefix(r, "You have opted out.") {
		t.Fatalf(".optout: %q", r)
	}
	if _, ok := e.hub.Get(author); ok || !e.store.OptedOut(author) {
		t.Fatal("the author is still served after .optout")
	}
	if r := e.prefix("optout"); !strings.HasPrefix(r, "You have already opted out") {
		t.Errorf("second .optout: %q", r)
	}
	// Extra words change nothing and say so; a trailing space is no word.
	if r := e.prefix("optin now"); r != "`.optin` takes no arguments. Nothing changed." || !e.hub.OptedOut(author) {
		t.Errorf(".optin now: %q", r)
	}
	if r := e.prefix("optin "); !strings.HasPrefix(r, "You have opted back in:") {
		t.Errorf(".optin: %q", r)
	}
	if _, ok := e.hub.Get(author); !ok || e.store.OptedOut(author) {
		t.Fatal("the author is not served after .optin")
	}
	if r := e.prefix("optin"); !strings.HasPrefix(r, "You have not opted out") {
		t.Errorf("second .optin: %q", r)
	}
	e.intact(author, "after opting out and in")

	// The slash command: ephemeral in a guild; unknown sub-commands refused.
	if m := e.slash("optout", nil); !m.Ephemeral || !strings.HasPrefix(m.Content, "You have opted out.") || !e.hub.OptedOut(author) {
		t.Errorf("/privacy optout: %+v", m)
	}
	if m := e.slash("optin", nil); !strings.HasPrefix(m.Content, "You have opted back in") || e.hub.OptedOut(author) {
		t.Errorf("/privacy optin: %+v", m)
	}
	if m := e.slash("forget", nil); !strings.HasPrefix(m.Content, "Unknown /privacy command") {
		t.Errorf("/privacy forget: %+v", m)
	}
	// Opting in while the store is down keeps the opt-out, and says so.
	e.prefix("optout")
	e.store.SetDown(context.DeadlineExceeded)
	if r := e.prefix("optin"); !strings.Contains(r, "nothing changed") || !e.hub.OptedOut(author) {
		t.Errorf(".optin on a down store: %q", r)
	}
	e.store.SetDown(nil)
	e.intact(victim, "after the author's commands")
}

// TestDeleteMyData: the question lists what is held and gives a code;
// a missing, wrong, malformed or expired code deletes nothing; the live
// code deletes KV, token and record (in the store) and keeps the opt-out.
func TestDeleteMyData(t *testing.T) {
	e := newEnv(t)
	if r := e.prefix("delete-my-data confirm ABCDEF"); !strings.HasPrefix(r, "No deletion is waiting") {
		t.Errorf("confirm before asking: %q", r)
	}
	ask := e.prefix("delete-my-data")
	m := codeIn.FindStringSubmatch(ask)
	if m == nil || !strings.Contains(ask, "1 KV pair, your API token, your record") || !strings.Contains(ask, "within 5 minutes") {
		t.Fatalf(".delete-my-data: %q", ask)
	}
	code := m[1]
	for _, bad := range []string{"delete-my-data confirm", "delete-my-data now", "delete-my-data confirm " + code + " x",
		"delete-my-data " + code, "delete-my-data CONFIRM " + code} {
		if r := e.prefix(bad); !strings.HasPrefix(r, "Usage:") || !strings.HasSuffix(r, "Nothing was deleted.") {
			t.Errorf("%q: %q", bad, r)
		}
	}
	wrong := "AAAAAA"
	if code == wrong {
		wrong = "BBBBBB"
	}
	if r := e.prefix("delete-my-data confirm " + wrong); !strings.HasPrefix(r, "That is not the code") {
		t.Errorf("wrong code: %q", r)
	}
	e.intact(author, "after a wrong code")

	// Expired: the clock passes the code's life.
	e.now = e.now.Add(DefaultCodeTTL)
	if r := e.prefix("delete-my-data confirm " + code); !strings.HasPrefix(r, "That code has expired") {
		t.Errorf("expired code: %q", r)
	}
	e.intact(author, "after an expired code")
	if r := e.prefix("delete-my-data confirm " + code); !strings.HasPrefix(r, "No deletion is waiting") {
		t.Errorf("the expired code again: %q", r)
	}

	// A new code, confirmed in lower case while opted out.
	e.prefix("optout")
	ask = e.prefix("delete-my-data")
	if !strings.Contains(ask, "Your opt-out is kept") {
		t.Errorf("question while opted out: %q", ask)
	}
	code = codeIn.FindStringSubmatch(ask)[1]
	done := e.prefix("delete-my-data  confirm " + strings.ToLower(code))
	if !strings.HasPrefix(done, "Deleted: 1 KV pair, your API token, your record") || !strings.Contains(done, "opt-out is kept") {
		t.Errorf("confirmed: %q", done)
	}
	e.hub.FlushRecords(t.Context())
	_, rec := e.store.Record(author)
	_, hash := e.store.TokenHash(author)
	if e.store.KV(author).Len() != 0 || hash || rec || e.tok.HasToken(author) || e.hub.KV(author).Len() != 0 {
		t.Errorf("after deletion the store holds kv %v, token %v, record %v", e.store.KV(author), hash, rec)
	}
	if !e.store.OptedOut(author) || !e.hub.OptedOut(author) {
		t.Error("the deletion dropped the opt-out")
	}
	if _, ok := e.hub.Get(author); ok {
		t.Error("the deletion showed the opted-out user again")
	}
	if r := e.prefix("delete-my-data confirm " + code); !strings.HasPrefix(r, "No deletion is waiting") {
		t.Errorf("a used code: %q", r)
	}
	e.intact(victim, "after the author's deletion")
}

// TestDeleteMyDataSlash: /privacy delete-my-data asks (ephemeral, with
// the slash form of the confirmation) and its code option confirms; a
// member who did not opt out hears that their presence is still served.
func TestDeleteMyDataSlash(t *testing.T) {
	e := newEnv(t)
	ask := e.slash("delete-my-data", nil)
	m := regexp.MustCompile("`/privacy delete-my-data code:([A-Z2-7]{6})`").FindStringSubmatch(ask.Content)
	if !ask.Ephemeral || m == nil {
		t.Fatalf("/privacy delete-my-data: %+v", ask)
	}
	if r := e.slash("delete-my-data", map[string]string{"code": "nope"}); !strings.HasPrefix(r.Content, "That is not the code") {
		t.Errorf("wrong code: %q", r.Content)
	}
	e.intact(author, "after a wrong slash code")
	r := e.slash("delete-my-data", map[string]string{"code": m[1]})
	if !strings.HasPrefix(r.Content, "Deleted:") || !strings.Contains(r.Content, "still serves your live presence") {
		t.Errorf("confirmed: %q", r.Content)
	}
	if e.store.KV(author).Len() != 0 || e.tok.HasToken(author) {
		t.Error("the slash confirmation deleted nothing")
	}
	// A user Halyard holds nothing about gets no code; one who only
	// opted out is told the opt-out stays.
	if r := e.prefixAs("300", "delete-my-data"); r != "Halyard keeps no data about you: nothing to delete." {
		t.Errorf("asking with nothing held: %q", r)
	}
	e.prefixAs("300", "optout")
	if r := e.prefixAs("300", "delete-my-data"); !strings.HasPrefix(r, "Halyard keeps no data about you") || !strings.Contains(r, "opt-out is kept") {
		t.Errorf("asking with only an opt-out: %q", r)
	}
}
