package core

import (
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// Store-wide KV limits (docs/compat/lanyard.md §4.2, §9). Every dialect's write
// obeys them; a dialect with stricter limits checks its own on top.
const (
	MaxKVKeyLength     = 255    // characters (graphemes) in a key
	MaxKVValueLength   = 30000  // graphemes in a value
	MaxKVValueBytes    = 120000 // UTF-8 bytes in a value
	MaxKVPairs         = 512    // pairs per user after a write
	MaxRequestBodySize = 1 << 20
)

// KVReason says which KV rule a write broke.
type KVReason int

// The KV rules, in the order a pair is checked.
const (
	KVKeyTooLong   KVReason = iota + 1 // key over MaxKVKeyLength
	KVKeyInvalid                       // key outside ^[a-zA-Z0-9_]*$
	KVValueTooLong                     // value over MaxKVValueLength graphemes or MaxKVValueBytes bytes
	KVValueNotUTF8                     // value is not valid UTF-8
	KVTooManyPairs                     // the write would leave more than MaxKVPairs pairs
)

// KVError is a broken KV rule. Dialects word it in their own format; Error
// gives Lanyard's wording, the store-wide default.
type KVError struct {
	Reason KVReason
	Key    string
}

// Error returns the Lanyard wording of the broken rule (PUT wording for the
// pair limit).
func (e *KVError) Error() string {
	switch e.Reason {
	case KVKeyTooLong:
		return "key must be 255 characters or less"
	case KVKeyInvalid:
		return "key must be alphanumeric (a-zA-Z0-9_)"
	case KVValueTooLong:
		return "value must be 30000 characters or less"
	case KVValueNotUTF8:
		return "value must be valid UTF-8"
	case KVTooManyPairs:
		return "request would exceed key limit (512), please delete keys first"
	}
	return "invalid key/value pair"
}

// ValidateKVKey checks a key against the store-wide rules: at most 255
// characters, only ASCII letters, digits and underscore. The empty key is
// allowed, as in Lanyard.
func ValidateKVKey(key string) error {
	if len(key) > MaxKVKeyLength && uniseg.GraphemeClusterCount(key) > MaxKVKeyLength {
		return &KVError{Reason: KVKeyTooLong, Key: key}
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return &KVError{Reason: KVKeyInvalid, Key: key}
		}
	}
	return nil
}

// ValidateKVValue checks a value: valid UTF-8, at most 30000 graphemes and
// at most 120000 bytes.
func ValidateKVValue(key, value string) error {
	if !utf8.ValidString(value) {
		return &KVError{Reason: KVValueNotUTF8, Key: key}
	}
	if len(value) > MaxKVValueBytes {
		return &KVError{Reason: KVValueTooLong, Key: key}
	}
	if len(value) > MaxKVValueLength && uniseg.GraphemeClusterCount(value) > MaxKVValueLength {
		return &KVError{Reason: KVValueTooLong, Key: key}
	}
	return nil
}

// ValidateKVPair checks key then value, in Lanyard's order.
func ValidateKVPair(key, value string) error {
	if err := ValidateKVKey(key); err != nil {
		return err
	}
	return ValidateKVValue(key, value)
}

// ValidateKVPairs checks every pair of a multi-pair write in byte-wise
// sorted key order and returns the first failure.
func ValidateKVPairs(pairs KV) error {
	for _, k := range pairs.SortedKeys() {
		if err := ValidateKVPair(k, pairs.vals()[k]); err != nil {
			return err
		}
	}
	return nil
}

// MergedKVCount is the number of pairs after merging pairs into kv.
func MergedKVCount(kv, pairs KV) int {
	n := kv.Len()
	for _, k := range pairs.keys() {
		if _, ok := kv.vals()[k]; !ok {
			n++
		}
	}
	return n
}
