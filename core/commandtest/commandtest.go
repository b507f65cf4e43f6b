// Package commandtest holds what the dialects' bot-command fuzz targets
// share: a hub with an author and a victim, the KV properties every
// command keeps, and the texts of a reply. Import it from tests only, as
// net/http/httptest.
package commandtest

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"testing"

	"github.com/halyardhq/halyard/core"
)

// AnyToken matches an API token anywhere in a text.
var AnyToken = regexp.MustCompile(`lnyd_[0-9a-f]{32}`)

// Env is a hub with two monitored users: the author who runs the commands
// and a victim whose KV no command of the author may change.
type Env struct {
	Hub            *core.Hub
	Tokens         *core.Tokens
	Author, Victim string
	VictimKV       core.KV
}

// NewEnv makes the hub, the token service over store, and the two users;
// the victim starts with victimKV.
func NewEnv(tb testing.TB, store core.TokenStore, author, victim string, victimKV core.KV) *Env {
	tb.Helper()
	hub := core.NewHub(core.HubOptions{})
	tokens, err := core.NewTokens(bytes.Repeat([]byte("c"), 32), store)
	if err != nil {
		tb.Fatal(err)
	}
	for _, id := range []string{author, victim} {
		hub.UpsertMember("g", core.Member{User: core.DiscordUser{ID: id, Raw: json.RawMessage(`{"id":"` + id + `","username":"u"}`)}})
	}
	if err := hub.PatchKV(context.Background(), victim, victimKV); err != nil {
		tb.Fatal(err)
	}
	return &Env{Hub: hub, Tokens: tokens, Author: author, Victim: victim, VictimKV: victimKV}
}

// CheckKV fails t when the command (named by what) changed the victim's
// KV or left the author's KV breaking the KV rules.
func (e *Env) CheckKV(t testing.TB, what string) {
	t.Helper()
	if got := e.Hub.KV(e.Victim); !got.Equal(e.VictimKV) {
		t.Fatalf("%s changed the victim's KV to %v", what, got)
	}
	if kv := e.Hub.KV(e.Author); core.ValidateKVPairs(kv) != nil || kv.Len() > core.MaxKVPairs {
		t.Fatalf("%s left an invalid KV", what)
	}
}

// Texts returns every text of m a reader sees: its content, and each
// embed's title, description, field names and values.
func Texts(m core.Message) []string {
	texts := []string{m.Content}
	for _, e := range m.Embeds {
		texts = append(texts, e.Title, e.Description)
		for _, f := range e.Fields {
			texts = append(texts, f.Name, f.Value)
		}
	}
	return texts
}
