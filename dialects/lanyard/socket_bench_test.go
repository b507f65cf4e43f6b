package lanyard

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
)

// BenchmarkSocketFanout measures PRESENCE_UPDATE fan-out: N real WebSocket
// clients on loopback subscribed to one user, b.N presence changes. The
// publisher keeps at most `window` updates ahead of the slowest client, so
// no bounded queue overflows; deliveries/s counts frames received by
// clients (clients and server share the machine's CPUs).
//
//	go test -run '^$' -bench SocketFanout -benchtime 200x ./dialects/lanyard
func BenchmarkSocketFanout(b *testing.B) {
	for _, n := range []int{100, 1000} {
		for _, path := range []string{"/lanyard/socket", "/lanyard/socket?compression=zlib_json"} {
			mode := "json"
			if path != "/lanyard/socket" {
				mode = "zlib"
			}
			b.Run(fmt.Sprintf("%s/clients=%d", mode, n), func(b *testing.B) { benchFanout(b, n, path) })
		}
	}
}

func benchFanout(b *testing.B, clients int, path string) {
	const window = 64
	e := newSocketEnv(b, SocketOptions{})
	e.join("10")
	recv := make([]atomic.Int64, clients)
	var wg sync.WaitGroup
	for i := range clients {
		c := e.connect(b, path)
		c.send(`{"op":2,"d":{"subscribe_to_id":"10"}}`)
		c.readFrame() // INIT_STATE
		wg.Add(1)
		go func() {
			defer wg.Done()
			for recv[i].Load() < int64(b.N) {
				_ = c.ws.SetReadDeadline(time.Now().Add(30 * time.Second))
				if _, _, err := c.ws.NextReader(); err != nil {
					return
				}
				recv[i].Add(1)
			}
		}()
	}
	// Activities make a realistic ~1 KB presence.
	act := func(i int) []core.Activity {
		return []core.Activity{{Raw: []byte(fmt.Sprintf(`{"type":0,"name":"Visual Studio Code","details":"Editing socket_%d.go","state":"Workspace: halyard","timestamps":{"start":1700000000000},"assets":{"large_image":"mp:external/abc","large_text":"Editing a Go file"},"application_id":"383226320970055681","created_at":1700000000000,"id":"ec0b28a579ecb4bd"}`, i))}}
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		if i >= window {
			for c := range recv {
				for recv[c].Load() < int64(i-window) {
					runtime.Gosched()
				}
			}
		}
		e.hub.UpdatePresence("10", &core.Presence{Status: core.StatusOnline, Activities: act(i)})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	var total int64
	for c := range recv {
		total += recv[c].Load()
	}
	if total != int64(clients)*int64(b.N) {
		b.Fatalf("delivered %d of %d (stats %+v)", total, clients*b.N, e.d.SocketStats())
	}
	b.ReportMetric(float64(total)/elapsed.Seconds(), "deliveries/s")
}
