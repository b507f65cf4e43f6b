package core

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateKVPair(t *testing.T) {
	tests := []struct {
		name       string
		key, value string
		want       KVReason // 0 = valid
	}{
		{"simple", "location", "Los Angeles", 0},
		{"underscore", "under_score", "x", 0},
		{"empty key", "", "x", 0},
		{"255 key", strings.Repeat("k", 255), "x", 0},
		{"256 key", strings.Repeat("k", 256), "x", KVKeyTooLong},
		{"dash", "a-b", "x", KVKeyInvalid},
		{"newline", "abc\n", "x", KVKeyInvalid},
		{"unicode key", "ké", "x", KVKeyInvalid},
		{"30000 ascii", "k", strings.Repeat("a", 30000), 0},
		{"30001 ascii", "k", strings.Repeat("a", 30001), KVValueTooLong},
		{"30000 é", "k", strings.Repeat("é", 30000), 0},
		{"30000 combining graphemes over byte cap", "k", strings.Repeat("e\u0301\u0301\u0301\u0301", 30000), KVValueTooLong},
		{"zwj emoji counts one", "k", strings.Repeat("👩‍👩‍👧", 1000), 0},
		{"invalid utf8", "k", "\xff\xfe", KVValueNotUTF8},
		{"empty value", "k", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateKVPair(tt.key, tt.value)
			if tt.want == 0 {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			var kve *KVError
			if !errors.As(err, &kve) || kve.Reason != tt.want {
				t.Fatalf("want reason %d, got %v", tt.want, err)
			}
			if ErrorCode(err) != EINVALID {
				t.Fatalf("code = %q", ErrorCode(err))
			}
		})
	}
}

func TestKVErrorMessages(t *testing.T) {
	want := map[KVReason]string{
		KVKeyTooLong:   "key must be 255 characters or less",
		KVKeyInvalid:   "key must be alphanumeric (a-zA-Z0-9_)",
		KVValueTooLong: "value must be 30000 characters or less",
		KVValueNotUTF8: "value must be valid UTF-8",
		KVTooManyPairs: "request would exceed key limit (512), please delete keys first",
	}
	for r, msg := range want {
		if got := (&KVError{Reason: r}).Error(); got != msg {
			t.Errorf("reason %d: %q, want %q", r, got, msg)
		}
	}
}

func TestValidateKVPairsSortedOrder(t *testing.T) {
	err := ValidateKVPairs(KVOf("z-z", "1", "a-a", "2", "ok", "3"))
	var kve *KVError
	if !errors.As(err, &kve) || kve.Key != "a-a" {
		t.Fatalf("want first failure on a-a, got %v", err)
	}
}
