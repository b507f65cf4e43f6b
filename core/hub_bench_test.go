package core

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
)

// BenchmarkHubFanout measures one presence change fanned out to S
// subscribers of that user, each woken by the hub and draining its queue in
// its own goroutine and rendering the event (cached once per snapshot), as
// the dialects' sockets do.
func BenchmarkHubFanout(b *testing.B) {
	for _, subs := range []int{1, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("subscribers=%d", subs), func(b *testing.B) {
			h := NewHub(HubOptions{})
			render := h.RegisterRenderer(func(u *User) []byte {
				out, _ := json.Marshal(map[string]any{"id": u.ID, "status": u.Status(), "n": len(u.Activities())})
				return out
			})
			h.UpsertMember("g", Member{User: testUser("1")})
			var wg sync.WaitGroup
			quit := make(chan struct{})
			list := make([]*Subscription, subs)
			for i := range list {
				wake := make(chan struct{}, 1)
				s := h.SubscribeNotify(b.N+16, func() {
					select {
					case wake <- struct{}{}:
					default:
					}
				})
				s.Add("1")
				list[i] = s
				wg.Add(1)
				go func() {
					defer wg.Done()
					var buf []Event
					for {
						select {
						case <-wake:
						case <-quit:
							for _, ev := range s.Drain(buf[:0]) {
								_ = h.Render(render, ev.User)
							}
							return
						}
						buf = s.Drain(buf[:0])
						for _, ev := range buf {
							_ = h.Render(render, ev.User)
						}
					}
				}()
			}
			presences := []*Presence{online("a"), online("b")}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				h.UpdatePresence("1", presences[i%2])
			}
			for _, s := range list {
				s.Close()
			}
			close(quit)
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N)*float64(subs)/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}

// BenchmarkHubUpdateNoSubscribers measures the cost of ingesting a presence
// change into a hub of 100k monitored users with nobody subscribed.
func BenchmarkHubUpdateNoSubscribers(b *testing.B) {
	h := NewHub(HubOptions{})
	const n = 100_000
	for i := range n {
		h.UpsertMember("g", Member{User: testUser(fmt.Sprint(i))})
	}
	presences := []*Presence{online("a"), online("b")}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.UpdatePresence(fmt.Sprint(i%n), presences[(i/n)%2])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "updates/s")
}
