package discord

import (
	"bytes"
	"encoding/json"
	"runtime"
	"strings"
	"testing"
	"time"

	ajson "github.com/diamondburned/arikawa/v3/utils/json"
	"github.com/gorilla/websocket"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/discord/discordsim"
)

// chunkFrames asks a simulator of m members (one guild) for all of them,
// with presences, as the bot does, and returns the GUILD_MEMBERS_CHUNK
// frames exactly as they arrived; the request carries nonce.
func chunkFrames(tb testing.TB, m int, nonce string) (frames [][]byte, guildID string) {
	tb.Helper()
	sim := startSim(tb, discordsim.Config{Members: m, Guilds: 1, HeartbeatInterval: time.Minute})
	c, _, err := websocket.DefaultDialer.Dial(sim.GatewayURL()+"?v=10&encoding=json", nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	send := func(v any) {
		b, _ := json.Marshal(v)
		if err := c.WriteMessage(websocket.TextMessage, b); err != nil {
			tb.Fatal(err)
		}
	}
	var env struct {
		T *string         `json:"t"`
		D json.RawMessage `json:"d"`
	}
	read := func() []byte {
		_ = c.SetReadDeadline(time.Now().Add(time.Minute))
		_, data, err := c.ReadMessage()
		if err != nil {
			tb.Fatal(err)
		}
		env.T = nil
		if err := json.Unmarshal(data, &env); err != nil {
			tb.Fatal(err)
		}
		return data
	}
	send(map[string]any{"op": 2, "d": map[string]any{"token": "Bot " + sim.Token(), "intents": Intents,
		"properties": map[string]string{"os": "linux", "browser": "bench", "device": "bench"}, "large_threshold": largeThreshold}})
	for env.T == nil || *env.T != "GUILD_CREATE" {
		read()
	}
	var g struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(env.D, &g)
	send(map[string]any{"op": 8, "d": map[string]any{"guild_id": g.ID, "query": "", "limit": 0, "presences": true, "nonce": nonce}})
	for got := 0; got < (m+999)/1000; {
		if data := read(); env.T != nil && *env.T == "GUILD_MEMBERS_CHUNK" {
			frames = append(frames, data)
			got++
		}
	}
	return frames, g.ID
}

// BenchmarkReadMemberChunks measures the bot's side of a member sync per
// member: real simulator GUILD_MEMBERS_CHUNK frames (1000 members with
// their presences each) through the path the gateway takes (the frame
// driver's DecodeStream into arikawa's envelope, its Unmarshal into the
// raw dispatch, onMembersChunk) into a real hub. Each pass over the
// frames starts with a fresh hub and bot, so every member is new, as in a
// first sync.
func BenchmarkReadMemberChunks(b *testing.B) {
	const members = 20_000
	frames, guildID := chunkFrames(b, members, "halyard-1")
	var frameBytes int
	for _, f := range frames {
		frameBytes += len(f)
	}
	var (
		bot  *Bot
		hub  *core.Hub
		next int
	)
	fresh := func() {
		if bot != nil {
			_ = bot.Close()
			_ = hub.Close()
		}
		hub = core.NewHub(core.HubOptions{})
		if err := hub.Open(b.Context()); err != nil {
			b.Fatal(err)
		}
		var err error
		bot, err = New(Config{Token: "t", Hub: hub, GatewayURL: "ws://127.0.0.1:1/", RESTBase: "http://127.0.0.1:1"})
		if err != nil {
			b.Fatal(err)
		}
		if nonce := bot.sync.begin(guildID); nonce != "halyard-1" {
			b.Fatalf("nonce %q", nonce)
		}
		next = 0
	}
	fresh()
	defer func() { _ = bot.Close(); _ = hub.Close() }()
	shared := make(ajson.Raw, 0, 1<<14) // arikawa's shared decode buffer
	b.SetBytes(int64(frameBytes / len(frames)))
	b.ReportAllocs()
	b.ResetTimer()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if next == len(frames) {
			b.StopTimer()
			fresh()
			b.StartTimer()
		}
		frame := frames[next]
		next++
		op := codecOpShape{Data: shared}
		if err := (frameDriver{}).DecodeStream(bytes.NewReader(frame), &op); err != nil {
			b.Fatal(err)
		}
		if cap(op.Data) < 1<<15 {
			shared = op.Data[:0]
		}
		var ev rawMembersChunk
		if err := (frameDriver{}).Unmarshal(op.Data, &ev); err != nil {
			b.Fatal(err)
		}
		if err := bot.onMembersChunk(ev.chunk()); err != nil {
			b.Fatal(err)
		}
	}
	cpu := cpuTime() - cpu0
	b.StopTimer()
	runtime.ReadMemStats(&ms1)
	perChunk := float64(members) / float64(len(frames))
	n := float64(b.N) * perChunk
	b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/n, "B/member")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/n, "allocs/member")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/member")
	b.ReportMetric(float64(cpu.Nanoseconds())/n, "cpu-ns/member")
	if n := hub.Count(); n == 0 || !strings.HasPrefix(string(frames[0][:8]), `{"op":0`) {
		b.Fatalf("hub holds %d members", n)
	}
}
