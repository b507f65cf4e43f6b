package core

import (
	"slices"
	"testing"
)

// TestIDSet: the inline first id and the map behave as one set through
// every transition (one id, a second, removals, clear), "" included.
func TestIDSet(t *testing.T) {
	var s IDSet
	check := func(step string, want ...string) {
		t.Helper()
		got := s.List()
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) || s.Len() != len(want) {
			t.Fatalf("%s: list %q len %d, want %q", step, got, s.Len(), want)
		}
		for _, id := range want {
			if !s.Has(id) {
				t.Fatalf("%s: has(%q) false", step, id)
			}
		}
		if s.Has("never") {
			t.Fatalf("%s: has an id never added", step)
		}
	}
	check("empty")
	if s.Has("") {
		t.Fatal("empty set has \"\"")
	}
	s.Add("1")
	s.Add("1")
	check("one", "1")
	s.Remove("2")
	check("remove absent", "1")
	s.Remove("1")
	check("removed")
	s.Add("")
	check("empty id", "")
	s.Add("2")
	s.Add("3")
	check("three", "", "2", "3")
	s.Remove("")
	check("two left", "2", "3")
	s.Clear()
	check("cleared")
	s.Add("4")
	check("after clear", "4")
}
