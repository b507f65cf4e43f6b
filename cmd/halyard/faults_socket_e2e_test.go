package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// lanyardFolder is one Lanyard subscribe_to_all WebSocket client that
// folds INIT_STATE and every PRESENCE_UPDATE into each user's latest
// presence object, as use-lanyard does. When the server closes it as too
// slow (1013) it reconnects and subscribes again, as clients do.
type lanyardFolder struct {
	base    string
	mu      sync.Mutex
	ws      *websocket.Conn
	latest  map[string]json.RawMessage
	updates int
	kicks   int   // closes with 1013 client_too_slow
	badIDs  int   // updates whose "user_id" is missing or not the user's
	err     error // why the client stopped, if it did
	stop    chan struct{}
	done    chan struct{}
}

func dialLanyardAll(t *testing.T, base string) *lanyardFolder {
	t.Helper()
	f := &lanyardFolder{base: base, latest: map[string]json.RawMessage{}, stop: make(chan struct{}), done: make(chan struct{})}
	if err := f.connect(); err != nil {
		t.Fatal(err)
	}
	go f.run()
	return f
}

func (f *lanyardFolder) connect() error {
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(f.base, "http")+"/socket", nil)
	if err != nil {
		return err
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"op":2,"d":{"subscribe_to_all":true}}`)); err != nil {
		_ = ws.Close()
		return err
	}
	f.mu.Lock()
	f.ws = ws
	f.mu.Unlock()
	return nil
}

func (f *lanyardFolder) run() {
	defer close(f.done)
	beats := make(chan struct{})
	defer close(beats)
	go func() {
		t := time.NewTicker(15 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-beats:
				return
			case <-t.C:
				f.heartbeat()
			}
		}
	}()
	for {
		f.mu.Lock()
		ws := f.ws
		f.mu.Unlock()
		err := f.read(ws)
		select {
		case <-f.stop:
			return
		default:
		}
		if !websocket.IsCloseError(err, websocket.CloseTryAgainLater) {
			f.mu.Lock()
			f.err = err
			f.mu.Unlock()
			return
		}
		f.mu.Lock()
		f.kicks++
		f.mu.Unlock()
		if err := f.connect(); err != nil {
			f.mu.Lock()
			f.err = err
			f.mu.Unlock()
			return
		}
	}
}

func (f *lanyardFolder) read(ws *websocket.Conn) error {
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return err
		}
		var msg struct {
			Op int             `json:"op"`
			T  string          `json:"t"`
			D  json.RawMessage `json:"d"`
		}
		if json.Unmarshal(data, &msg) != nil || msg.Op != 0 {
			continue
		}
		f.mu.Lock()
		switch msg.T {
		case "INIT_STATE":
			var all map[string]json.RawMessage
			_ = json.Unmarshal(msg.D, &all)
			for id, p := range all {
				f.latest[id] = f.note(msg.T, id, p)
			}
		case "PRESENCE_UPDATE":
			var p struct {
				DiscordUser struct {
					ID string `json:"id"`
				} `json:"discord_user"`
			}
			if json.Unmarshal(msg.D, &p) == nil && p.DiscordUser.ID != "" {
				f.latest[p.DiscordUser.ID] = f.note(msg.T, p.DiscordUser.ID, msg.D)
				f.updates++
			}
		}
		f.mu.Unlock()
	}
}

// heartbeat keeps the socket inside Lanyard's 60 s idle limit.
// note returns an update's presence object without the "user_id" that
// Halyard adds for subscribe_to_all sockets (docs/compat/lanyard.md §5.4), after
// checking it names the user; a wrong one is counted in badIDs. INIT_STATE
// values are kept as sent: they must equal REST as they are.
// Called with f.mu held.
func (f *lanyardFolder) note(typ, userID string, p json.RawMessage) json.RawMessage {
	if typ != "PRESENCE_UPDATE" {
		return p
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(p, &obj) != nil {
		return p
	}
	var id string
	if json.Unmarshal(obj["user_id"], &id) != nil || id != userID {
		f.badIDs++
	}
	delete(obj, "user_id")
	out, _ := json.Marshal(obj)
	return out
}

// Best effort: a write racing a reconnect may fail.
func (f *lanyardFolder) heartbeat() {
	f.mu.Lock()
	defer f.mu.Unlock()
	_ = f.ws.WriteMessage(websocket.TextMessage, []byte(`{"op":3}`))
}

func (f *lanyardFolder) close() {
	close(f.stop)
	f.mu.Lock()
	_ = f.ws.Close()
	f.mu.Unlock()
	<-f.done
}

// status returns what the client counted, and why it stopped if it did.
func (f *lanyardFolder) status() (updates, kicks, badIDs int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.updates, f.kicks, f.badIDs, f.err
}

// diff compares the folded state of the given users with what REST serves
// for them now; users who left are not compared (Lanyard tells sockets
// nothing when someone stops being monitored).
func (f *lanyardFolder) diff(c client, ids []string) []string {
	var diffs []string
	for _, id := range ids {
		code, body := c.do("GET", "/v1/users/"+id, "", nil)
		var resp struct {
			Data json.RawMessage `json:"data"`
		}
		if code != 200 || json.Unmarshal(body, &resp) != nil {
			diffs = append(diffs, fmt.Sprintf("%s: REST %d %s", id, code, body))
			continue
		}
		f.mu.Lock()
		got, ok := f.latest[id]
		f.mu.Unlock()
		if !ok {
			diffs = append(diffs, id+": never sent to the socket")
			continue
		}
		if !sameJSON(got, resp.Data) {
			diffs = append(diffs, fmt.Sprintf("%s: socket %s, REST %s", id, got, resp.Data))
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 3 {
		diffs = append(diffs[:3], fmt.Sprintf("… %d more", len(diffs)-3))
	}
	return diffs
}

func sameJSON(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

// TestGatewayFaultsLanyardSocket runs the production wiring in demo mode
// under presence churn, injects the gateway faults with a burst of 10 000
// changes while the bot is away, and checks that a Lanyard
// subscribe_to_all client opened before the faults ends with exactly what
// REST serves for every member. discord/faults_load_test.go covers the
// hub against the simulator's truth in depth; this is the same story seen
// by a real client.
func TestGatewayFaultsLanyardSocket(t *testing.T) {
	m := startDemo(t, t.TempDir(), 300)
	defer m.Close()
	c := client{t, m.URL()}
	eventually(t, "readyz 200", func() bool { code, _ := c.do("GET", "/readyz", "", nil); return code == 200 })
	sim := m.Sim
	ids := sim.MemberIDs(sim.GuildIDs()[0])
	eventually(t, "every member served", func() bool {
		code, _ := c.do("GET", "/v1/users/"+ids[len(ids)-1], "", nil)
		return code == 200
	})
	sock := dialLanyardAll(t, m.URL())
	defer sock.close()

	stopChurn := sim.StartChurn(10*time.Millisecond, 10)
	defer stopChurn()
	faults := []struct {
		name      string
		inject    func()
		resumable bool
	}{
		{"TCP drop", sim.DropConnections, true},
		{"op 7 RECONNECT", sim.SendReconnect, true},
		{"op 9 d=true", func() { sim.SendInvalidSession(true) }, false},
		{"op 9 d=false", func() { sim.SendInvalidSession(false) }, false},
	}
	for _, fault := range faults {
		before := sim.Stats()
		fault.inject()
		sim.Churn(10000)
		sock.heartbeat()
		waitUntil(t, fault.name+": the bot back", 2*time.Minute, func() bool {
			st := sim.Stats()
			back := st.Identifies > before.Identifies
			if fault.resumable {
				back = st.Resumes > before.Resumes
			}
			code, _ := c.do("GET", "/readyz", "", nil)
			return back && code == 200
		})
	}
	stopChurn()
	sock.heartbeat()
	// Members now (joins and leaves aside, the simulator's guild is fixed).
	ids = sim.MemberIDs(sim.GuildIDs()[0])
	var last []string
	waitUntil(t, "the socket to equal REST", time.Minute, func() bool { last = sock.diff(c, ids); return len(last) == 0 },
		func() string {
			u, k, _, err := sock.status()
			return fmt.Sprintf("%d updates, %d kicks, err %v:\n%s", u, k, err, strings.Join(last, "\n"))
		})
	updates, kicks, badIDs, err := sock.status()
	if err != nil {
		t.Fatalf("the socket client stopped: %v", err)
	}
	if badIDs > 0 {
		t.Errorf("%d PRESENCE_UPDATEs with a missing or wrong user_id", badIDs)
	}
	// Kicks are the socket layer's bound on queued events (1013
	// client_too_slow) meeting a replayed burst; the client comes back
	// through INIT_STATE. Logged, not asserted: see the report of issue 7.
	t.Logf("%d faults, %d PRESENCE_UPDATEs folded, %d closes with 1013 client_too_slow (reconnected), %d members equal to REST; simulator %+v",
		len(faults), updates, kicks, len(ids), sim.Stats())
}

// waitUntil polls cond until it holds or bound passes (a hang guard for a
// shared, loaded machine, not a timing assertion).
func waitUntil(t testing.TB, what string, bound time.Duration, cond func() bool, diag ...func() string) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			for _, d := range diag {
				t.Log(d())
			}
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
