package discordsim

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// The append helpers below write JSON exactly as encoding/json's Marshal
// does (same escaping, same compact form), for the objects the simulator
// sends by the thousand (member chunks): reflection and re-compacting
// already-compact bytes were most of its CPU at a million members. Tests
// compare every one with json.Marshal.

// appendJSONString appends s as encoding/json encodes a string: '"' and
// '\' escaped, multi-byte UTF-8 copied; HTML characters, control
// characters, U+2028/U+2029 and invalid UTF-8 (never in generated data)
// are left to encoding/json itself.
func appendJSONString(b []byte, s string) []byte {
	start := len(b)
	b = append(b, '"')
	from := 0 // s[from:i] is still to copy
	for i := 0; i < len(s); {
		c := s[i]
		if plainJSONByte[c] {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
				return appendMarshalled(b[:start], s)
			}
			i += size
			continue
		}
		if c != '"' && c != '\\' {
			return appendMarshalled(b[:start], s)
		}
		b = append(b, s[from:i]...)
		b = append(b, '\\', c)
		i++
		from = i
	}
	b = append(b, s[from:]...)
	return append(b, '"')
}

// plainJSONByte marks the ASCII bytes encoding/json copies unchanged
// into a string (with its HTML escaping on).
var plainJSONByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

func appendMarshalled(b []byte, v any) []byte {
	enc, _ := json.Marshal(v)
	return append(b, enc...)
}

// appendCanonical appends raw JSON as encoding/json embeds a
// json.RawMessage (compacted, HTML characters escaped): for bytes that
// came from outside the simulator and may be neither.
func appendCanonical(b []byte, raw []byte) []byte {
	enc, err := json.Marshal(json.RawMessage(raw))
	if err != nil {
		return append(b, raw...) // stored objects were validated when they came in
	}
	return append(b, enc...)
}

// appendOptString appends *s, or null.
func appendOptString(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendJSONString(b, *s)
}

// appendKey appends "key": after a comma unless first.
func appendKey(b []byte, key string, first bool) []byte {
	if !first {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, key...)
	return append(b, '"', ':')
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, "true"...)
	}
	return append(b, "false"...)
}

// appendIDString appends a snowflake as a JSON string.
func appendIDString(b []byte, id uint64) []byte {
	b = append(b, '"')
	b = strconv.AppendUint(b, id, 10)
	return append(b, '"')
}
