package main

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/halyardhq/halyard/discord/discordsim"
	"github.com/halyardhq/halyard/storage"
)

// BenchmarkClusterDelivery measures cross-node delivery: a presence
// pushed through the simulator at the shard holder, until a Lanyard
// socket on another node reads it; 1 000 sockets per node on 3 nodes,
// latencies of the sockets on the two followers (and, per push, of the
// first of them to read it: the bus path alone). Then the failover: the
// holder closes, until a fresh presence reaches a follower's socket.
//
//	go test ./cmd/halyard -run XXX -bench ClusterDelivery -benchtime 200x
//	HALYARD_BENCH_SOCKETS=10 go test ./cmd/halyard -run XXX -bench ClusterDelivery -benchtime 200x
func BenchmarkClusterDelivery(b *testing.B) {
	perNode := 1000
	// HALYARD_BENCH_SOCKETS sets the sockets per node: with a few, the
	// figures show the path itself, without 3 000 sockets' writes and
	// reads sharing the cores with it.
	if n, err := strconv.Atoi(os.Getenv("HALYARD_BENCH_SOCKETS")); err == nil && n > 0 {
		perNode = n
	}
	servers := startNATSCluster(b, 3)
	var urls []string
	for _, s := range servers {
		urls = append(urls, s.url)
	}
	st, err := storage.Open(b.Context(), storage.Config{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	sim, err := discordsim.New(discordsim.Config{Seed: 3, Members: 100})
	if err != nil {
		b.Fatal(err)
	}
	defer sim.Close()
	var nodes []*Main
	closed := map[int]bool{}
	defer func() {
		for i, m := range nodes {
			if !closed[i] {
				m.Close()
			}
		}
	}()
	for i := range 3 {
		nodes = append(nodes, startClusterNode(b, sim, st.URI(), strings.Join(urls, ","), fmt.Sprintf("node-%d", i)))
	}
	for i, m := range nodes {
		c := client{b, m.URL()}
		waitUntil(b, fmt.Sprintf("node %d ready", i), 2*time.Minute, func() bool {
			code, _ := c.do("GET", "/readyz", "", nil)
			return code == 200
		})
	}
	user := sim.MemberIDs(sim.GuildIDs()[0])[0]
	holder := nodes[0].Cluster.LeaseHolders()[0]

	var mu sync.Mutex
	pushed := map[string]time.Time{}
	var lat []time.Duration
	first := map[string]time.Duration{} // per push: the first follower socket's latency (the bus path)
	var conns []*websocket.Conn
	for i, m := range nodes {
		follower := m.Cluster.Name() != holder
		for range perNode {
			ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(m.URL(), "http")+"/socket", nil)
			if err != nil {
				b.Fatalf("node %d: %v", i, err)
			}
			conns = append(conns, ws)
			if err := ws.WriteMessage(websocket.TextMessage, []byte(fmt.Sprintf(`{"op":2,"d":{"subscribe_to_id":%q}}`, user))); err != nil {
				b.Fatal(err)
			}
			go func() {
				for {
					_, data, err := ws.ReadMessage()
					if err != nil {
						return
					}
					at := time.Now()
					i := bytes.Index(data, []byte("mark-"))
					if i < 0 || !follower {
						continue
					}
					j := i + 5
					for j < len(data) && data[j] >= '0' && data[j] <= '9' {
						j++
					}
					mu.Lock()
					if p, ok := pushed[string(data[i:j])]; ok {
						lat = append(lat, at.Sub(p))
						if _, seen := first[string(data[i:j])]; !seen {
							first[string(data[i:j])] = at.Sub(p)
						}
					}
					mu.Unlock()
				}
			}()
		}
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	push := func(k int) {
		mark := fmt.Sprintf("mark-%d", k)
		mu.Lock()
		pushed[mark] = time.Now()
		mu.Unlock()
		d := fmt.Sprintf(`{"user":{"id":%q},"status":"online","activities":[{"name":%q,"type":0}]}`, user, mark)
		if err := sim.UpdatePresence([]byte(d)); err != nil {
			b.Fatal(err)
		}
	}
	var busLag []time.Duration // publish on the holder → applied on a follower, per push and follower
	b.ResetTimer()
	for k := range b.N {
		push(k)
		want := (k + 1) * 2 * perNode
		waitUntil(b, "the followers' sockets", time.Minute, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(lat) >= want
		})
		for _, m := range nodes {
			if m.Cluster.Name() != holder {
				busLag = append(busLag, time.Duration(m.Cluster.Stats().ApplyLagNanos.Load()))
			}
		}
	}
	b.StopTimer()
	slices.Sort(busLag)
	b.ReportMetric(float64(busLag[len(busLag)/2].Microseconds())/1000, "bus-p50-ms")
	mu.Lock()
	slices.Sort(lat)
	p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
	firsts := slices.Sorted(maps.Values(first))
	mu.Unlock()
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	// The first follower socket of each push: simulator → holder → bus →
	// follower's hub → one socket, without the wait behind the other
	// sockets' writes that p50 and p99 include.
	b.ReportMetric(float64(firsts[len(firsts)/2].Microseconds())/1000, "first-p50-ms")

	// Failover: the holder goes; time until a presence pushed by the new
	// holder reaches a follower's socket.
	var dead int
	for i, m := range nodes {
		if m.Cluster.Name() == holder {
			dead = i
		}
	}
	start := time.Now()
	closed[dead] = true
	nodes[dead].Close()
	survivor := nodes[(dead+1)%3]
	waitUntil(b, "a new holder", time.Minute, func() bool {
		h := survivor.Cluster.LeaseHolders()[0]
		return h != "" && h != holder
	})
	mu.Lock()
	lat = lat[:0]
	mu.Unlock()
	for k := b.N; ; k++ {
		push(k)
		time.Sleep(50 * time.Millisecond)
		mu.Lock()
		n := len(lat)
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Since(start) > 2*time.Minute {
			b.Fatal("no fresh presence after the failover")
		}
	}
	b.ReportMetric(time.Since(start).Seconds(), "failover-s")
}
