package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// BenchmarkServeREST measures what the server itself spends on each GET
// of the load tool's rest scenario (cmd/halyard-load/rest.go: the same
// routes, user and 50 ids), on the production wiring in demo mode,
// without the network: Server.ServeHTTP is called directly with a
// response writer that discards. "bare" is the load tool's baseline
// handler (set Content-Type, write the bytes) through the same writer:
// the floor the routes are compared with.
//
//	go test ./cmd/halyard -run XXX -bench ServeREST -benchmem
func BenchmarkServeREST(b *testing.B) {
	m := startDemoIn(b, b.TempDir(), 1000, map[string]string{"HARMY_RATE_PER_SECOND": "0", "HARMY_RATE_PER_MINUTE": "0"})
	defer m.Close()
	c := client{b, m.URL()}
	// Measured once the members' records are written: the embedded
	// store's writes would share the CPU with the requests.
	t0 := time.Now()
	quiet := 0 // consecutive polls with every record written
	waitUntil(b, "1000 members monitored, their records written", 2*time.Minute, func() bool {
		st := m.Hub.Stats()
		if st.Monitored >= 1000 && st.RecordsPending == 0 {
			quiet++
		} else {
			quiet = 0
		}
		time.Sleep(100 * time.Millisecond)
		return quiet >= 10
	})
	b.Logf("records written %s after start", time.Since(t0))
	code, body := c.do("GET", "/admin/v1/users?limit=1000", "Bearer test-admin-token", nil)
	if code != http.StatusOK {
		b.Fatalf("admin users: %d %s", code, body)
	}
	var page struct{ Users []struct{ ID, Status string } }
	if err := json.Unmarshal(body, &page); err != nil {
		b.Fatal(err)
	}
	var ids []string
	example := ""
	for _, u := range page.Users {
		ids = append(ids, u.ID)
		if example == "" && u.Status != "offline" {
			example = u.ID
		}
	}
	if len(ids) < 50 || example == "" {
		b.Fatalf("%d users, example %q", len(ids), example)
	}
	bulk := "/api/v1/users?user_ids=" + strings.Join(ids[:50], "&user_ids=")
	_, lanyardBody := c.do("GET", "/v1/users/"+example, "", nil)
	bare := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(lanyardBody)
	})
	for _, r := range []struct {
		name, path string
		h          http.Handler
	}{
		{"bare", "/", bare},
		{"lanyard", "/v1/users/" + example, m.Server},
		{"lantern", "/api/v1/users/" + example, m.Server},
		{"lantern-bulk-50", bulk, m.Server},
		{"harmy", "/user/" + example, m.Server},
	} {
		b.Run(r.name, func(b *testing.B) {
			req, err := http.NewRequest(http.MethodGet, m.URL()+r.path, nil)
			if err != nil {
				b.Fatal(err)
			}
			req.RequestURI = r.path // as the server reads it
			req.Header.Set("User-Agent", "halyard-load")
			w := &discardResponse{}
			b.ReportAllocs()
			for b.Loop() {
				w.reset()
				r.h.ServeHTTP(w, req)
				if w.status != http.StatusOK || w.n == 0 {
					b.Fatalf("GET %s: %d, %d bytes", r.path, w.status, w.n)
				}
			}
			b.SetBytes(int64(w.n))
		})
	}
}

// discardResponse is a response writer that keeps only the status and
// the body's length. Its header map is fresh per request, as net/http's.
type discardResponse struct {
	h      http.Header
	status int
	n      int
}

func (w *discardResponse) reset() { *w = discardResponse{h: make(http.Header)} }

func (w *discardResponse) Header() http.Header { return w.h }

func (w *discardResponse) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *discardResponse) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.n += len(p)
	return len(p), nil
}
