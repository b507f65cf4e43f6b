package lanyard

import (
	"strings"
	"testing"

	"github.com/halyardhq/halyard/server"
)

// TestPresenceEventLines: a presence object is one data line; were a raw
// Discord object ever to hold a newline, each line becomes a data line,
// which an EventSource joins back with "\n" into the same bytes.
func TestPresenceEventLines(t *testing.T) {
	got := string(presenceEvent("1", []byte(`{"a":1}`)))
	if want := "event: presence\nid: 1\ndata: {\"a\":1}\n\n"; got != want {
		t.Fatalf("%q, want %q", got, want)
	}
	got = string(presenceEvent("1", []byte("{\"a\":\n1}")))
	if want := "event: presence\nid: 1\ndata: {\"a\":\ndata: 1}\n\n"; got != want {
		t.Fatalf("%q, want %q", got, want)
	}
}

// FuzzStreamIDs: ?ids= is either refused or 1 to 50 distinct snowflakes,
// in the order first given.
func FuzzStreamIDs(f *testing.F) {
	for _, s := range []string{"1", "1,2,1", "", ",", "1,,2", "99999999999999999999", strings.Repeat("1,", 60) + "2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		ids, ok := parseStreamIDs([]string{raw})
		if !ok {
			return
		}
		if len(ids) == 0 || len(ids) > MaxStreamIDs {
			t.Fatalf("%q: %d ids", raw, len(ids))
		}
		seen := map[string]bool{}
		for _, id := range ids {
			if !server.IsSnowflake(id) || seen[id] || !strings.Contains(","+raw+",", ","+id+",") {
				t.Fatalf("%q: id %q", raw, id)
			}
			seen[id] = true
		}
	})
}
