package discordsim

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// TestFlood checks that a flood reaches a raw client as events distinct
// PRESENCE_UPDATEs over the first users members, and that bad sizes are
// refused.
func TestFlood(t *testing.T) {
	s := newSim(t, Config{Members: 20, Seed: 1, HeartbeatInterval: 30 * time.Second})
	c := dial(t, s)
	readFrame(t, c)
	identify(t, c, s, allIntents)
	readUntil(t, c, "GUILD_CREATE")

	for _, bad := range [][2]int{{0, 5}, {MaxFloodEvents + 1, 5}, {10, 0}, {10, 21}} {
		if err := s.Flood(context.Background(), bad[0], bad[1]); err == nil {
			t.Errorf("Flood(%d, %d) accepted", bad[0], bad[1])
		}
	}
	const events, users = 300, 7
	if err := s.Flood(context.Background(), events, users); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	states := map[string]bool{}
	for n := 0; n < events; {
		f := readFrame(t, c)
		if f.t() != "PRESENCE_UPDATE" {
			continue
		}
		n++
		var d struct {
			User         struct{ ID string }
			Status       string
			ClientStatus map[string]string `json:"client_status"`
			GuildID      string            `json:"guild_id"`
			Activities   []struct{ State string }
		}
		if err := json.Unmarshal(f.D, &d); err != nil {
			t.Fatal(err)
		}
		if d.GuildID != s.GuildIDs()[0] || d.Status == "" || d.ClientStatus["desktop"] != d.Status {
			t.Fatalf("event %d: %s", n, f.D)
		}
		seen[d.User.ID]++
		if len(d.Activities) != 1 || states[d.Activities[0].State] {
			t.Fatalf("event %d: activities %+v repeat or missing", n, d.Activities)
		}
		states[d.Activities[0].State] = true
	}
	if len(seen) != users {
		t.Fatalf("flood touched %d users, want %d", len(seen), users)
	}
}
