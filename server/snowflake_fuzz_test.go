package server

import (
	"strconv"
	"testing"
)

// FuzzIsSnowflake checks the id test every dialect and the admin API use
// on path ids. Properties: an id is accepted exactly when it is 1–20 ASCII
// digits that fit in 64 bits (no sign, space, NUL or other script's
// digits), and an accepted id without leading zeros prints back the same.
func FuzzIsSnowflake(f *testing.F) {
	for _, s := range []string{
		"94490510688792576", "0", "18446744073709551615", "18446744073709551616", "", "-1", "+1",
		"1e5", " 1", "1 ", "١٢٣", "0x10", "00000000000000000001", "999999999999999999999", "1\x00", "%31",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ok := IsSnowflake(s)
		n, err := strconv.ParseUint(s, 10, 64)
		allDigits := len(s) > 0 && len(s) <= 20
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				allDigits = false
			}
		}
		if ok != (allDigits && err == nil) {
			t.Fatalf("IsSnowflake(%q) = %v; digits %v, parse error %v", s, ok, allDigits, err)
		}
		if ok && strconv.FormatUint(n, 10) != s && s[0] != '0' {
			t.Fatalf("%q does not print back", s)
		}
	})
}
