package main

import (
	"runtime/debug"
	"testing"
)

// TestGCDefault: the binary lowers the collector's target only when the
// operator set neither GOGC nor GOMEMLIMIT.
func TestGCDefault(t *testing.T) {
	orig := debug.SetGCPercent(100)
	defer debug.SetGCPercent(orig)
	for _, tc := range []struct {
		environ map[string]string
		want    int
	}{
		{map[string]string{}, defaultGCPercent},
		{map[string]string{"GOGC": "200"}, 100},
		{map[string]string{"GOGC": ""}, 100}, // set, even empty: the runtime's own default stands
		{map[string]string{"GOMEMLIMIT": "1GiB"}, 100},
	} {
		debug.SetGCPercent(100)
		changed := setGCDefault(tc.environ)
		if got := debug.SetGCPercent(100); got != tc.want || changed != (tc.want != 100) {
			t.Errorf("environ %v: GC percent %d (changed %v), want %d", tc.environ, got, changed, tc.want)
		}
	}
}
