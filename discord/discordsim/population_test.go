package discordsim

import (
	"encoding/json"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

var base = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func TestPopulationDeterministic(t *testing.T) {
	a := newSim(t, Config{Members: 400, Guilds: 3, Seed: 11, BaseTime: base})
	b := newSim(t, Config{Members: 400, Guilds: 3, Seed: 11, BaseTime: base})
	c := newSim(t, Config{Members: 400, Guilds: 3, Seed: 12, BaseTime: base})
	ta, tb, tc := a.AllTruth(), b.AllTruth(), c.AllTruth()
	// The 400 synthetic members and the bot, a member like any other.
	if len(ta) != 401 || !reflect.DeepEqual(ta, tb) {
		t.Fatalf("same seed differs (%d users)", len(ta))
	}
	if reflect.DeepEqual(ta, tc) {
		t.Fatal("different seeds gave the same population")
	}
	if !reflect.DeepEqual(a.GuildIDs(), b.GuildIDs()) || a.BotUserID() != b.BotUserID() {
		t.Fatal("ids differ")
	}
	ids := a.MemberIDs(a.GuildIDs()[0])
	for i := 1; i < len(ids); i++ {
		if len(ids[i]) < len(ids[i-1]) || (len(ids[i]) == len(ids[i-1]) && ids[i] <= ids[i-1]) {
			t.Fatal("MemberIDs not ascending")
		}
	}
	if n := len(a.MemberIDs(a.GuildIDs()[1])); n == 0 || n >= 400 {
		t.Fatalf("extra guild has %d members", n)
	}
	// The mix is realistic: every status, some Spotify, some offline.
	statuses := map[string]int{}
	var spotify, custom, animated int
	for _, tr := range ta {
		if tr.UserID == a.BotUserID() {
			// Bots keep a legacy discriminator; the bot is in every guild.
			if !strings.Contains(string(tr.User), `"bot":true`) || strings.Contains(string(tr.User), `"discriminator":"0"`) || len(tr.Guilds) != 3 {
				t.Fatalf("bot truth %+v", tr)
			}
			continue
		}
		statuses[tr.Status]++
		spotify += strings.Count(string(tr.Activities), `"spotify:1"`)
		custom += strings.Count(string(tr.Activities), `"type":4`)
		animated += strings.Count(string(tr.User), `"avatar":"a_`)
		if tr.Status == "offline" && (len(tr.ClientStatus) != 0 || string(tr.Activities) != "[]") {
			t.Fatalf("offline user with activity: %+v", tr)
		}
		var u map[string]any
		if err := json.Unmarshal(tr.User, &u); err != nil {
			t.Fatalf("user %s", tr.User)
		}
		if u["discriminator"] != "0" {
			t.Fatalf("user %s", tr.User)
		}
		for _, k := range []string{"avatar_decoration_data", "primary_guild", "clan", "collectibles", "global_name"} {
			if _, ok := u[k]; !ok {
				t.Fatalf("user lacks %s: %s", k, tr.User)
			}
		}
	}
	off := statuses["offline"] * 100 / 400
	if off < 20 || off > 40 || statuses["idle"] == 0 || statuses["dnd"] == 0 || spotify == 0 || custom == 0 || animated == 0 {
		t.Fatalf("population mix: %v spotify=%d custom=%d animated=%d", statuses, spotify, custom, animated)
	}
}

func TestMillionMembersIsLazy(t *testing.T) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	s := newSim(t, Config{Members: 1_000_000, Guilds: 2, Seed: 5})
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 32<<20 {
		t.Fatalf("construction allocated %d MiB live heap", grew>>20)
	}
	last := s.pop.userID(999_999)
	tr, ok := s.Truth(fmtID(last))
	if !ok || tr.Guilds[0] != s.GuildIDs()[0] {
		t.Fatalf("Truth of the last member: %v %+v", ok, tr)
	}
	if _, ok := s.Truth(fmtID(last + 1)); ok {
		t.Fatal("Truth of a non-member")
	}
}

func TestMemberLifecycle(t *testing.T) {
	s := newSim(t, Config{Members: 30, Seed: 2})
	gid := s.GuildIDs()[0]
	c := dial(t, s)
	readFrame(t, c)
	identify(t, c, s, allIntents)
	readUntil(t, c, "GUILD_CREATE")
	newID := "1300000000000000007"
	if err := s.AddMember(gid, json.RawMessage(`{"user":{"id":"`+newID+`","username":"alice","discriminator":"0","global_name":"Alice","avatar":null}}`)); err != nil {
		t.Fatal(err)
	}
	if f := readFrame(t, c); f.t() != "GUILD_MEMBER_ADD" || !strings.Contains(string(f.D), `"alice"`) || !strings.Contains(string(f.D), `"guild_id"`) {
		t.Fatalf("add: %s %s", f.t(), f.D)
	}
	if err := s.UpdateMember(gid, json.RawMessage(`{"user":{"id":"`+newID+`","username":"alice2","discriminator":"0","avatar":"abc"},"nick":"Al"}`)); err != nil {
		t.Fatal(err)
	}
	if f := readFrame(t, c); f.t() != "GUILD_MEMBER_UPDATE" || !strings.Contains(string(f.D), `"alice2"`) {
		t.Fatalf("update: %s %s", f.t(), f.D)
	}
	if tr, _ := s.Truth(newID); tr.Nick != "Al" || !strings.Contains(string(tr.User), "alice2") {
		t.Fatalf("truth %+v", tr)
	}
	ids := s.MemberIDs(gid)
	if len(ids) != 31 || ids[len(ids)-1] != newID {
		t.Fatalf("MemberIDs after add: %d, last %s", len(ids), ids[len(ids)-1])
	}
	if err := s.RemoveMember(gid, newID); err != nil {
		t.Fatal(err)
	}
	if f := readFrame(t, c); f.t() != "GUILD_MEMBER_REMOVE" {
		t.Fatalf("remove: %s", f.t())
	}
	if len(s.MemberIDs(gid)) != 30 || s.RemoveMember(gid, newID) == nil {
		t.Fatal("remove not applied")
	}
}

func TestChurnAndHostile(t *testing.T) {
	s := newSim(t, Config{Members: 200, Seed: 4, Hostile: true})
	c := dial(t, s)
	readFrame(t, c)
	identify(t, c, s, allIntents)
	readUntil(t, c, "GUILD_CREATE")
	s.Churn(50)
	odd := 0
	for range 50 {
		f := readFrame(t, c)
		if f.t() != "PRESENCE_UPDATE" {
			t.Fatalf("got %s", f.t())
		}
		if strings.Contains(string(f.D), `"created_at":"`) || strings.Contains(string(f.D), `.0,`) || strings.Contains(string(f.D), `.0}`) {
			odd++
		}
	}
	if odd == 0 {
		t.Fatal("hostile mode sent only canonical timestamps")
	}
	stop := s.StartChurn(10*time.Millisecond, 1)
	readUntil(t, c, "PRESENCE_UPDATE")
	stop()
}
