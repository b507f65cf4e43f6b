package discord

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/diamondburned/arikawa/v3/discord"
	"github.com/diamondburned/arikawa/v3/gateway"
	"github.com/halyardhq/halyard/core"
)

// offlineBot is a bot that never connects: the test feeds it events as
// arikawa's event loop would.
func offlineBot(t *testing.T, guildIDs ...string) (*Bot, *core.Hub) {
	t.Helper()
	hub := core.NewHub(core.HubOptions{})
	if err := hub.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hub.Close() })
	b, err := New(Config{Token: "t", Hub: hub, GuildIDs: guildIDs, GatewayURL: "ws://127.0.0.1:1/", RESTBase: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b, hub
}

func member(id, nick string) string {
	return fmt.Sprintf(`{"user":{"id":%q,"username":"u%s","primary_guild":null},"nick":%q,"roles":[]}`, id, id, nick)
}

func TestMemberSyncAndPrune(t *testing.T) {
	b, hub := offlineBot(t, "100")
	b.handle(&gateway.ReadyEvent{Guilds: []gateway.GuildCreateEvent{{Guild: discord.Guild{ID: 100}}, {Guild: discord.Guild{ID: 200}}}})
	// A member left over from before a reconnect.
	hub.UpsertMember("100", core.Member{User: core.DiscordUser{ID: "9", Raw: json.RawMessage(`{"id":"9"}`)}})

	b.handle(&rawGuildCreate{raw: []byte(`{"id":"100","unavailable":false,"members":[` + member("1", "one") + `,` + member("2", "") +
		`],"presences":[{"user":{"id":"1"},"status":"online","client_status":{"desktop":"online"},"activities":[{"name":"x","type":0}]}]}`)})
	b.handle(&rawGuildCreate{raw: []byte(`{"id":"200","members":[` + member("50", "") + `]}`)}) // not watched
	if u, ok := hub.Get("1"); !ok || u.Status() != core.StatusOnline || u.Nick() != "one" || string(u.Discord.JSON()) != `{"id":"1","username":"u1","primary_guild":null}` {
		t.Fatalf("member 1: %+v", u)
	}
	if u, ok := hub.Get("2"); !ok || u.Presence != nil {
		t.Fatalf("member 2: %+v", u)
	}
	if hub.IsMonitored("50") {
		t.Fatal("member of an unwatched guild is monitored")
	}
	pending := b.sync.unfinished()
	nonce := pending["100"]
	if nonce == "" || len(pending) != 1 || b.req.all["100"] != nonce {
		t.Fatalf("no all-members request: %v %v", pending, b.req.all)
	}
	if b.Synced() {
		t.Fatal("synced before any chunk")
	}

	chunk := func(index int, members ...string) *rawMembersChunk {
		ms := ""
		for i, m := range members {
			if i > 0 {
				ms += ","
			}
			ms += member(m, "")
		}
		return &rawMembersChunk{raw: []byte(fmt.Sprintf(`{"guild_id":"100","members":[%s],"presences":[{"user":{"id":"3"},"status":"idle"}],`+
			`"chunk_index":%d,"chunk_count":2,"nonce":%q}`, ms, index, nonce))}
	}
	b.handle(chunk(0, "1", "2", "5"))
	b.handle(&rawMemberRemove{raw: []byte(`{"guild_id":"100","user":{"id":"5"}}`)})                   // left during the sync
	b.handle(&rawMemberAdd{raw: []byte(`{"guild_id":"100",` + member("6", "")[1:])})                  // joined during the sync
	b.handle(&rawMembersChunk{raw: []byte(`{"guild_id":"100","members":[` + member("7", "") + `]}`)}) // a user-id lookup
	if !hub.IsMonitored("9") {
		t.Fatal("pruned before the last chunk")
	}
	b.handle(chunk(0, "1")) // a replayed chunk changes nothing
	b.handle(chunk(1, "3", "5"))
	if !b.Synced() {
		t.Fatal("not synced after the last chunk")
	}
	for id, want := range map[string]bool{"1": true, "2": true, "3": true, "5": false, "6": true, "7": true, "9": false} {
		if hub.IsMonitored(id) != want {
			t.Errorf("user %s monitored = %v, want %v", id, !want, want)
		}
	}
	if u, _ := hub.Get("3"); u.Status() != core.StatusIdle {
		t.Errorf("member 3 status %s", u.Status())
	}
	if got := b.req.users["100"]; len(got) != 1 || got[0] != "6" {
		t.Errorf("presence request for the new member: %v", got)
	}

	// Presence and member updates.
	b.handle(&rawPresenceUpdate{raw: []byte(`{"user":{"id":"2"},"guild_id":"100","status":"dnd","client_status":{"vr":"dnd"},"activities":[]}`)})
	b.handle(&rawPresenceUpdate{raw: []byte(`{"user":{"id":"3"},"guild_id":"200","status":"dnd"}`)}) // unwatched guild
	if u, _ := hub.Get("2"); u.Status() != core.StatusDND || u.Presence.Clients().VR != core.StatusDND {
		t.Errorf("presence update: %+v", u.Presence)
	}
	if u, _ := hub.Get("3"); u.Status() != core.StatusIdle {
		t.Errorf("an unwatched guild's presence applied: %s", u.Status())
	}
	b.handle(&rawMemberUpdate{raw: []byte(`{"guild_id":"100","user":{"id":"2","username":"renamed","clan":null},"nick":"two","roles":[]}`)})
	if u, _ := hub.Get("2"); u.Discord.Username() != "renamed" || u.Nick() != "two" || u.Status() != core.StatusDND {
		t.Errorf("member update: %+v", u)
	}
	b.handle(&rawMemberRemove{raw: []byte(`{"guild_id":"100","user":{"id":"1","username":"u1"}}`)})
	if hub.IsMonitored("1") {
		t.Error("removed member still monitored")
	}

	// Malformed events are counted, never fatal.
	before := b.Stats().DecodeErrors
	for _, ev := range []any{
		&rawPresenceUpdate{raw: []byte(`[1]`)},
		&rawPresenceUpdate{raw: []byte(`{"status":"online"}`)},
		&rawMemberAdd{raw: []byte(`{"guild_id":"100"}`)},
		&rawMemberRemove{raw: []byte(`{"user":{"id":"2"}}`)},
		&rawMembersChunk{raw: []byte(`not json`)},
		&rawGuildCreate{raw: []byte(`{"id":null}`)},
	} {
		b.handle(ev)
	}
	if got := b.Stats().DecodeErrors - before; got != 6 {
		t.Errorf("decode errors %d, want 6", got)
	}

	// An outage keeps the members; leaving the guild drops them.
	b.handle(&rawGuildDelete{raw: []byte(`{"id":"100","unavailable":true}`)})
	if hub.Count() == 0 {
		t.Fatal("outage dropped the members")
	}
	b.handle(&rawGuildDelete{raw: []byte(`{"id":"100"}`)})
	if hub.Count() != 0 {
		t.Fatalf("%d members left after GUILD_DELETE", hub.Count())
	}
}

func TestRateLimitedRetry(t *testing.T) {
	b, _ := offlineBot(t)
	b.handle(&rawGuildCreate{raw: []byte(`{"id":"100","members":[]}`)})
	nonce := b.sync.unfinished()["100"]
	b.req.next() // "sent"
	if b.req.all["100"] != "" {
		t.Fatal("request still queued")
	}
	b.handle(&rawRateLimited{raw: []byte(fmt.Sprintf(`{"opcode":8,"retry_after":0.05,"meta":{"guild_id":"100","nonce":%q}}`, nonce))})
	b.handle(&rawRateLimited{raw: []byte(`{"opcode":8,"retry_after":0.05,"meta":{"guild_id":"100","nonce":"other"}}`)})
	waitFor(t, "the request to be queued again", func() bool {
		b.req.mu.Lock()
		defer b.req.mu.Unlock()
		return b.req.all["100"] == nonce
	})
}

// TestMemberSet: a sync's member set keeps snowflakes by value and any
// other id by its text, and two different texts are never one member.
func TestMemberSet(t *testing.T) {
	var s memberSet
	ids := []string{"1", "01", "0", "94490510688792576", "18446744073709551615", "18446744073709551616", "+5", "5", "abc", ""}
	for _, id := range ids {
		s.add(id)
	}
	s.add("5") // again
	if s.len() != len(ids) {
		t.Fatalf("%d members, want %d", s.len(), len(ids))
	}
	for _, id := range ids {
		if !s.has(id) {
			t.Errorf("%q missing", id)
		}
	}
	for _, id := range []string{"2", "001", "00", "94490510688792577", " 1", "1 "} {
		if s.has(id) {
			t.Errorf("%q found", id)
		}
	}
	s.remove("01")
	s.remove("18446744073709551616")
	if s.has("01") || !s.has("1") || s.has("18446744073709551616") || !s.has("18446744073709551615") || s.len() != len(ids)-2 {
		t.Errorf("after removals: %d members", s.len())
	}
}
