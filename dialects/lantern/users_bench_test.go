package lantern

import (
	"fmt"
	"io"
	"net/http"
	"runtime"
	"testing"
	"time"
)

// BenchmarkBulk50 measures GET /api/v1/users with 50 ids over real HTTP on
// loopback (keep-alive, one client per parallel goroutine), every user
// with a realistic presence (custom status, Spotify with its clock, a
// game), the shape of issue 8's "Lantern bulk of 50" row.
func BenchmarkBulk50(b *testing.B) {
	s := newTestServer(b, nil)
	ids := make([]string, 50)
	for i := range ids {
		id := fmt.Sprintf("3%017d", i+1)
		ids[i] = s.member(`{"id":"`+id+`","username":"user`+id[14:]+`","discriminator":"0","global_name":"User","avatar":"0123456789abcdef0123456789abcdef"}`, nil)
		s.hub.UpdatePresence(id, alicePresence(b))
	}
	url := s.url + "/api/v1/users" + idsQuery(ids...)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4 * runtime.GOMAXPROCS(0)}}
	resp, err := client.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(userIDs(b, body)) != 50 {
		b.Fatalf("%d %.200s", resp.StatusCode, body)
	}
	b.SetBytes(int64(len(body)))

	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}
