package core

import (
	"bytes"
	"encoding/gob"
	"strings"
	"testing"
	"unsafe"
)

var packSamples = []string{
	`{"id":"94490510688792576","username":"phin","discriminator":"0","global_name":null,"avatar":"a_74","public_flags":64,"flags":64,"banner":null,"accent_color":null,"avatar_decoration_data":null,"collectibles":null,"primary_guild":{"identity_guild_id":"1","identity_enabled":true,"tag":"GG","badge":"ab"},"clan":null}`,
	`{"id":"spotify:1","name":"Spotify","type":2,"created_at":1733500000000,"timestamps":{"start":1733499900000,"end":1733500100000},"details":"Redbone","state":"Childish Gambino","party":{"id":"spotify:1"},"assets":{"large_image":"spotify:ab67","large_text":"\"Awaken, My Love!\""},"sync_id":"x","session_id":"y","flags":48}`,
	`{"name":"Custom Status","type":4,"state":"caf\u00e9 \\ \"q\" 🚢","emoji":{"name":"🚢"},"buttons":["Join","Watch"],"size":[1,5],"x":-1.5e+3,"y":true,"z":false}`,
	` { "spaced" : [ 1 , "two" , null ] } `,
	`{"":""}`, `[]`, `{}`, `"just a string"`, `12`, `[[[{"a":[]}]]]`,
	// Not JSON: kept verbatim, still byte for byte.
	`{"a":`, `{"a":"unterminated}`, `{"a":1}}`, `]`, `{"a":tru}`, "{\"a\":\"\x00\"}", `@`, `{"a":"\`,
}

func TestPackJSONRoundTrip(t *testing.T) {
	for _, raw := range packSamples {
		p := PackedJSONOf(PackJSON(nil, []byte(raw)))
		if got := string(p.Bytes()); got != raw {
			t.Errorf("round trip\n got %q\nwant %q", got, raw)
		}
		if p.Len() != len(raw) {
			t.Errorf("%q: Len %d, want %d", raw, p.Len(), len(raw))
		}
		if got := string(p.AppendTo([]byte("x"))); got != "x"+raw {
			t.Errorf("AppendTo kept no prefix: %q", got)
		}
	}
}

// TestPackJSONShares: every value's text parsed from raw is found inside
// the packed form, so parsed fields share it; the same JSON packs to the
// same bytes and a repeated shape is stored once.
func TestPackJSONShares(t *testing.T) {
	raw := []byte(packSamples[0])
	buf := PackJSON(nil, raw)
	p := PackedJSONOf(buf)
	if len(buf) >= len(raw)/2 {
		t.Errorf("packed %d bytes of %d: keys and nulls not in the shape", len(buf), len(raw))
	}
	for _, v := range []string{"94490510688792576", "phin", "a_74", "64", "GG"} {
		i := bytes.Index(raw, []byte(v))
		s := unsafe.String(&raw[i], len(v))
		got := p.Share(raw, s)
		if got != v {
			t.Fatalf("Share(%q) = %q", v, got)
		}
		if !inside(got, p.s) {
			t.Errorf("Share(%q) does not share the packed form", v)
		}
	}
	if key := p.Share(raw, unsafe.String(&raw[2], 2)); key != "id" || inside(key, p.s) {
		t.Errorf("a key's text: %q, shared %v (want a copy)", key, inside(key, p.s))
	}
	other := "elsewhere"
	if got := p.Share(raw, other); got != other || unsafe.StringData(got) == unsafe.StringData(other) {
		t.Errorf("a string outside raw must be copied: %q", got)
	}
	q := PackedJSONOf(PackJSON(nil, []byte(strings.Replace(packSamples[0], "phin", "phil", 1))))
	if p.Equal(q) || !p.Equal(PackedJSONOf(PackJSON(nil, raw))) {
		t.Error("Equal does not follow the JSON")
	}
	if p.shape() != q.shape() || unsafe.StringData(p.shape()) != unsafe.StringData(q.shape()) {
		t.Error("one shape is stored twice")
	}
	verb := PackedJSONOf(append([]byte{0, 0}, raw...))
	if !verb.Equal(p) || !p.Equal(verb) || verb.Equal(q) {
		t.Error("a verbatim value compares by its JSON")
	}
}

func TestPackedJSONGob(t *testing.T) {
	type carrier struct{ P PackedJSON }
	var b bytes.Buffer
	in := carrier{PackedJSONOf(PackJSON(nil, []byte(packSamples[1])))}
	if err := gob.NewEncoder(&b).Encode(in); err != nil {
		t.Fatal(err)
	}
	var out carrier
	if err := gob.NewDecoder(&b).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if !out.P.Equal(in.P) || string(out.P.Bytes()) != packSamples[1] {
		t.Fatalf("gob: %s", out.P.Bytes())
	}
}

func FuzzPackJSON(f *testing.F) {
	for _, s := range packSamples {
		f.Add([]byte(s), 3, 5)
	}
	f.Fuzz(func(t *testing.T, raw []byte, from, n int) {
		p := PackedJSONOf(PackJSON([]byte("prefix"), raw)[len("prefix"):])
		if got := p.Bytes(); !bytes.Equal(got, raw) && len(raw) > 0 {
			t.Fatalf("round trip\n got %q\nwant %q", got, raw)
		}
		if len(raw) > 0 && p.Len() != len(raw) {
			t.Fatalf("Len %d, want %d", p.Len(), len(raw))
		}
		if len(raw) == 0 || from < 0 || n <= 0 || from+n > len(raw) {
			return
		}
		s := unsafe.String(&raw[from], n)
		if got := p.Share(raw, s); got != string(raw[from:from+n]) {
			t.Fatalf("Share(%q) = %q", s, got)
		}
	})
}

// inside reports whether s lies in the memory of all.
func inside(s, all string) bool {
	a := uintptr(unsafe.Pointer(unsafe.StringData(all)))
	p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
	return p >= a && p+uintptr(len(s)) <= a+uintptr(len(all))
}
