package main

import (
	"encoding/json"
	"testing"
	"time"
)

// TestLanternMonitoringSinceIsJoinTime: Lantern's monitoring_since is the
// member's guild joined_at as the gateway gave it (the earliest across
// watched guilds), not when Halyard first saw the user; it is the same
// after a restart on the same data directory.
func TestLanternMonitoringSinceIsJoinTime(t *testing.T) {
	dir := t.TempDir()
	check := func(m *Main, phase string) map[string]time.Time {
		t.Helper()
		c := client{t, m.URL()}
		got := map[string]time.Time{}
		ids := append(m.Sim.MemberIDs(m.Sim.GuildIDs()[0]), m.Sim.BotUserID())
		for _, id := range ids {
			var u struct {
				Metadata struct {
					MonitoringSince struct {
						Unix int64  `json:"unix"`
						Raw  string `json:"raw"`
					} `json:"monitoring_since"`
				} `json:"metadata"`
			}
			eventually(t, "the Lantern user "+id, func() bool {
				code, body := c.do("GET", "/api/v1/users/"+id, "", nil)
				return code == 200 && json.Unmarshal(body, &u) == nil
			})
			truth, ok := m.Sim.Truth(id)
			if !ok {
				t.Fatalf("%s: no simulator truth", id)
			}
			want := truth.JoinedAt.Truncate(time.Millisecond)
			raw, err := time.Parse(time.RFC3339Nano, u.Metadata.MonitoringSince.Raw)
			if err != nil || !raw.Equal(want) || u.Metadata.MonitoringSince.Unix != want.Unix() {
				t.Fatalf("%s: %s monitoring_since %+v, want the guild join time %v", phase, id, u.Metadata.MonitoringSince, want)
			}
			if time.Since(raw) < 24*time.Hour {
				t.Fatalf("%s: %s monitoring_since %v is about now, not a join time", phase, id, raw)
			}
			got[id] = raw
		}
		return got
	}
	m := startDemo(t, dir, 8)
	first := check(m, "first start")
	m.Close()

	m = startDemo(t, dir, 8)
	defer m.Close()
	again := check(m, "after a restart")
	for id, v := range first {
		if !again[id].Equal(v) {
			t.Fatalf("%s: monitoring_since %v, %v after a restart", id, v, again[id])
		}
	}
}
