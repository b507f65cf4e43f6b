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

// appendJSONString appends s as encoding/json encodes a string: HTML
// characters, control characters, U+2028/U+2029 and invalid UTF-8 are
// left to encoding/json itself (rare in simulated data), the rest is
// copied with only '"' and '\' escaped.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '<' || c == '>' || c == '&' {
				return appendMarshalled(b, s)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			return appendMarshalled(b, s)
		}
		i += size
	}
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', c)
			start = i + 1
		}
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

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
