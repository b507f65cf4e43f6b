package discord

import (
	"encoding/json"
	"testing"

	"github.com/halyardhq/halyard/core"
)

func TestLenientInt(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{``, 0, true},
		{`null`, 0, true},
		{`1767268800000`, 1767268800000, true},
		{`1767268800000.0`, 1767268800000, true},
		{`1.7672688e12`, 1767268800000, true},
		{`"1767268800000"`, 1767268800000, true},
		{`"1767268800000.0"`, 1767268800000, true},
		{`" 48 "`, 48, true},
		{`""`, 0, true},
		{`"soon"`, 0, false},
		{`{}`, 0, false},
		{`[1]`, 0, false},
		{`true`, 0, false},
	} {
		got, ok := readInt([]byte(tc.in))
		if got != tc.want || ok != tc.ok {
			t.Errorf("readInt(%s) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestLenientSnowflake(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`"383226320970055681"`, "383226320970055681"},
		{`383226320970055681`, "383226320970055681"},
		{`12.0`, "12"},
		{`null`, ""},
		{`{}`, ""},
	} {
		if got, _ := readSnowflake([]byte(tc.in), false); got != tc.want {
			t.Errorf("readSnowflake(%s) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDecodePresence(t *testing.T) {
	raw := `{"user":{"id":"13"},"guild_id":"12","status":"dnd","client_status":{"desktop":"dnd","embedded":"online","vr":"idle","web":7},` +
		`"activities":[{"name":"a","type":0},"junk",{"name":"b","type":4,"created_at":"5"}],"broadcast":null,"_unknown":{"x":[1]}}`
	w, err := decodePresenceWire([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if w.userID() != "13" {
		t.Fatalf("user id %q", w.userID())
	}
	p := w.presence()
	want := core.ClientStatus{Desktop: core.StatusDND, Embedded: core.StatusOnline, VR: core.StatusIdle, Web: core.StatusOnline}
	if p.Status != core.StatusDND || p.Clients() != want {
		t.Errorf("status %q %+v", p.Status, p.Clients())
	}
	if acts := p.ActivityList(); len(acts) != 2 || acts[1].Name != "b" || acts[1].CreatedAt != 5 {
		t.Errorf("activities %+v", acts)
	}

	for _, tc := range []struct {
		raw    string
		status core.Status
		acts   int
	}{
		{`{"user":{"id":"1"}}`, core.StatusOffline, 0},
		{`{"user":{"id":1},"status":"invisible","activities":{"not":"an array"},"client_status":[]}`, core.StatusOffline, 0},
		{`{"user":{"id":"1"},"status":42,"activities":null,"client_status":null}`, core.StatusOffline, 0},
		{`{"user":{"id":"1"},"status":"idle","activities":[]}`, core.StatusIdle, 0},
	} {
		w, err := decodePresenceWire([]byte(tc.raw))
		if err != nil || w.userID() != "1" {
			t.Errorf("%s: %v %q", tc.raw, err, w.userID())
			continue
		}
		p := w.presence()
		if p.Status != tc.status || len(p.ActivityList()) != tc.acts || p.Clients() != (core.ClientStatus{}) {
			t.Errorf("%s -> %+v", tc.raw, p)
		}
	}
	if _, err := decodePresenceWire([]byte(`[1]`)); err == nil {
		t.Error("array accepted as a presence")
	}
	if w, _ := decodePresenceWire([]byte(`{"user":{"username":"x"}}`)); w.userID() != "" {
		t.Error("user without id got one")
	}
}

func TestDecodeUser(t *testing.T) {
	raw := `{"id":"94490510688792576","username":"phin","discriminator":"0","global_name":null,"avatar":"a_74",` +
		`"bot":false,"primary_guild":{"tag":"LNYD"},"collectibles":null,"display_name_styles":{"font_id":1}}`
	u, err := decodeUser(json.RawMessage(raw))
	if err != nil {
		t.Fatal(err)
	}
	if string(u.JSON()) != raw || u.ID != "94490510688792576" || u.Username != "phin" || u.GlobalName != "" || u.Avatar != "a_74" {
		t.Errorf("%+v", u)
	}
	if u, err := decodeUser(json.RawMessage(`{"id":94490510688792576,"username":["odd"],"bot":"yes"}`)); err != nil || u.ID != "94490510688792576" || u.Username != "" {
		t.Errorf("numeric id: %+v %v", u, err)
	}
	for _, bad := range []string{``, `null`, `"x"`, `{}`, `{"id":null}`, `{"id":{}}`} {
		if _, err := decodeUser(json.RawMessage(bad)); err == nil {
			t.Errorf("%q accepted as a user", bad)
		}
	}
}

func TestDecodeMembers(t *testing.T) {
	members := `[{"user":{"id":"1","username":"a"},"nick":"A","roles":[]},{"user":{"id":"2"}},{"nick":"no user"},"junk",{"user":{"id":"3"},"nick":7}]`
	presences := `[{"user":{"id":"1"},"status":"online","client_status":{"mobile":"online"},"activities":[]},{"user":{}},{"status":"idle"}]`
	got, bad := decodeMembers(json.RawMessage(members), json.RawMessage(presences))
	if len(got) != 3 || bad != 4 {
		t.Fatalf("got %d members, %d bad", len(got), bad)
	}
	if got[0].Nick != "A" || got[0].Presence == nil || got[0].Presence.Clients().Mobile != core.StatusOnline || !got[0].SetPresence {
		t.Errorf("member 1: %+v", got[0])
	}
	if got[1].Presence != nil || !got[1].SetPresence {
		t.Errorf("member 2 must have no presence: %+v", got[1])
	}
	if got[2].Nick != "7" {
		t.Errorf("member 3 nick %q", got[2].Nick)
	}
}

func TestReplaceMember(t *testing.T) {
	got, ok := replaceMember([]byte(`{ "a": 1, "b" : {"c":[1, 2]}, "d":"x" }`), "b", []byte(`"y"`))
	if !ok || string(got) != `{"a":1,"b":"y","d":"x"}` {
		t.Errorf("%s %v", got, ok)
	}
	if _, ok := replaceMember([]byte(`[1]`), "a", []byte(`1`)); ok {
		t.Error("array rewritten")
	}
}
