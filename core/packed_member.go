package core

import (
	"strings"
	"unsafe"

	"github.com/halyardhq/halyard/internal/jsonread"
)

// member returns the raw JSON of the top-level member key of the object p
// holds (the last one when the key repeats, as encoding/json keeps it),
// read without rebuilding the JSON. A string value is returned without
// its quotes and str is true; a number or a literal (null, true, false)
// is returned as written; an object or array value, or no such member, is
// !ok. key must need no escaping.
func (p PackedJSON) member(key string) (v string, str, ok bool) {
	if p.s == "" {
		return "", false, false
	}
	if p.verbatim() {
		return verbatimMember(p.s[2:], key)
	}
	shape, holes := p.shape(), p.s[2:]
	hole, want := 0, -1 // want: the matched member's hole, or -1
	depth, match := 0, false
	var lit string
	for i := 0; i < len(shape); {
		c := shape[i]
		switch {
		case c == '{' || c == '[':
			if match { // an object or array value: not a scalar
				match, want, ok = false, -1, false
			}
			depth++
			i++
		case c == '}' || c == ']':
			depth--
			i++
		case c == '"' && i+2 < len(shape) && shape[i+1] == holeMark:
			if match {
				match, want, str, ok = false, hole, true, true
			}
			hole++
			i += 3
		case c == '"': // a key
			end := strings.IndexByte(shape[i+1:], '"') + i + 1
			for shape[end-1] == '\\' && !evenBackslashes(shape[i+1:end]) {
				end = strings.IndexByte(shape[end+1:], '"') + end + 1
			}
			match = depth == 1 && shape[i+1:end] == key
			i = end + 1
		case c == holeMark:
			if match {
				match, want, str, ok = false, hole, false, true
			}
			hole++
			i++
		case c >= 'a' && c <= 'z':
			j := i
			for j < len(shape) && shape[j] >= 'a' && shape[j] <= 'z' {
				j++
			}
			if match {
				match, want, str, ok, lit = false, -1, false, true, shape[i:j]
			}
			i = j
		default: // ',', ':', whitespace
			i++
		}
	}
	if !ok || want < 0 {
		return lit, false, ok
	}
	for n := 0; ; n++ {
		l, k := uvarint(holes)
		if n == want {
			return holes[k : k+l], str, true
		}
		holes = holes[k+l:]
	}
}

// evenBackslashes reports whether s ends in an even run of backslashes
// (so a quote after it closes the string).
func evenBackslashes(s string) bool {
	n := 0
	for n < len(s) && s[len(s)-1-n] == '\\' {
		n++
	}
	return n%2 == 0
}

// verbatimMember is member for JSON kept as it came.
func verbatimMember(s, key string) (v string, str, ok bool) {
	raw := unsafe.Slice(unsafe.StringData(s), len(s)) // read only
	_ = jsonread.EachMember(raw, func(k string, val []byte) {
		if k != key {
			return
		}
		switch jsonread.Kind(val) {
		case '{', '[':
			v, str, ok = "", false, false
		case '"':
			v, str, ok = jsonread.Alias(val[1:len(val)-1]), true, true
		default:
			v, str, ok = jsonread.Alias(val), false, true
		}
	})
	return v, str, ok
}
