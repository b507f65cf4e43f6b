package jsonread

import (
	"unsafe"

	"github.com/buger/jsonparser"
)

// The gateway decoder walks payloads with jsonparser instead of
// encoding/json: no reflection, no second validation pass (arikawa already
// parsed the whole frame before handing us its bytes), and every value is a
// slice of the payload, so verbatim copies cost one copy and parsed strings
// can share it. The value readers (read.go) are lenient: a member
// of an unexpected type is skipped, never the event.

// EachMember calls fn for every member of the JSON object obj with the
// member's name and its raw value exactly as written (strings with their
// quotes). Raw values are capped slices of obj: appending to one never
// writes into obj. A later duplicate member overrides an earlier one when
// fn assigns, as encoding/json does. Keys match exactly.
func EachMember(obj []byte, fn func(key string, raw []byte)) error {
	if Kind(obj) != '{' {
		return ErrNotObject
	}
	return jsonparser.ObjectEach(obj, func(key, v []byte, t jsonparser.ValueType, end int) error {
		// end is the offset just past the value (past a string's quote).
		if t == jsonparser.String {
			v = obj[end-len(v)-2 : end : end]
		}
		fn(unsafe.String(unsafe.SliceData(key), len(key)), v)
		return nil
	})
}

// EachElement calls fn for every element of the JSON array arr, raw as in
// eachMember. It reports whether arr was an array (null or absent counts,
// with no elements).
func EachElement(arr []byte, fn func(raw []byte)) bool {
	switch Kind(arr) {
	case 0:
		return true
	case 'n':
		return IsNull(arr)
	case '[':
	default:
		return false
	}
	_, err := jsonparser.ArrayEach(arr, func(v []byte, t jsonparser.ValueType, at int, err error) {
		if err != nil {
			return
		}
		// jsonparser hands out a string without its quotes and, for
		// one, at is two past the opening quote.
		if t == jsonparser.String {
			v = arr[at-2 : at+len(v) : at+len(v)]
		}
		fn(v)
	})
	return err == nil
}

// Alias returns b as a string without copying. Only for bytes that are
// never written again: the private copy of a payload arikawa hands over
// (events.go), or a copy made for one member or presence.
func Alias(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
