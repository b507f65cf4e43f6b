package lantern

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/halyardhq/halyard/core"
)

// BenchmarkLanternSocketFanout measures PRESENCE_UPDATE fan-out: N real
// WebSocket clients on loopback subscribed to one user, b.N presence
// changes, the publisher at most `window` updates ahead of the slowest
// client so no queue overflows. Clients share the machine's CPUs.
//
//	go test -run '^$' -bench LanternSocketFanout -benchtime 200x ./dialects/lantern
func BenchmarkLanternSocketFanout(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) { benchLanternFanout(b, n) })
	}
}

func benchLanternFanout(b *testing.B, clients int) {
	const window = 64
	e := newSockEnv(b, SocketOptions{QueueSize: 1024})
	recv := make([]atomic.Int64, clients)
	var wg sync.WaitGroup
	for i := range clients {
		ws, _, err := websocket.DefaultDialer.Dial(e.url+"/lantern/socket", nil)
		if err != nil {
			b.Fatal(err)
		}
		defer ws.Close()
		_, _, _ = ws.ReadMessage() // HELLO
		_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"op":2,"d":{"user_id":"`+sockA+`"}}`))
		_, _, _ = ws.ReadMessage() // INIT_ACK
		wg.Add(1)
		go func() {
			defer wg.Done()
			for recv[i].Load() < int64(b.N) {
				_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
				if _, _, err := ws.NextReader(); err != nil {
					return
				}
				recv[i].Add(1)
			}
		}()
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
		status := core.StatusOnline
		if i%2 == 1 {
			status = core.StatusIdle
		}
		e.hub.UpdatePresence(sockA, &core.Presence{Status: status, ClientStatus: &core.ClientStatus{Desktop: status}})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	var total int64
	for c := range recv {
		total += recv[c].Load()
	}
	if total != int64(clients)*int64(b.N) {
		b.Fatalf("delivered %d of %d", total, clients*b.N)
	}
	b.ReportMetric(float64(total)/elapsed.Seconds(), "deliveries/s")
}
