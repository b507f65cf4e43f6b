package discordsim

import (
	"bytes"
	"io"
	"syscall"
	"testing"
	"time"
)

// benchChunkMembers is the guild size of the chunk benchmarks: large
// enough that per-member costs dominate, small enough for a quick run.
const benchChunkMembers = 100_000

// BenchmarkRequestMembers measures one "all members" op 8 with
// presences over a real WebSocket, as a bot sends it after READY: the
// simulator builds and writes every GUILD_MEMBERS_CHUNK of a
// 100 000-member guild; the client reads each frame's head and discards
// the rest, so its own cost stays small. One op is the whole request.
func BenchmarkRequestMembers(b *testing.B) {
	s := newSim(b, Config{Members: benchChunkMembers, Seed: 1, HeartbeatInterval: time.Minute,
		BaseTime: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	gid := s.GuildIDs()[0]
	c := dial(b, s)
	readFrame(b, c)
	identify(b, c, s, allIntents)
	readUntil(b, c, "GUILD_CREATE")
	want := (benchChunkMembers + 1 + chunkSize - 1) / chunkSize // the bot is a member too
	req := []byte(`{"op":8,"d":{"guild_id":"` + gid + `","query":"","limit":0,"presences":true,"nonce":"bench"}}`)
	head := make([]byte, 64)
	var wire int64
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	for i := 0; i < b.N; i++ {
		send(b, c, req)
		for got := 0; got < want; {
			_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
			_, r, err := c.NextReader()
			if err != nil {
				b.Fatal(err)
			}
			n, _ := io.ReadFull(r, head)
			rest, _ := io.Copy(io.Discard, r)
			wire += int64(n) + rest
			if bytes.Contains(head[:n], []byte(`"t":"GUILD_MEMBERS_CHUNK"`)) {
				got++
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(processCPU()-cpu)/float64(b.N)/1e6, "cpu-ms/op")
	b.ReportMetric(float64(wire)/float64(b.N)/(1<<20), "MiB/op")
}

// BenchmarkChunkPayloads measures building the GUILD_MEMBERS_CHUNK
// payloads of a 100 000-member guild with presences, without a
// connection: the simulator's own cost per "all members" request.
func BenchmarkChunkPayloads(b *testing.B) {
	s := newSim(b, Config{Members: benchChunkMembers, Seed: 1,
		BaseTime: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.pop.guilds[0]
	ids := s.pop.allMemberIDs(g)
	job := &chunkJob{g: g, ids: ids, presences: true, nonce: "bench", count: (len(ids) + chunkSize - 1) / chunkSize}
	var size int
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	for i := 0; i < b.N; i++ {
		size = 0
		for ci := 0; ci < job.count; ci++ {
			size += len(s.chunkPayloadLocked(job, ci))
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(processCPU()-cpu)/float64(b.N)/1e6, "cpu-ms/op")
	b.ReportMetric(float64(size)/(1<<20), "MiB/op")
	b.ReportMetric(float64(job.count), "chunks/op")
}

// processCPU is the process's user and system CPU time so far, in
// nanoseconds: on a shared machine it moves less than wall time does.
func processCPU() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}
