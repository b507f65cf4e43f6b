package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/storage"
)

// The store-fault scenarios of issue 7 (RELIABILITY.md, "Store faults and
// durability"): the database stops mid-traffic and comes back, under the
// real server in demo mode. KV writes answer each dialect's 503 error,
// presence keeps being served, and writes resume by themselves without
// restarting Halyard. HALYARD_LONG=1 runs several outages in a row.

// storeFaultLong reports whether the long versions of the reliability scenarios
// were asked for.
func storeFaultLong() bool { return os.Getenv("HALYARD_LONG") != "" }

// unavailableMessage is core's message for a store outage, which the
// dialects pass through.
const unavailableMessage = "the database is unavailable, try again later"

// TestStoreOutageEndToEnd stops the embedded store under a running Halyard.
func TestStoreOutageEndToEnd(t *testing.T) {
	t.Parallel() // mostly waiting on the store's operation timeout
	m := startDemo(t, t.TempDir(), 20)
	defer m.Close()
	cycles := 1
	if storeFaultLong() {
		cycles = 5
	}
	r := runOutageDrill(t, m, cycles,
		func() {
			if !m.Store.StopEmbedded() {
				t.Fatal("the demo store runs no embedded database")
			}
		},
		m.Store.StartEmbedded)
	t.Logf("embedded store: %s", r)
}

