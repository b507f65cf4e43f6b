package core

import (
	"bytes"
	"encoding/json"
	"errors"
	"iter"
	"slices"
)

// KV is one user's key/value store, in insertion order: a key keeps the
// place where it was first written, overwriting it keeps that place, and a
// key deleted and written again goes last. Lantern returns storage in that
// order (docs/compat/lantern.md §3.7), so the order is part of the data: the store
// keeps it and loads it back as it was written. Dialects whose reference
// renders keys sorted (Lanyard, harmy) sort at render time (SortedKeys).
//
// The zero KV is empty and ready to use. Copying a KV shares it, as with a
// map; a KV held by a *User is shared and must be treated as read-only: use
// Clone before changing it.
//
// A KV is one pointer: every monitored user's snapshot holds one, and most
// are empty.
type KV struct{ d *kvData }

// kvData is a non-empty KV's pairs.
type kvData struct {
	keys []string // insertion order
	vals map[string]string
}

// keys returns the keys in insertion order (shared).
func (kv KV) keys() []string {
	if kv.d == nil {
		return nil
	}
	return kv.d.keys
}

// vals returns the pairs (shared; nil while empty).
func (kv KV) vals() map[string]string {
	if kv.d == nil {
		return nil
	}
	return kv.d.vals
}

// KVOf returns a KV holding the given pairs, written in order: key, value,
// key, value... A key given twice keeps its first place and its last value.
// It panics on an odd number of arguments (a literal written wrong).
func KVOf(keyValues ...string) KV {
	if len(keyValues)%2 != 0 {
		panic("core.KVOf: odd number of arguments")
	}
	var kv KV
	for i := 0; i < len(keyValues); i += 2 {
		kv.Set(keyValues[i], keyValues[i+1])
	}
	return kv
}

// Len is the number of pairs.
func (kv KV) Len() int { return len(kv.keys()) }

// Get returns the value of key and whether it is set.
func (kv KV) Get(key string) (string, bool) {
	v, ok := kv.vals()[key]
	return v, ok
}

// Value returns the value of key, "" when it is not set.
func (kv KV) Value(key string) string { return kv.vals()[key] }

// Has reports whether key is set.
func (kv KV) Has(key string) bool {
	_, ok := kv.vals()[key]
	return ok
}

// Keys returns the keys in insertion order, in a slice the caller owns.
func (kv KV) Keys() []string { return slices.Clone(kv.keys()) }

// SortedKeys returns the keys in byte-wise sorted order, in a slice the
// caller owns.
func (kv KV) SortedKeys() []string {
	keys := slices.Clone(kv.keys())
	slices.Sort(keys)
	return keys
}

// All yields the pairs in insertion order without allocating.
func (kv KV) All() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for _, k := range kv.keys() {
			if !yield(k, kv.vals()[k]) {
				return
			}
		}
	}
}

// Map returns the pairs as a new map (no order), for encoders that sort
// map keys.
func (kv KV) Map() map[string]string {
	m := make(map[string]string, len(kv.keys()))
	for k, v := range kv.vals() {
		m[k] = v
	}
	return m
}

// Clone returns a copy of kv that the caller may change.
func (kv KV) Clone() KV {
	if len(kv.keys()) == 0 {
		return KV{}
	}
	out := &kvData{keys: make([]string, len(kv.d.keys), len(kv.d.keys)+1), vals: make(map[string]string, len(kv.d.keys)+1)}
	copy(out.keys, kv.d.keys)
	for k, v := range kv.d.vals {
		out.vals[k] = v
	}
	return KV{out}
}

// Set writes one pair: a new key goes last, an existing key keeps its place.
func (kv *KV) Set(key, value string) {
	if kv.d == nil {
		kv.d = &kvData{vals: map[string]string{}}
	}
	if _, ok := kv.d.vals[key]; !ok {
		kv.d.keys = append(kv.d.keys, key)
	}
	kv.d.vals[key] = value
}

// Delete removes key; removing an absent key does nothing.
func (kv *KV) Delete(key string) {
	if _, ok := kv.vals()[key]; !ok {
		return
	}
	delete(kv.d.vals, key)
	i := slices.Index(kv.d.keys, key)
	kv.d.keys = slices.Delete(kv.d.keys, i, i+1)
}

// Equal reports whether kv and other hold the same pairs in the same order.
func (kv KV) Equal(other KV) bool {
	if !slices.Equal(kv.keys(), other.keys()) {
		return false
	}
	for k, v := range kv.vals() {
		if other.vals()[k] != v {
			return false
		}
	}
	return true
}

// MarshalJSON encodes kv as a JSON object in insertion order, for
// diagnostics and tests; dialects render with their own string escaping.
func (kv KV) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	b.WriteByte('{')
	for i, k := range kv.keys() {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := enc.Encode(k); err != nil {
			return nil, err
		}
		b.Truncate(b.Len() - 1) // Encode's newline
		b.WriteByte(':')
		if err := enc.Encode(kv.vals()[k]); err != nil {
			return nil, err
		}
		b.Truncate(b.Len() - 1)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// String is kv as JSON, for messages and test failures.
func (kv KV) String() string {
	b, _ := kv.MarshalJSON() // strings always encode
	return string(b)
}

// errKVNotObject is UnmarshalJSON's answer to anything but an object of
// strings.
var errKVNotObject = errors.New("core: KV must be a JSON object of strings")

// UnmarshalJSON decodes a JSON object of strings into kv in document
// order (a key given twice keeps its first place and its last value), so
// a client's PATCH body is stored in the order it was written.
func (kv *KV) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errKVNotObject
	}
	var out KV
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string) // object keys are always strings
		tok, err = dec.Token()
		if err != nil {
			return err
		}
		value, ok := tok.(string)
		if !ok {
			return errKVNotObject
		}
		out.Set(key, value)
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return err
	}
	*kv = out
	return nil
}
