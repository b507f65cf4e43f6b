package core

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"maps"
	"strings"
	"testing"
	"unsafe"

	"github.com/halyardhq/halyard/internal/jsonread"
)

// TestProfileReadsPackedFields: a decoded user kept as its packed JSON
// only reads back every named field as parsed from the JSON (escapes,
// numbers, nulls, repeated keys, nested objects with the same keys), and
// a hand-built one keeps the fields it was given.
func TestProfileReadsPackedFields(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want DiscordUser
	}{
		{`{"id":"94490510688792576","username":"phin","avatar":null,"discriminator":"0","global_name":"Phin \"P\" \u00e9","bot":false}`,
			DiscordUser{ID: "94490510688792576", Username: "phin", Discriminator: "0", GlobalName: `Phin "P" é`}},
		{`{"id":12,"username":"a","primary_guild":{"id":"9","username":"nested"},"bot":true,"username":"b"}`,
			DiscordUser{ID: "12", Username: "b", Bot: true}},
		{`{"id":"1","avatar":{"x":1},"global_name":7,"discriminator":[1]}`,
			DiscordUser{ID: "1", GlobalName: "7"}},
		{"{ \"id\" : \"5\" , \"username\" : \"sp aced\" }", DiscordUser{ID: "5", Username: "sp aced"}},
	} {
		packed := PackedJSONOf(PackJSON(nil, []byte(tc.raw)))
		tc.want.Packed = packed
		p := ProfileOf(tc.want)
		if p.built() != nil {
			t.Errorf("%s: kept as built, not packed only", tc.raw)
		}
		if got := p.DiscordUser(); got.ID != tc.want.ID || got.Username != tc.want.Username || got.Discriminator != tc.want.Discriminator ||
			got.GlobalName != tc.want.GlobalName || got.Avatar != tc.want.Avatar || got.Bot != tc.want.Bot {
			t.Errorf("%s: read %+v, want %+v", tc.raw, got, tc.want)
		}
		if string(p.JSON()) != tc.raw || !p.SameJSONAs(&DiscordUser{Raw: json.RawMessage(tc.raw)}) {
			t.Errorf("%s: JSON %s", tc.raw, p.JSON())
		}
	}
	// Fields the JSON does not hold: kept as given.
	hand := DiscordUser{ID: "7", Username: "u7", Raw: json.RawMessage(`{}`)}
	if p := ProfileOf(hand); p.ID() != "7" || p.Username() != "u7" || string(p.JSON()) != `{}` {
		t.Errorf("hand-built %+v read as %q %q %s", hand, p.ID(), p.Username(), p.JSON())
	}
	lying := DiscordUser{ID: "8", Username: "other", Packed: PackedJSONOf(PackJSON(nil, []byte(`{"id":"8","username":"x"}`)))}
	if p := ProfileOf(lying); p.Username() != "other" {
		t.Errorf("fields that disagree with the JSON were lost: %q", p.Username())
	}
	var buf bytes.Buffer
	in := ProfileOf(DiscordUser{ID: "9", Username: "n", Packed: PackedJSONOf(PackJSON(nil, []byte(`{"id":"9","username":"n"}`)))})
	if err := gob.NewEncoder(&buf).Encode(in); err != nil {
		t.Fatal(err)
	}
	var out Profile
	if err := gob.NewDecoder(&buf).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if !out.SameJSON(&in) || out.Username() != "n" || out.ID() != "9" {
		t.Errorf("gob gave %+v", out.DiscordUser())
	}
}

// TestUserIndexKeys: Discord ids are keyed by value, anything else (and a
// non-canonical number, which is a different id) by its text, and the
// snapshot of a decoded member keeps no copy of its id.
func TestUserIndexKeys(t *testing.T) {
	var x userIndex
	ids := []string{"18446744073709551615", "18446744073709551616", "0", "00", "012", "12", "u1", ""}
	for _, id := range ids {
		x.put(&User{ID: id})
	}
	if x.len() != len(ids) {
		t.Fatalf("%d users, want %d", x.len(), len(ids))
	}
	for _, id := range ids {
		if u, ok := x.get(id); !ok || u.ID != id {
			t.Errorf("get(%q) = %v, %v", id, u, ok)
		}
	}
	n := 0
	for id, u := range x.all() {
		if u.ID != id {
			t.Errorf("all yielded %q for %q", id, u.ID)
		}
		x.del(id)
		n++
	}
	if n != len(ids) || x.len() != 0 {
		t.Errorf("all yielded %d, %d left", n, x.len())
	}
	var dirty recordSet
	for _, id := range ids {
		dirty.add(id)
		dirty.add(id)
	}
	if dirty.len() != len(ids) || !dirty.has("012") || dirty.has("13") {
		t.Fatalf("record set of %d ids: %d", len(ids), dirty.len())
	}
	seen := map[string]bool{}
	for id := range dirty.all() {
		seen[id] = true
		dirty.del(id)
	}
	for _, id := range ids {
		if !seen[id] {
			t.Errorf("record set lost %q", id)
		}
	}
	if dirty.len() != 0 {
		t.Errorf("%d ids left after deleting all", dirty.len())
	}

	h := NewHub(HubOptions{})
	defer h.Close()
	raw := []byte(`{"id":"94490510688792576","username":"phin"}`)
	packed := PackedJSONOf(PackJSON(nil, raw))
	p := profileOfPacked(packed)
	h.UpsertMember("g", Member{User: DiscordUser{ID: p.ID(), Username: "phin", Packed: packed}})
	u, ok := h.Get("94490510688792576")
	if !ok || u.Discord.Username() != "phin" {
		t.Fatalf("member not monitored: %v", u)
	}
	if v, _, _ := packed.member("id"); unsafe.StringData(u.ID) != unsafe.StringData(v) {
		t.Error("the snapshot's id is a copy, not its profile's")
	}
}

