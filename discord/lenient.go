package discord

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
)

// Discord warns that presence fields are not type-checked: integers arrive
// as floats or strings, snowflakes as numbers. These helpers read one JSON
// value leniently; ok is false only when the value has a type that cannot
// be read as asked (the caller then skips that field, never the event).

// errNotObject rejects a payload that is not a JSON object.
var errNotObject = errors.New("payload is not a JSON object")

// unmarshalLenient decodes a JSON object into w, whose fields are
// json.RawMessage or structs of them: a member of an unexpected type (an
// object where a struct wants one, or the reverse) is skipped and the rest
// decoded; only malformed JSON or a non-object fails.
func unmarshalLenient(raw []byte, w any) error {
	if kind(raw) != '{' {
		return errNotObject
	}
	err := json.Unmarshal(raw, w)
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return nil
	}
	return err
}

// kind returns the first byte of a JSON value, 0 when it is empty.
func kind(raw []byte) byte {
	for _, c := range raw {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c
	}
	return 0
}

func isNull(raw []byte) bool {
	k := kind(raw)
	return k == 0 || (k == 'n' && string(bytes.TrimSpace(raw)) == "null")
}

func isNumber(raw []byte) bool {
	k := kind(raw)
	return k == '-' || (k >= '0' && k <= '9')
}

// lenientString reads a string; a number becomes its text; null or absent
// is "".
func lenientString(raw []byte) (string, bool) {
	switch k := kind(raw); {
	case isNull(raw):
		return "", true
	case k == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", false
		}
		return s, true
	case isNumber(raw):
		return string(bytes.TrimSpace(raw)), true
	}
	return "", false
}

// lenientInt reads an integer sent as an integer, a float or a numeric
// string; null or absent is 0.
func lenientInt(raw []byte) (int64, bool) {
	if isNull(raw) {
		return 0, true
	}
	var text string
	switch {
	case kind(raw) == '"':
		s, ok := lenientString(raw)
		if !ok {
			return 0, false
		}
		text = strings.TrimSpace(s)
		if text == "" {
			return 0, true
		}
	case isNumber(raw):
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

// lenientBool reads a boolean; also accepts 0/1 and "true"/"false".
func lenientBool(raw []byte) (bool, bool) {
	if isNull(raw) {
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

// lenientSnowflake reads an ID sent as a string or a number and returns it
// as a decimal string.
func lenientSnowflake(raw []byte) (string, bool) {
	if isNumber(raw) {
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
	return lenientString(raw)
}

// objectID reads the "id" member of a JSON object, "" when there is none.
func objectID(raw []byte) string {
	if kind(raw) != '{' {
		return ""
	}
	var w struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(raw, &w) != nil {
		return ""
	}
	id, _ := lenientSnowflake(w.ID)
	return id
}

// replaceMember returns the JSON object obj with the value of member key
// replaced by val, keeping every other member and their order.
func replaceMember(obj []byte, key string, val []byte) ([]byte, bool) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return obj, false
	}
	var out bytes.Buffer
	out.Grow(len(obj) + len(val))
	out.WriteByte('{')
	for first := true; dec.More(); first = false {
		t, err := dec.Token()
		name, isString := t.(string)
		if err != nil || !isString {
			return obj, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return obj, false
		}
		if name == key {
			v = val
		}
		if !first {
			out.WriteByte(',')
		}
		k, _ := json.Marshal(name)
		out.Write(k)
		out.WriteByte(':')
		out.Write(v)
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return obj, false
	}
	out.WriteByte('}')
	return out.Bytes(), true
}

// lenientFloat reads a number sent as a number or a numeric string.
func lenientFloat(raw []byte) (float64, bool) {
	s, ok := lenientString(raw)
	if !ok || s == "" {
		return 0, ok
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}
