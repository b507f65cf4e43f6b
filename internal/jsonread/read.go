// Package jsonread holds the lenient JSON value readers Halyard uses on
// Discord's payloads (the gateway decoder, and core when it decodes a
// packed activity on demand).
package jsonread

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The gateway's value readers: one family for every dispatch Halyard
// decodes itself. Discord warns that presence fields are not type-checked:
// integers arrive as floats or strings, snowflakes as numbers. Each reader
// takes one raw JSON value (a slice EachMember or EachElement handed out)
// and is lenient: ok is false only when the value has a type that cannot
// be read as asked, and the caller then skips that field, never the event.
// The common shape (a plain string, a plain integer) is read without
// encoding/json and, where share is true, without a copy.

// ErrNotObject rejects a payload that is not a JSON object.
var ErrNotObject = errors.New("payload is not a JSON object")

// Kind returns the first byte of a JSON value, 0 when it is empty.
func Kind(raw []byte) byte {
	for _, c := range raw {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c
	}
	return 0
}

func IsNull(raw []byte) bool {
	k := Kind(raw)
	return k == 0 || (k == 'n' && string(bytes.TrimSpace(raw)) == "null")
}

func IsNumber(raw []byte) bool {
	k := Kind(raw)
	return k == '-' || (k >= '0' && k <= '9')
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// ReadString reads a string; a number becomes its text; null or absent is
// "". A plain string (no escapes, valid UTF-8) shares raw's memory when
// share is true and is copied otherwise.
func ReadString(raw []byte, share bool) (string, bool) {
	if n := len(raw); n >= 2 && raw[0] == '"' && raw[n-1] == '"' {
		body := raw[1 : n-1]
		if bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body) {
			if share {
				return Alias(body), true
			}
			return string(body), true
		}
	}
	switch k := Kind(raw); {
	case IsNull(raw):
		return "", true
	case k == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", false
		}
		return s, true
	case IsNumber(raw):
		return string(bytes.TrimSpace(raw)), true
	}
	return "", false
}

// ReadSnowflake reads an ID sent as a string or a number and returns it as
// a decimal string, sharing raw's memory when share is true and the id is
// a plain decimal string.
func ReadSnowflake(raw []byte, share bool) (string, bool) {
	if n := len(raw); n >= 3 && raw[0] == '"' && raw[n-1] == '"' && allDigits(raw[1:n-1]) {
		if share {
			return Alias(raw[1 : n-1]), true
		}
		return string(raw[1 : n-1]), true
	}
	if IsNumber(raw) {
		text := string(bytes.TrimSpace(raw))
		if n, err := strconv.ParseUint(text, 10, 64); err == nil {
			return strconv.FormatUint(n, 10), true
		}
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || f < 0 || f >= math.MaxUint64 || f != math.Trunc(f) {
			return "", false
		}
		return strconv.FormatUint(uint64(f), 10), true
	}
	return ReadString(raw, false)
}

// ReadInt reads an integer sent as an integer, a float or a numeric
// string; null or absent is 0.
func ReadInt(raw []byte) (int64, bool) {
	d := raw
	neg := false
	if len(d) > 0 && d[0] == '-' {
		neg, d = true, d[1:]
	}
	if n := len(d); n > 0 && n <= 18 && allDigits(d) {
		var v int64
		for _, c := range d {
			v = v*10 + int64(c-'0')
		}
		if neg {
			v = -v
		}
		return v, true
	}
	if IsNull(raw) {
		return 0, true
	}
	var text string
	switch {
	case Kind(raw) == '"':
		s, ok := ReadString(raw, false)
		if !ok {
			return 0, false
		}
		text = strings.TrimSpace(s)
		if text == "" {
			return 0, true
		}
	case IsNumber(raw):
		text = string(bytes.TrimSpace(raw))
	default:
		return 0, false
	}
	if n, err := strconv.ParseInt(text, 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f > math.MaxInt64 || f < math.MinInt64 {
		return 0, false
	}
	return int64(f), true
}

// ReadFloat reads a number sent as a number or a numeric string; null or
// absent is 0.
func ReadFloat(raw []byte) (float64, bool) {
	s, ok := ReadString(raw, false)
	if !ok || s == "" {
		return 0, ok
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// ReadBool reads a boolean; also accepts 0/1 and "true"/"false".
func ReadBool(raw []byte) (bool, bool) {
	switch string(raw) {
	case "true":
		return true, true
	case "false", "":
		return false, true
	}
	if IsNull(raw) {
		return false, true
	}
	switch strings.Trim(string(bytes.TrimSpace(raw)), `"`) {
	case "true", "1":
		return true, true
	case "false", "0", "":
		return false, true
	}
	return false, false
}

// ReadTime reads an ISO 8601 timestamp (Discord's
// "2021-03-01T12:00:00.000000+00:00"); null, absent or unreadable is the
// zero time: the join time is then unknown, never a reason to drop the
// member.
func ReadTime(raw []byte) time.Time {
	s, ok := ReadString(raw, true) // time.Parse keeps none of it
	if !ok || s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}