// FuzzPackedMembers: the members read from a packed object without
// rebuilding it are the ones a JSON walk of the object finds (top-level
// only, every key in order, strings without quotes, other scalars as
// written, objects and arrays as not scalar).
func FuzzPackedMembers(f *testing.F) {
	for _, s := range []string{`{"id":"1","username":"a","avatar":null,"bot":true,"n":-1.5e3}`,
		`{"a":{"b":"c"},"d":["e",1],"f":"g\"h\\","k\\"ey":"v", "sp" : "x" }`, `{}`, `{"a":{}}`, `[1]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !json.Valid(raw) || jsonread.Kind(raw) != '{' {
			return
		}
		type member struct {
			key, v  string
			str, ok bool
		}
		var want, got []member
		err := jsonread.EachMember(raw, func(k string, val []byte) {
			switch jsonread.Kind(val) {
			case '{', '[':
				want = append(want, member{k, "", false, false})
			case '"':
				want = append(want, member{k, string(val[1 : len(val)-1]), true, true})
			default:
				want = append(want, member{k, string(bytes.TrimSpace(val)), false, true})
			}
		})
		if err != nil {
			return
		}
		PackedJSONOf(PackJSON(nil, raw)).eachMember(func(k, v string, str, ok bool) {
			got = append(got, member{k, v, str, ok})
		})
		if len(got) != len(want) {
			t.Fatalf("%s: %d members, want %d: %+v %+v", raw, len(got), len(want), got, want)
		}
		for i := range want {
			// jsonparser unescapes keys; the shape keeps them as written.
			if want[i].key != got[i].key && !strings.Contains(got[i].key, `\`) || want[i].v != got[i].v ||
				want[i].str != got[i].str || want[i].ok != got[i].ok {
				t.Fatalf("%s: member %d %+v, want %+v", raw, i, got[i], want[i])
			}
		}
	})
}

// TestSnapshotSizes guards the size classes the member memory figures
// rest on (BENCHMARKS.md, "Performance round 2 — members, second pass"):
// a field added to a snapshot or a presence costs every member.
func TestSnapshotSizes(t *testing.T) {
	if n := unsafe.Sizeof(User{}); n > 80 {
		t.Errorf("core.User is %d bytes, more than the 80-byte size class", n)
	}
	if n := unsafe.Sizeof(Presence{}); n > 64 {
		t.Errorf("core.Presence is %d bytes, more than the 64-byte size class", n)
	}
}

// TestRecordSetFresh: the fresh mark lives in the id's own slot (or, for
// an id that is no Discord number, the text map's value), survives a
// later plain mark, and goes with the id.
func TestRecordSetFresh(t *testing.T) {
	var s recordSet
	ids := []string{"5", "9223372036854775808", "u1"} // a snowflake, a number with freshBit set, text
	for _, id := range ids {
		s.markFresh(id) // not marked: stays unmarked
		if s.has(id) {
			t.Fatalf("%s marked by markFresh alone", id)
		}
		s.add(id)
		s.markFresh(id)
		s.add(id) // a later change: still fresh
		s.markFresh(id)
	}
	s.add("7")
	if s.len() != 4 || s.fresh != 3 {
		t.Fatalf("len %d, fresh %d; want 4 and 3", s.len(), s.fresh)
	}
	got := map[string]bool{}
	for id, fresh := range s.all() {
		got[id] = fresh
	}
	want := map[string]bool{"5": true, "9223372036854775808": true, "u1": true, "7": false}
	if !maps.Equal(got, want) {
		t.Fatalf("all() = %v, want %v", got, want)
	}
	for _, id := range append(ids, "7") {
		if !s.has(id) {
			t.Fatalf("%s not in the set", id)
		}
		s.del(id)
		if s.has(id) {
			t.Fatalf("%s still in the set after del", id)
		}
	}
	if s.len() != 0 || s.fresh != 0 {
		t.Fatalf("after deleting all: len %d, fresh %d", s.len(), s.fresh)
	}
}
