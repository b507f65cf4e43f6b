package lanyard

import (
	"bytes"
	"testing"

	"github.com/halyardhq/halyard/core"
)

// TestKVRenderedSorted: the store keeps insertion order (Lantern shows it),
// but Lanyard's kv stays in byte-wise key order, as Lanyard's own encoder
// writes it; a PATCH body's new keys are stored in the body's order.
func TestKVRenderedSorted(t *testing.T) {
	u := userWith(nil, core.KVOf("c", "3", "a", "1", "b", "2"))
	if got := RenderPresence(u); !bytes.Contains(got, []byte(`"kv":{"a":"1","b":"2","c":"3"}`)) {
		t.Fatalf("kv not sorted: %s", got)
	}
	pairs, _, ok := parsePatch([]byte(`{"z":"1","a":"2","m":"3"}`))
	if !ok || pairs.String() != `{"z":"1","a":"2","m":"3"}` {
		t.Fatalf("patch pairs %v (ok %v), want the body's order", pairs, ok)
	}
}
