package discordsim

import (
	"encoding/json"
	"testing"
	"time"
)

// BenchmarkPresenceDispatch measures PRESENCE_UPDATEs driven through
// UpdatePresence and read by one raw WebSocket client.
func BenchmarkPresenceDispatch(b *testing.B) {
	s := newSim(b, Config{Members: 1000, Seed: 1, HeartbeatInterval: 30 * time.Second})
	c := dial(b, s)
	readFrame(b, c)
	identify(b, c, s, allIntents)
	readUntil(b, c, "GUILD_CREATE")
	ids := s.MemberIDs(s.GuildIDs()[0])
	payloads := make([]json.RawMessage, len(ids))
	for i, id := range ids {
		payloads[i] = json.RawMessage(`{"user":{"id":"` + id + `"},"status":"online","client_status":{"desktop":"online"},"activities":[` +
			`{"id":"spotify:1","name":"Spotify","type":2,"flags":48,"created_at":1767268800000,"sync_id":"4cOdK2wGLETKBW3PvgPWqT","details":"Song","state":"Artist",` +
			`"timestamps":{"start":1767268790000,"end":1767269003000},"assets":{"large_image":"spotify:ab67616d0000b273","large_text":"Album"}}]}`)
	}
	done := make(chan int)
	go func() {
		n := 0
		for n < b.N {
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, _, err := c.ReadMessage(); err != nil {
				break
			}
			n++
		}
		done <- n
	}()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if err := s.UpdatePresence(payloads[i%len(payloads)]); err != nil {
			b.Fatal(err)
		}
	}
	got := <-done
	el := time.Since(start)
	b.StopTimer()
	if got != b.N {
		b.Fatalf("client read %d of %d", got, b.N)
	}
	b.ReportMetric(float64(b.N)/el.Seconds(), "events/s")
}

// BenchmarkNewMillion measures constructing a 1M-member simulator.
func BenchmarkNewMillion(b *testing.B) {
	for i := 0; i < b.N; i++ {
		s, err := New(Config{Members: 1_000_000, Seed: int64(i)})
		if err != nil {
			b.Fatal(err)
		}
		_ = s.Close()
	}
}