// TestExternalStoreOutageEndToEnd runs Halyard on a MongoDB URI (another
// process's database, here a store opened by the test) that goes away and
// comes back: the same drill through the external-database code path.
func TestExternalStoreOutageEndToEnd(t *testing.T) {
	t.Parallel()
	ext, err := storage.Open(t.Context(), storage.Config{DataDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer ext.Close()
	m := startDemoIn(t, t.TempDir(), 20, map[string]string{"MONGODB_URI": ext.URI()})
	defer m.Close()
	if m.Store.Embedded() {
		t.Fatal("Halyard started its own database despite MONGODB_URI")
	}
	cycles := 1
	if storeFaultLong() {
		cycles = 3
	}
	r := runOutageDrill(t, m, cycles, func() { ext.StopEmbedded() }, ext.StartEmbedded)
	t.Logf("external MongoDB: %s", r)
}

// drillReport is what an outage drill saw.
type drillReport struct {
	outages                  int
	writesAcked, writes503   int // the background writer's answers
	writesOther              int // anything else: a failure
	reads, readsOK           int // the background presence reader's answers
	refusedChecks, botChecks int // per-dialect outage checks that got their 503 / bot error
}

func (r drillReport) String() string {
	return fmt.Sprintf("%d outage(s); background KV writes: %d acknowledged, %d answered 503, %d other; "+
		"presence reads during the run: %d/%d 200; per-dialect write checks answered 503: %d, bot commands answered the outage: %d",
		r.outages, r.writesAcked, r.writes503, r.writesOther, r.readsOK, r.reads, r.refusedChecks, r.botChecks)
}

// drillUsers is who does what in a drill; each writer has its own user,
// because writes of one user are serialised and each refused write waits
// for the store's operation timeout.
type drillUsers struct {
	writer, watched                                      string
	lanyardPut, lanyardPatch, lanyardDelete              string
	lanternPut, lanternDeleteKey, lanternDeleteAll, bots string
	harmyBot, probe                                      string
}

// runOutageDrill runs background KV writes and presence reads against m,
// then cycles times: stop the database, check every dialect's answer to
// writes and that presence is served, start it, wait for writes to work.
func runOutageDrill(t *testing.T, m *Main, cycles int, stop func(), start func() error) drillReport {
	c := client{t, m.URL()}
	ids := m.Sim.MemberIDs(m.Sim.GuildIDs()[0])
	if len(ids) < 13 {
		t.Fatalf("%d members, want 13", len(ids))
	}
	u := drillUsers{writer: ids[0], watched: ids[1], lanyardPut: ids[2], lanyardPatch: ids[3], lanyardDelete: ids[4],
		lanternPut: ids[5], lanternDeleteKey: ids[6], lanternDeleteAll: ids[7], bots: ids[8], harmyBot: ids[9], probe: ids[10]}
	eventually(t, "members monitored", func() bool {
		for _, id := range ids[:11] {
			if !m.Hub.IsMonitored(id) {
				return false
			}
		}
		return true
	})
	tokens := map[string]string{}
	for _, id := range ids[:11] {
		tokens[id] = drillToken(t, c, id)
		// Every user holds a key, so deletes during the outage have
		// something to remove.
		if code, b := c.do("PUT", "/v1/users/"+id+"/kv/keep", tokens[id], []byte("1")); code != http.StatusNoContent {
			t.Fatalf("seeding %s: %d %s", id, code, b)
		}
	}

	var r drillReport
	tr := startDrillTraffic(c.base, u.writer, tokens[u.writer], u.watched)
	tr.waitAcked(t, 3)
	for cycle := range cycles {
		stop()
		r.outages++
		checkOutageAnswers(t, m, c, u, tokens, cycle, &r)
		checkPresenceServed(t, m, c, u.watched, cycle)
		if err := start(); err != nil {
			t.Fatalf("restarting the database: %v", err)
		}
		// Writes resume by themselves: same process, same store.
		eventually(t, "a KV write acknowledged after the restart", func() bool {
			code, _ := c.do("PUT", "/v1/users/"+u.probe+"/kv/after", tokens[u.probe], []byte(fmt.Sprint(cycle)))
			return code == http.StatusNoContent
		})
		eventually(t, "readyz 200 after the restart", func() bool { code, _ := c.do("GET", "/readyz", "", nil); return code == 200 })
		// No refused write left anything behind.
		checkKVUnchanged(t, c, u, tokens, cycle)
		tr.waitAcked(t, tr.acked()+2)
	}
	tr.stop()

	r.writesAcked, r.writes503, r.writesOther, r.reads, r.readsOK = tr.figures()
	if r.writesOther > 0 {
		t.Errorf("background writes: %d answers other than 204 and 503: %v", r.writesOther, tr.otherCodes())
	}
	if r.writes503 == 0 {
		t.Error("the background writer never met the outage")
	}
	if r.readsOK != r.reads {
		t.Errorf("presence reads: only %d of %d answered 200", r.readsOK, r.reads)
	}
	// The last acknowledged write is what the hub serves and what the
	// database holds.
	want := fmt.Sprint(tr.lastAcked())
	if got := m.Hub.KV(u.writer).Value("counter"); got != want {
		t.Errorf("hub serves counter %q, last acknowledged %q", got, want)
	}
	stored := map[string]core.KV{}
	if err := m.Store.LoadKV(t.Context(), func(id string, kv core.KV) error { stored[id] = kv; return nil }); err != nil {
		t.Fatal(err)
	}
	if got := stored[u.writer].Value("counter"); got != want {
		t.Errorf("database holds counter %q, last acknowledged %q", got, want)
	}
	return r
}

// checkLanyard503 reports whether a Lanyard answer is its 503
// service_unavailable error, failing t when it is not.
func checkLanyard503(t *testing.T, code int, body []byte) bool {
	t.Helper()
	var e struct {
		Success *bool `json:"success"`
		Error   struct{ Code, Message string }
	}
	if code != http.StatusServiceUnavailable || json.Unmarshal(body, &e) != nil || e.Success == nil || *e.Success ||
		e.Error.Code != "service_unavailable" || e.Error.Message != unavailableMessage {
		t.Errorf("Lanyard answered %d %s, want 503 service_unavailable", code, body)
		return false
	}
	return true
}

// checkLantern503 reports whether a Lantern answer is its 503 error,
// failing t when it is not.
func checkLantern503(t *testing.T, code int, body []byte) bool {
	t.Helper()
	if code != http.StatusServiceUnavailable || string(body) != `{"error":"`+unavailableMessage+`"}` {
		t.Errorf("Lantern answered %d %s, want 503 {\"error\":%q}", code, body, unavailableMessage)
		return false
	}
	return true
}

// checkOutageAnswers sends one write of each kind while the database is
// down, in parallel (each waits for the store's operation timeout), and
// checks each answers its dialect's 503-class error.
func checkOutageAnswers(t *testing.T, m *Main, c client, u drillUsers, tokens map[string]string, cycle int, r *drillReport) {
	var mu sync.Mutex
	refused := func() { mu.Lock(); r.refusedChecks++; mu.Unlock() }
	lanyard503 := func(t *testing.T, code int, body []byte) {
		t.Helper()
		if checkLanyard503(t, code, body) {
			refused()
		}
	}
	lantern503 := func(t *testing.T, code int, body []byte) {
		t.Helper()
		if checkLantern503(t, code, body) {
			refused()
		}
	}
	key := fmt.Sprintf("during%d", cycle)
	t.Run(fmt.Sprintf("outage%d", cycle), func(t *testing.T) {
		t.Run("lanyard PUT", func(t *testing.T) {
			t.Parallel()
			code, b := c.do("PUT", "/v1/users/"+u.lanyardPut+"/kv/"+key, tokens[u.lanyardPut], []byte("x"))
			lanyard503(t, code, b)
		})
		t.Run("lanyard PATCH", func(t *testing.T) {
			t.Parallel()
			code, b := c.do("PATCH", "/v1/users/"+u.lanyardPatch+"/kv", tokens[u.lanyardPatch], []byte(`{"`+key+`":"x"}`))
			lanyard503(t, code, b)
		})
		t.Run("lanyard DELETE", func(t *testing.T) {
			t.Parallel()
			code, b := c.do("DELETE", "/v1/users/"+u.lanyardDelete+"/kv/keep", tokens[u.lanyardDelete], nil)
			lanyard503(t, code, b)
		})
		t.Run("lantern PUT", func(t *testing.T) {
			t.Parallel()
			code, b := c.doJSON("PUT", "/api/v1/users/"+u.lanternPut+"/storage/"+key, "Bearer "+tokens[u.lanternPut], `{"value":"x"}`)
			lantern503(t, code, b)
		})
		t.Run("lantern DELETE key", func(t *testing.T) {
			t.Parallel()
			code, b := c.do("DELETE", "/api/v1/users/"+u.lanternDeleteKey+"/storage/keep", tokens[u.lanternDeleteKey], nil)
			lantern503(t, code, b)
		})
		t.Run("lantern DELETE storage", func(t *testing.T) {
			t.Parallel()
			code, b := c.do("DELETE", "/api/v1/users/"+u.lanternDeleteAll+"/storage", tokens[u.lanternDeleteAll], nil)
			lantern503(t, code, b)
		})
		t.Run("lanyard .set", func(t *testing.T) {
			t.Parallel()
			reply := botChat{t: t, m: m, c: c, user: u.bots}.dm(".set " + key + " x")
			if reply.Content != ":x: The database is unavailable, try again later." {
				t.Errorf(".set during the outage: %q", reply.Content)
				return
			}
			mu.Lock()
			r.botChecks++
			mu.Unlock()
		})
		t.Run("harmy .add", func(t *testing.T) {
			t.Parallel()
			reply := botChat{t: t, m: m, c: c, user: u.harmyBot}.dm(".add " + key + " x")
			if reply.Content != ":x: "+unavailableMessage {
				t.Errorf(".add during the outage: %q", reply.Content)
				return
			}
			mu.Lock()
			r.botChecks++
			mu.Unlock()
		})
	})
}

// checkPresenceServed checks, with the database still down, that every
// dialect serves presence and that a presence change from the gateway
// reaches clients; only readiness reports the database.
func checkPresenceServed(t *testing.T, m *Main, c client, watched string, cycle int) {
	t.Helper()
	for _, path := range []string{"/v1/users/" + watched, "/api/v1/users/" + watched, "/healthz"} {
		if code, b := c.do("GET", path, "", nil); code != http.StatusOK {
			t.Errorf("GET %s during the outage: %d %s", path, code, b)
		}
	}
	if code, b := harmyGet(c, "/user/"+watched, ""); code != http.StatusOK {
		t.Errorf("harmy GET during the outage: %d %s", code, b)
	}
	if code, b := c.do("GET", "/readyz", "", nil); code != http.StatusServiceUnavailable || !bytes.Contains(b, []byte("database is unreachable")) {
		t.Errorf("readyz during the outage: %d %s", code, b)
	}
	state := fmt.Sprintf("outage %d", cycle)
	presence := fmt.Sprintf(`{"user":{"id":%q},"status":"dnd","client_status":{"desktop":"dnd"},
		"activities":[{"id":"custom","name":"Custom Status","type":4,"state":%q,"created_at":1767268800000}]}`, watched, state)
	if code, b := c.do("POST", "/admin/v1/demo/presence", e2eAdmin, []byte(presence)); code != http.StatusAccepted {
		t.Fatalf("demo presence: %d %s", code, b)
	}
	eventually(t, "a presence change served during the outage", func() bool {
		_, b := c.do("GET", "/v1/users/"+watched, "", nil)
		return bytes.Contains(b, []byte(state))
	})
}

// checkKVUnchanged checks that the writes refused during the outage left
// no trace once the database is back.
func checkKVUnchanged(t *testing.T, c client, u drillUsers, tokens map[string]string, cycle int) {
	t.Helper()
	key := fmt.Sprintf("during%d", cycle)
	for _, id := range []string{u.lanyardPut, u.lanyardPatch, u.lanyardDelete, u.lanternPut, u.lanternDeleteKey, u.lanternDeleteAll, u.bots, u.harmyBot} {
		_, b := c.do("GET", "/v1/users/"+id, "", nil)
		var resp struct {
			Data struct{ KV map[string]string } `json:"data"`
		}
		if err := json.Unmarshal(b, &resp); err != nil {
			t.Fatalf("GET %s: %v %s", id, err, b)
		}
		if _, ok := resp.Data.KV[key]; ok || resp.Data.KV["keep"] != "1" {
			t.Errorf("user %s after a refused write: %v", id, resp.Data.KV)
		}
	}
}

// drillToken issues a user's API token through the admin API.
func drillToken(t *testing.T, c client, userID string) string {
	t.Helper()
	code, body := c.do("POST", "/admin/v1/users/"+userID+"/token", e2eAdmin, nil)
	var tok struct{ Token string }
	if code != http.StatusOK || json.Unmarshal(body, &tok) != nil || tok.Token == "" {
		t.Fatalf("issuing a token for %s: %d %s", userID, code, body)
	}
	return tok.Token
}

// drillTraffic is a background Lanyard KV writer (PUT counter=n, n
// increasing) and presence reader, counting their answers.
type drillTraffic struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	codes     map[int]int // writer answers by status
	last      int         // counter value of the last acknowledged write
	reads, ok int
}

func startDrillTraffic(base, writer, token, watched string) *drillTraffic {
	ctx, cancel := context.WithCancel(context.Background())
	tr := &drillTraffic{cancel: cancel, codes: map[int]int{}, last: -1}
	hc := &http.Client{Timeout: 30 * time.Second}
	tr.wg.Go(func() {
		// The writer is never cut off mid-request (a canceled request
		// has no answer to count): it stops between two writes.
		for n := 0; ctx.Err() == nil; n++ {
			req, _ := http.NewRequest("PUT", base+"/v1/users/"+writer+"/kv/counter", strings.NewReader(fmt.Sprint(n)))
			req.Header.Set("Authorization", token)
			resp, err := hc.Do(req)
			if err != nil {
				tr.count(-1, n) // a transport failure is a failure
				continue
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			tr.count(resp.StatusCode, n)
		}
	})
	tr.wg.Go(func() {
		for ctx.Err() == nil {
			req, _ := http.NewRequestWithContext(ctx, "GET", base+"/v1/users/"+watched, nil)
			resp, err := hc.Do(req)
			if ctx.Err() != nil {
				return
			}
			tr.mu.Lock()
			tr.reads++
			if err == nil && resp.StatusCode == http.StatusOK {
				tr.ok++
			}
			tr.mu.Unlock()
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	return tr
}

func (tr *drillTraffic) count(code, n int) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.codes[code]++
	if code == http.StatusNoContent {
		tr.last = n
	}
}

// acked returns how many writes were acknowledged so far.
func (tr *drillTraffic) acked() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.codes[http.StatusNoContent]
}

// lastAcked returns the counter of the last acknowledged write.
func (tr *drillTraffic) lastAcked() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.last
}

// waitAcked waits until n writes were acknowledged.
func (tr *drillTraffic) waitAcked(t *testing.T, n int) {
	t.Helper()
	eventually(t, fmt.Sprintf("%d background writes acknowledged", n), func() bool { return tr.acked() >= n })
}

func (tr *drillTraffic) stop() {
	tr.cancel()
	tr.wg.Wait()
}

func (tr *drillTraffic) figures() (acked, unavailable, other, reads, readsOK int) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for code, n := range tr.codes {
		switch code {
		case http.StatusNoContent:
			acked += n
		case http.StatusServiceUnavailable:
			unavailable += n
		default:
			other += n
		}
	}
	return acked, unavailable, other, tr.reads, tr.ok
}

func (tr *drillTraffic) otherCodes() map[int]int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	out := map[int]int{}
	for code, n := range tr.codes {
		if code != http.StatusNoContent && code != http.StatusServiceUnavailable {
			out[code] = n
		}
	}
	return out
}
