package discord

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"syscall"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"

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
	start, cpu0 := time.Now(), cpuTime()
	for sent := 0; sent < b.N; {
		n := min(1000, b.N-sent)
		sim.Churn(n)
		sent += n
	}
	for bot.Stats().Dispatches < base+int64(b.N) {
		time.Sleep(time.Millisecond)
	}
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	b.StopTimer()

	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "updates/s")
	reportCPU(b, cpu, b.N)
	b.ReportMetric(float64(hub.Stats().Events-events)/float64(b.N), "hub-events/update")
	if st := bot.Stats(); st.DecodeErrors != 0 {
		b.Fatalf("decode errors: %+v", st)
	}
}

// BenchmarkDecodePresence measures the presence decoder alone on a typical
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
	cpu0 := cpuTime()
	for b.Loop() {
		w, err := decodePresenceWire(raw)
		if err != nil || w.userID() == "" || w.presence().Packed.Len() != 3 {
			b.Fatal("bad decode")
		}
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// cpuTime is the CPU time (user and system) the process has used: on a
// shared machine wall-clock rates swing with other people's load, while
// the CPU an update costs does not (as much).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process CPU per update (simulator, bot, hub and GC
// together) and the rate two otherwise idle cores could sustain at that
// cost.
func reportCPU(b *testing.B, cpu time.Duration, n int) {
	per := cpu.Seconds() / float64(n)
	b.ReportMetric(per*1e6, "cpu-µs/update")
	b.ReportMetric(2/per, "2-core-updates/s")
}

// BenchmarkGatewayIngestPrebuilt is BenchmarkGatewayIngest with the
// simulator's presence changes generated and encoded before the timer
// starts: what remains on the simulator's side is queueing and writing the
// frames, so the figure is closer to what the bot alone can take.
func BenchmarkGatewayIngestPrebuilt(b *testing.B) {
	sim := startSim(b, discordsim.Config{Members: 5000, Guilds: 1, HeartbeatInterval: time.Second})
	bot, hub := startBot(b, sim, nil)
	frames := sim.PrepareChurn(b.N)
	base := bot.Stats().Dispatches
	events := hub.Stats().Events

	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	sim.SendPrebuilt(frames)
	for bot.Stats().Dispatches < base+int64(frames.Len()) {
		time.Sleep(100 * time.Microsecond)
	}
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	b.StopTimer()

	b.ReportMetric(float64(frames.Len())/elapsed.Seconds(), "updates/s")
	reportCPU(b, cpu, frames.Len())
	b.ReportMetric(float64(hub.Stats().Events-events)/float64(frames.Len()), "hub-events/update")
	if st := bot.Stats(); st.DecodeErrors != 0 {
		b.Fatalf("decode errors: %+v", st)
	}
}

// BenchmarkMemberMemory loads a guild of M members through the whole
// pipeline (simulator → GUILD_CREATE and GUILD_MEMBERS_CHUNKs → arikawa →
// decoder → hub), then closes the bot and the simulator and reports the
// heap the hub keeps per member after a GC. Run with -benchtime 1x.
func BenchmarkMemberMemory(b *testing.B) {
	for _, m := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("members=%d", m), func(b *testing.B) {
			if m > 100_000 && testing.Short() {
				b.Skip("1M members takes minutes")
			}
			for range b.N {
				perMember, total := loadMembers(b, m)
				b.ReportMetric(perMember, "B/member")
				b.ReportMetric(float64(total)/(1<<20), "hub-MiB")
			}
		})
	}
}

// loadMembers syncs m members into a fresh hub and returns the heap bytes
// per member it retains, with everything else closed.
func loadMembers(b *testing.B, m int) (perMember float64, total uint64) {
	b.Helper()
	if os.Getenv("HALYARD_HEAP_PROFILE") != "" {
		// Sample every 512 bytes instead of every 512 KiB, so that the
		// profile's figures per allocation site are exact enough to divide
		// by the member count.
		runtime.MemProfileRate = 512
	}
	before := heapAfterGC()
	sim, err := discordsim.New(discordsim.Config{Members: m, Guilds: 1, Seed: 42, HeartbeatInterval: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	hub := core.NewHub(core.HubOptions{})
	if err := hub.Open(context.Background()); err != nil {
		b.Fatal(err)
	}
	bot, err := New(Config{Token: sim.Token(), GatewayURL: sim.GatewayURL(), RESTBase: sim.RESTURL(), Hub: hub,
		Commands: &core.Commands{}, Logger: testLogger(), FastIdentify: true})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := bot.Open(ctx); err != nil {
		b.Fatal(err)
	}
	for !bot.Synced() {
		if ctx.Err() != nil {
			b.Fatalf("member sync of %d members did not finish", m)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := hub.Count(); got < m {
		b.Fatalf("hub holds %d of %d members", got, m)
	}
	_ = bot.Close()
	_ = sim.Close()
	after := heapAfterGC()
	total = after - min(before, after)
	if path := os.Getenv("HALYARD_HEAP_PROFILE"); path != "" {
		// The hub's live heap, for go tool pprof -sample_index=inuse_space.
		if f, err := os.Create(path); err == nil {
			_ = pprof.WriteHeapProfile(f)
			_ = f.Close()
		}
	}
	perMember = float64(total) / float64(hub.Count())
	_ = hub.Close()
	return perMember, total
}

func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
