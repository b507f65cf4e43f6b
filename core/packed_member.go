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
	p.eachMember(func(k, kv string, kstr, kok bool) {
		if k == key {
			v, str, ok = kv, kstr, kok
		}
	})
	return v, str, ok
}

// eachMember calls fn for every top-level member of the object p holds,
// in order, with its key as written (escapes kept) and its value as
// member returns it.
func (p PackedJSON) eachMember(fn func(key, v string, str, ok bool)) {
	if p.s == "" {
		return
	}
	if p.verbatim() {
		verbatimMembers(p.s[2:], fn)
		return
	}
	shape, holes := p.shape(), p.s[2:]
	depth := 0
	key := "" // the depth-1 key whose value comes next, "" when none
	pending := false
	next := func() (string, bool) { // the next hole's value
		l, k := uvarint(holes)
		v := holes[k : k+l]
		holes = holes[k+l:]
		return v, true
	}
	for i := 0; i < len(shape); {
		c := shape[i]
		switch {
		case c == '{' || c == '[':
			if pending {
				fn(key, "", false, false)
				pending = false
			}
			depth++
			i++
		case c == '}' || c == ']':
			depth--
			i++
		case c == '"' && i+2 < len(shape) && shape[i+1] == holeMark:
			v, _ := next()
			if pending {
				fn(key, v, true, true)
				pending = false
			}
			i += 3
		case c == '"': // a key
			end := strings.IndexByte(shape[i+1:], '"') + i + 1
			for shape[end-1] == '\\' && !evenBackslashes(shape[i+1:end]) {
				end = strings.IndexByte(shape[end+1:], '"') + end + 1
			}
			if depth == 1 {
				key, pending = shape[i+1:end], true
			}
			i = end + 1
		case c == holeMark:
			v, _ := next()
			if pending {
				fn(key, v, false, true)
				pending = false
			}
			i++
		case c >= 'a' && c <= 'z':
			j := i
			for j < len(shape) && shape[j] >= 'a' && shape[j] <= 'z' {
				j++
			}
			if pending {
				fn(key, shape[i:j], false, true)
				pending = false
			}
			i = j
		default: // ',', ':', whitespace
			i++
		}
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

// verbatimMembers is eachMember for JSON kept as it came.
func verbatimMembers(s string, fn func(key, v string, str, ok bool)) {
	raw := unsafe.Slice(unsafe.StringData(s), len(s)) // read only
	_ = jsonread.EachMember(raw, func(k string, val []byte) {
		switch jsonread.Kind(val) {
		case '{', '[':
			fn(k, "", false, false)
		case '"':
			fn(k, jsonread.Alias(val[1:len(val)-1]), true, true)
		default:
			fn(k, jsonread.Alias(val), false, true)
		}
	})
}
