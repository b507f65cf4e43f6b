package jsonread

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// validitySeeds are JSON texts valid and not, around every rule the
// Decoder checks.
var validitySeeds = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `1.5e+3`, `true`, `false`, `null`, ` {"a" : [1, {"b":null}] } `,
	`{"a":1,}`, `[1,]`, `{"a"}`, `{"a":}`, `{1:2}`, `[1 2]`, `{"a":1 "b":2}`, `{"a":1}}`, `[[]`, `]`,
	`01`, `-`, `1.`, `.5`, `1e`, `1e+`, `+1`, `1E5`, `-01`, `2.0E-7`, `tru`, `nul`, `nulll`, `True`,
	`"\u00e9\n\"\\\/\b\f\r\t"`, `"\u00g0"`, `"\x"`, `"\u12"`, "\"a\tb\"", "\"\x00\"", "\"\xff\xfe\"",
	`"abc`, `"abc\"`, "\ufeff{}", "{}\x00", ``, ` `, `{} {}`, `{"a":"b"}x`, "\"" + strings.Repeat("é", 40) + "\"",
	`{"op":0,"d":{"members":[{"user":{"id":"1","username":"x"}}],"presences":[]}}`,
	strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth),
	strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1),
	strings.Repeat(`{"a":`, maxDepth) + "1" + strings.Repeat("}", maxDepth),
	strings.Repeat(`{"a":`, maxDepth+1) + "1" + strings.Repeat("}", maxDepth+1),
}

// readAll walks data with every method: objects and arrays are walked
// into, scalars skipped.
func readAll(d *Decoder) {
	switch d.Peek() {
	case '{':
		d.Object(func(string) { readAll(d) })
	case '[':
		d.Array(func() { readAll(d) })
	default:
		d.Skip()
	}
}

func TestDecoderValidity(t *testing.T) {
	for _, s := range validitySeeds {
		d := NewDecoder([]byte(s))
		readAll(&d)
		if got, want := d.Finish() == nil, json.Valid([]byte(s)); got != want {
			name := s
			if len(name) > 40 {
				name = name[:40] + "…"
			}
			t.Errorf("%q: decoder accepts %v, encoding/json.Valid %v (%v)", name, got, want, d.Err())
		}
	}
}

// FuzzDecoderMatchesValid: a walk of the whole input (walked into or
// skipped) succeeds exactly when encoding/json.Valid accepts it, and a
// skipped value is the value as written.
func FuzzDecoderMatchesValid(f *testing.F) {
	for _, s := range validitySeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		valid := json.Valid(data)
		d := NewDecoder(data)
		readAll(&d)
		if ok := d.Finish() == nil; ok != valid {
			t.Fatalf("walk accepts %v, encoding/json.Valid %v (%v)", ok, valid, d.Err())
		}
		d = NewDecoder(data)
		raw := d.Skip()
		if ok := d.Finish() == nil; ok != valid {
			t.Fatalf("skip accepts %v, encoding/json.Valid %v (%v)", ok, valid, d.Err())
		}
		if valid && !bytes.Equal(raw, bytes.TrimSpace(data)) {
			t.Fatalf("skipped %q of %q", raw, data)
		}
	})
}

// TestDecoderWalk: names come unescaped and values as written, a value
// the callback leaves is skipped, and Object and Array tell other kinds
// apart (skipping them).
func TestDecoderWalk(t *testing.T) {
	data := []byte(`{"user":{"id":"1","n\u0061me":"a\"b"},"list":[1,{"x":2},"s"],"left":{"deep":[[]]},"odd":5,"after":true}`)
	d := NewDecoder(data)
	var got []string
	raw := d.Object(func(key string) {
		got = append(got, key)
		switch key {
		case "user":
			u := d.Object(func(key string) { got = append(got, key+"="+string(d.Skip())) })
			got = append(got, string(u))
		case "list":
			d.Array(func() {
				if d.Peek() == '{' {
					d.Object(func(key string) {})
					return
				}
				got = append(got, string(d.Skip()))
			})
		case "odd":
			if d.Object(func(string) { t.Error("walked into a number") }) != nil {
				t.Error("a number read as an object")
			}
		case "after":
			if d.Array(func() { t.Error("walked into a boolean") }) != nil {
				t.Error("a boolean read as an array")
			}
		}
	})
	want := []string{"user", `id="1"`, `name="a\"b"`, `{"id":"1","n\u0061me":"a\"b"}`, "list", "1", `"s"`, "left", "odd", "after"}
	if err := d.Finish(); err != nil || string(raw) != string(data) || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("walk: %v %q\n got %q\nwant %q", err, raw, got, want)
	}
	if cap(raw) != len(raw) {
		t.Error("raw value not capped")
	}

	d = NewDecoder([]byte(`{"a":1,"b":[1,}`))
	calls := 0
	if d.Object(func(string) { calls++ }) != nil || d.Err() == nil || calls != 2 {
		t.Fatalf("malformed object: calls %d, err %v", calls, d.Err())
	}
	if d.Skip() != nil || d.Peek() != 0 {
		t.Error("reads go on after an error")
	}
}
