package lantern

import (
	"regexp"
	"testing"
)

// numericReference is validator.js's isNumeric as its regular expression,
// the definition isNumeric is written out from.
var numericReference = regexp.MustCompile(`^[+-]?([0-9]*[.])?[0-9]+$`)

// numericSeeds are the edges of the expression: signs, dots, empty parts,
// non-ASCII digits and bytes around '0'–'9'.
var numericSeeds = []string{
	"", "0", "7", "94490510688792576", "+1", "-1", "+", "-", "+-1", "--1", ".", ".5", "5.", "1.5", "-.5", "+.5",
	"1.2.3", "..5", "1..5", " 1", "1 ", "1\n", "\n1", "1e5", "0x10", "/", ":", "１２３", "٣٣٣", "1.5a", "a1.5", "\xff", "1\x00",
}

// TestIsNumeric: isNumeric answers as the regular expression on its edges.
func TestIsNumeric(t *testing.T) {
	for _, s := range numericSeeds {
		if got, want := isNumeric(s), numericReference.MatchString(s); got != want {
			t.Errorf("isNumeric(%q) = %v, the expression says %v", s, got, want)
		}
	}
}

// FuzzIsNumeric: isNumeric answers as the regular expression on any string.
func FuzzIsNumeric(f *testing.F) {
	for _, s := range numericSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := isNumeric(s), numericReference.MatchString(s); got != want {
			t.Fatalf("isNumeric(%q) = %v, the expression says %v", s, got, want)
		}
	})
}
