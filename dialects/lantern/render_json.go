package lantern

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// appendString appends s as a JSON string the way JSON.stringify writes it
// (docs/compat/lantern.md §1.2): only '"', '\' and control characters are escaped; <, >, &,
// U+2028, U+2029 and every other character are written raw. Invalid UTF-8
// becomes U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				const hex = "0123456789abcdef"
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, "\ufffd"...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendNullable appends s, or null when s is empty.
func appendNullable(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return appendString(b, s)
}

// appendStringPtr appends *p, or null when p is nil.
func appendStringPtr(b []byte, p *string) []byte {
	if p == nil {
		return append(b, "null"...)
	}
	return appendString(b, *p)
}

// appendBool appends a JSON boolean.
func appendBool(b []byte, v bool) []byte {
	return strconv.AppendBool(b, v)
}

// isoMillis is the raw form of a time (docs/compat/lantern.md §3.2): UTC, three fractional digits.
const isoMillis = "2006-01-02T15:04:05.000Z"

// appendTimePair appends {"unix":<seconds>,"raw":"<ISO>"} for a time in
// Unix milliseconds (docs/compat/lantern.md §3.2): seconds are floored.
func appendTimePair(b []byte, ms int64) []byte {
	sec := ms / 1000
	if ms%1000 < 0 {
		sec--
	}
	b = append(b, `{"unix":`...)
	b = strconv.AppendInt(b, sec, 10)
	b = append(b, `,"raw":`...)
	b = appendString(b, time.UnixMilli(ms).UTC().Format(isoMillis))
	return append(b, '}')
}

// nullTimePair is a time pair for an unknown time.
const nullTimePair = `{"unix":null,"raw":null}`

// appendTime appends the pair of t, or nullTimePair for the zero time.
func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, nullTimePair...)
	}
	return appendTimePair(b, t.UnixMilli())
}
