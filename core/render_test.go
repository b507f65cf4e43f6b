package core

import (
	"strings"
	"testing"
)

// TestRenderCacheEviction: a rendering is built once per snapshot while it
// fits the budget; past the budget the oldest is dropped and rebuilt on
// the next read, with the same bytes.
func TestRenderCacheEviction(t *testing.T) {
	h := NewHub(HubOptions{RenderCacheBytes: 3000})
	calls := map[string]int{}
	id := h.RegisterRenderer(func(u *User) []byte {
		calls[u.ID]++
		return []byte(u.ID + strings.Repeat(".", 1000))
	})
	for _, uid := range []string{"1", "2"} {
		h.UpsertMember("g", Member{User: testUser(uid)})
	}
	u1, _ := h.Get("1")
	u2, _ := h.Get("2")
	first := string(h.Render(id, u1))
	h.Render(id, u1)
	h.Render(id, u2)
	if calls["1"] != 1 || calls["2"] != 1 {
		t.Fatalf("within budget: renderer calls %v, want one each", calls)
	}
	// Two more users push the total past 3000 bytes: user 1's goes first.
	for _, uid := range []string{"3", "4"} {
		h.UpsertMember("g", Member{User: testUser(uid)})
		u, _ := h.Get(uid)
		h.Render(id, u)
	}
	if got := string(h.Render(id, u1)); got != first {
		t.Fatalf("rebuilt rendering differs: %q", got[:10])
	}
	if calls["1"] != 2 {
		t.Errorf("user 1 rendered %d times, want 2 (evicted once)", calls["1"])
	}
	if calls["4"] != 1 {
		t.Errorf("newest rendering not cached: %v", calls)
	}
	if h.renderMem.bytes > 3000 {
		t.Errorf("cache holds %d bytes past its budget", h.renderMem.bytes)
	}
}
