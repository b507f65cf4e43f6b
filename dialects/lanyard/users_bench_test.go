package lanyard

import (
	"encoding/json"
	"io"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
)

// BenchmarkGetUser measures GET /v1/users/:id over real HTTP on loopback
// (keep-alive connections, one client per parallel goroutine) for a user
// with a realistic presence: Spotify, a game, a custom status and a few KV
// pairs. The server answers from the pre-rendered bytes.
func BenchmarkGetUser(b *testing.B) {
	s := startLanyard(b, Options{}, nil)
	const id = "94490510688792576"
	raw := json.RawMessage(`{"id":"94490510688792576","username":"phin","global_name":"Phineas","avatar":"a_0123456789abcdef","discriminator":"0","public_flags":256}`)
	s.hub.UpsertMember("g", core.Member{User: core.DiscordUser{ID: id, Avatar: "a_0123456789abcdef", Discriminator: "0", Raw: raw}})
	s.hub.UpdatePresence(id, &core.Presence{
		Status:       core.StatusOnline,
		ClientStatus: &core.ClientStatus{Desktop: core.StatusOnline, Mobile: core.StatusIdle},
		Activities: []core.Activity{
			{ID: "spotify:1", Name: "Spotify", Type: 2, SyncID: "4cOdK2wGLETKBW3PvgPWqT", Details: "Never Gonna Give You Up", State: "Rick Astley",
				LargeImage: "spotify:ab67616d0000b273", LargeText: "Whenever You Need Somebody",
				Raw: json.RawMessage(`{"id":"spotify:1","name":"Spotify","type":2,"sync_id":"4cOdK2wGLETKBW3PvgPWqT","details":"Never Gonna Give You Up","state":"Rick Astley","assets":{"large_image":"spotify:ab67616d0000b273","large_text":"Whenever You Need Somebody"},"timestamps":{"start":1700000000000,"end":1700000213000},"party":{"id":"spotify:94490510688792576"},"flags":48,"created_at":1700000000100}`)},
			{ID: "custom", Name: "Custom Status", Type: 4, State: "building things",
				Raw: json.RawMessage(`{"id":"custom","name":"Custom Status","type":4,"state":"building things","emoji":{"name":"🔧"},"created_at":1700000000000}`)},
			{ID: "ec0b28a579ecb4bd", Name: "Visual Studio Code", Type: 0, Details: "Editing hub.go", State: "Workspace: halyard",
				Raw: json.RawMessage(`{"id":"ec0b28a579ecb4bd","name":"Visual Studio Code","type":0,"application_id":"383226320970055681","details":"Editing hub.go","state":"Workspace: halyard","timestamps":{"start":1699990000000},"assets":{"large_image":"565944799223676938","large_text":"Editing a GO file","small_image":"565945770067623946","small_text":"Visual Studio Code"},"created_at":1700000000000}`)},
		},
	})
	tok, _ := s.tokens.Issue(b.Context(), id)
	for k, v := range map[string]string{"location": "Los Angeles", "website": "https://example.com", "pronouns": "he/him"} {
		if resp, body := do(b, "PUT", s.base+"/v1/users/"+id+"/kv/"+k, http.Header{"Authorization": {tok}}, text(v)); resp.StatusCode != 204 {
			b.Fatalf("%d %s", resp.StatusCode, body)
		}
	}
	url := s.base + "/v1/users/" + id
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4 * runtime.GOMAXPROCS(0)}}
	if resp, body := do(b, "GET", url, nil, nil); resp.StatusCode != 200 {
		b.Fatalf("%d %s", resp.StatusCode, body)
	} else {
		b.SetBytes(int64(len(body)))
	}

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
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}
