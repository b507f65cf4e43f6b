package jsonread

import (
	"bytes"
	"encoding/json"
)

// ReplaceMember returns the JSON object obj with the value of member key
// replaced by val, keeping every other member and their order.
func ReplaceMember(obj []byte, key string, val []byte) ([]byte, bool) {
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
