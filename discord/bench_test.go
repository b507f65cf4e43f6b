package discord

import (
	"testing"
	"time"

	"github.com/halyardhq/halyard/discord/discordsim"
)

// BenchmarkGatewayIngest measures the presence pipeline end to end:
// simulator → WebSocket → arikawa → this package's decoder → core.Hub,
// for b.N PRESENCE_UPDATEs (the simulator's churn: songs, statuses,
// activity sets). Simulator and bot share the process, so the figure
// includes the simulator's cost of producing the events.
func BenchmarkGatewayIngest(b *testing.B) {
	sim := startSim(b, discordsim.Config{Members: 5000, Guilds: 1, HeartbeatInterval: time.Second})
	bot, hub := startBot(b, sim, nil)
	base := bot.Stats().Dispatches
	events := hub.Stats().Events

	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for sent := 0; sent < b.N; {
		n := min(1000, b.N-sent)
		sim.Churn(n)
		sent += n
	}
	for bot.Stats().Dispatches < base+int64(b.N) {
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()

	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "updates/s")
	b.ReportMetric(float64(hub.Stats().Events-events)/float64(b.N), "hub-events/update")
	if st := bot.Stats(); st.DecodeErrors != 0 {
		b.Fatalf("decode errors: %+v", st)
	}
}

// BenchmarkDecodePresence measures the lenient decoder alone on a typical
// PRESENCE_UPDATE (Spotify, a game and a custom status).
func BenchmarkDecodePresence(b *testing.B) {
	raw := []byte(`{"user":{"id":"1300000000000000007"},"guild_id":"1200000000000000001","status":"dnd",` +
		`"client_status":{"desktop":"dnd","mobile":"idle"},"activities":[` +
		`{"id":"spotify:1","name":"Spotify","type":2,"flags":48,"created_at":1767268800000,"sync_id":"4cOdK2wGLETKBW3PvgPWqT",` +
		`"session_id":"9f1c2e","party":{"id":"spotify:1300000000000000007"},"details":"Never Gonna Give You Up","state":"Rick Astley",` +
		`"timestamps":{"start":1767268790000,"end":1767269003000},"assets":{"large_image":"spotify:ab67616d0000b27315ebbedaacef61af244262a8","large_text":"Whenever You Need Somebody"}},` +
		`{"id":"custom","name":"Custom Status","type":4,"state":"shipping halyard","emoji":{"name":"🚢"},"created_at":1767268800000},` +
		`{"id":"ec0b28a579ecb4bd","name":"Visual Studio Code","type":0,"application_id":"383226320970055681","details":"Editing gateway.go",` +
		`"state":"Workspace: halyard","timestamps":{"start":1767265200000},"assets":{"large_image":"mp:external/abc/https/example.com/go.png",` +
		`"large_text":"Go","small_image":"565944799887179808","small_text":"VS Code"},"buttons":["View Repository"],"flags":0,"created_at":1767265200000}]}`)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		w, err := decodePresenceWire(raw)
		if err != nil || w.userID() == "" || len(w.presence().Activities) != 3 {
			b.Fatal("bad decode")
		}
	}
}
