package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/halyardhq/halyard/discord/discordsim"
	"github.com/halyardhq/halyard/storage"
)

// natsNode is one in-process NATS server of a test cluster; restart
// brings it back on the same ports and store after shutdown.
type natsNode struct {
	t    testing.TB
	opts *natsserver.Options
	srv  *natsserver.Server
	url  string
}

func (n *natsNode) start() {
	n.t.Helper()
	s, err := natsserver.NewServer(n.opts)
	if err != nil {
		n.t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(20 * time.Second) {
		n.t.Fatal("nats server not ready")
	}
	n.srv = s
	n.url = s.ClientURL()
	n.opts.Port = s.Addr().(*net.TCPAddr).Port // a restart keeps the address
}

func (n *natsNode) shutdown() {
	n.srv.Shutdown()
	n.srv.WaitForShutdown()
}

// startNATSCluster starts n NATS servers with JetStream, routed to each
// other on loopback, and returns them once JetStream answers.
func startNATSCluster(t testing.TB, n int) []*natsNode {
	t.Helper()
	clusterPorts := make([]int, n)
	for i := range clusterPorts {
		clusterPorts[i] = freePort(t)
	}
	var routes []string
	for _, p := range clusterPorts {
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", p))
	}
	servers := make([]*natsNode, n)
	var urls []string
	for i := range n {
		opts := &natsserver.Options{ServerName: fmt.Sprintf("nats-%d", i), Host: "127.0.0.1", Port: -1,
			JetStream: true, StoreDir: filepath.Join(t.TempDir(), "js"), NoLog: true, NoSigs: true,
			// NoAdvertise: a client knows only the servers it was given, so
			// stopping its one server cuts it off (no reconnect elsewhere).
			Cluster: natsserver.ClusterOpts{Name: "halyard-test", Host: "127.0.0.1", Port: clusterPorts[i], NoAdvertise: true},
			Routes:  natsserver.RoutesFromStr(strings.Join(routes, ","))}
		servers[i] = &natsNode{t: t, opts: opts}
		servers[i].start()
		t.Cleanup(func() { servers[i].srv.Shutdown() })
		urls = append(urls, servers[i].url)
	}
	nc, err := nats.Connect(strings.Join(urls, ","))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	waitUntil(t, "JetStream to elect its leader", time.Minute, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := js.AccountInfo(ctx)
		return err == nil
	})
	return servers
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startClusterNode runs one node of a test cluster: the production
// wiring pointed at the shared simulator, store and NATS.
func startClusterNode(t testing.TB, sim *discordsim.Sim, storeURI, natsURL, name string) *Main {
	t.Helper()
	return startClusterNodeEnv(t, sim, storeURI, natsURL, name, nil)
}

// clusterParts starts what a cluster's nodes share besides NATS: one
// simulator with cfg and one embedded store; both end after the test's
// own deferred closes (its nodes).
func clusterParts(t testing.TB, cfg discordsim.Config) (*discordsim.Sim, *storage.Store) {
	t.Helper()
	st, err := storage.Open(t.Context(), storage.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sim, err := discordsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	return sim, st
}

// startClusterNodeEnv is startClusterNode with more settings (extra).
func startClusterNodeEnv(t testing.TB, sim *discordsim.Sim, storeURI, natsURL, name string, extra map[string]string) *Main {
	t.Helper()
	return startClusterNodeWith(t, sim, storeURI, natsURL, name, extra, nil)
}

// startClusterNodeWith is startClusterNodeEnv with setup run on the Main
// before it runs (a test's clock).
func startClusterNodeWith(t testing.TB, sim *discordsim.Sim, storeURI, natsURL, name string, extra map[string]string, setup func(*Main)) *Main {
	t.Helper()
	m := NewMain()
	if setup != nil {
		setup(m)
	}
	m.Stdout, m.Stderr = io.Discard, io.Discard
	if os.Getenv("HALYARD_TEST_LOG") != "" {
		m.Stderr = os.Stderr
	}
	args := []string{"--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--log-level", "warn"}
	env := map[string]string{"BOT_TOKEN": sim.Token(), "DISCORD_GATEWAY_URL": sim.GatewayURL(),
		"DISCORD_API_URL": sim.RESTURL(), "MONGODB_URI": storeURI, "NATS_URL": natsURL, "NODE_NAME": name,
		"ADMIN_TOKEN": "test-admin-token", "TOKEN_SECRET": strings.Repeat("s", 40)}
	maps.Copy(env, extra)
	if err := m.ParseFlags(args, env); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := m.Run(ctx); err != nil {
		m.Close()
		t.Fatal(err)
	}
	return m
}

// TestClusterThreeNodes runs three real nodes (the production wiring)
// against one simulated Discord, one embedded store and a three-server
// NATS cluster: presence reaches every node's REST and sockets, a token
// and KV written on one node work on the others, concurrent KV writes
// from the three lose nothing, and when the shard's holder goes another
// node takes the gateway while the others' sockets stay open.
func TestClusterThreeNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three nodes")
	}
	tc := startTestCluster(t, 3, discordsim.Config{Seed: 7, Members: 2000}, nil, nil)
	sim, st, nodes, clients := tc.sim, tc.store, tc.nodes, tc.clients
	ids := sim.MemberIDs(sim.GuildIDs()[0])
	sockets := make([]*lanyardFolder, 3)
	for i, m := range nodes {
		sockets[i] = dialLanyardAll(t, m.URL())
	}
	defer func() {
		for _, s := range sockets {
			if s != nil {
				s.close()
			}
		}
	}()

	lanterns := make([]*markWatcher, 3)
	for i, m := range nodes {
		lanterns[i] = watchLanternAll(t, m.URL())
	}

	// Presence through the simulator reaches every node: REST, the
	// Lanyard socket and the Lantern socket.
	// Fewer changes at once than a socket following everyone may have
	// queued (core.DefaultQueueSize users): a bigger burst closes it as
	// too slow (1013), on one node as on several.
	sim.Churn(200)
	mark := fmt.Sprintf(`{"user":{"id":%q},"status":"dnd","activities":[{"name":"cluster-mark","type":0}]}`, ids[5])
	if err := sim.UpdatePresence([]byte(mark)); err != nil {
		t.Fatal(err)
	}
	for i := range nodes {
		assertServesTruth(t, fmt.Sprintf("node %d", i), clients[i], sim, ids)
		waitUntil(t, fmt.Sprintf("node %d's Lantern socket to get the presence", i), 30*time.Second, func() bool {
			return lanterns[i].saw("cluster-mark")
		}, func() string {
			lanterns[i].mu.Lock()
			defer lanterns[i].mu.Unlock()
			var heads []string
			for _, f := range lanterns[i].frames {
				if strings.Contains(f, ids[5]) {
					heads = append(heads, f[:min(len(f), 1500)])
				}
			}
			return fmt.Sprintf("synced %v, %d frames: %s", nodes[i].Hub.IsSynced(), len(heads), strings.Join(heads, "\n"))
		})
		waitUntil(t, fmt.Sprintf("node %d's Lanyard socket to get the presence", i), 30*time.Second, func() bool {
			sockets[i].mu.Lock()
			defer sockets[i].mu.Unlock()
			return strings.Contains(string(sockets[i].latest[ids[5]]), "cluster-mark")
		})
	}

	// One writer of user records: the holder stores every member's
	// record; the followers only note them until the holder says they
	// are stored, and write none of them.
	holder := nodes[0].Cluster.LeaseHolders()[0]
	waitUntil(t, "the holder to store the records and the followers to forget their notes", time.Minute, func() bool {
		for _, m := range nodes {
			st := m.Hub.Stats()
			if m.Cluster.Name() == holder && st.RecordsWritten < int64(len(ids)) || st.RecordsForeign != 0 {
				return false
			}
		}
		return true
	})
	for i, m := range nodes {
		if m.Cluster.Name() == holder {
			continue
		}
		if err := m.Hub.FlushRecords(t.Context()); err != nil {
			t.Fatal(err)
		}
		if w := m.Hub.Stats().RecordsWritten; w != 0 {
			t.Fatalf("follower node %d wrote %d user records of the holder's changes", i, w)
		}
	}

	// A token issued on node 0 writes KV on node 2; node 1 serves it.
	user := ids[0]
	token, err := nodes[0].Tokens.Issue(t.Context(), user)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "node 2 to accept node 0's token", 30*time.Second, func() bool {
		code, _ := clients[2].doType("PUT", "/v1/users/@me/kv/greeting", token, "text/plain", "hello")
		return code == 200 || code == 204
	})
	waitUntil(t, "node 1 to serve node 2's KV", 30*time.Second, func() bool {
		return kvOf(t, clients[1], user)["greeting"] == "hello"
	})
	for i := range nodes {
		waitUntil(t, fmt.Sprintf("node %d's sockets to get node 2's KV", i), 30*time.Second, func() bool {
			sockets[i].mu.Lock()
			defer sockets[i].mu.Unlock()
			return strings.Contains(string(sockets[i].latest[user]), `"greeting":"hello"`) && lanterns[i].saw(`"greeting":"hello"`)
		})
	}

	// Concurrent writes to one user from three nodes: PUT on two, PATCH
	// on the third, each node cycling through its own 100 keys (a map
	// holds at most 512 pairs) with the write's number as the value.
	// Nothing lost: the stored version counts every acknowledged write
	// once, each key holds its last write, and every node serves it.
	// 300 writes per node by default: on the embedded store every write
	// is a few fsynced commands, and 3 × 1 000 (the issue's figure) take
	// about 3 minutes on a 2-core machine; HALYARD_CLUSTER_WRITES=1000
	// runs those.
	writes, keysPerNode := 300, 100
	if n, err := strconv.Atoi(os.Getenv("HALYARD_CLUSTER_WRITES")); err == nil && n >= keysPerNode {
		writes = n
	}
	_, before, err := st.LoadUserKV(t.Context(), user)
	if err != nil {
		t.Fatal(err)
	}
	// A write answered 503 (the store did not answer in time, which a
	// loaded 2-core machine can cause) is retried, as a client does; it
	// may or may not have been stored, so the version moved by at least
	// the acknowledged writes and at most every attempt.
	var wg sync.WaitGroup
	var acked, attempts atomic.Int64
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range writes {
				key, value := fmt.Sprintf("n%d_%d", i, j%keysPerNode), fmt.Sprint(j)
				for try := 0; ; try++ {
					var code int
					var body []byte
					attempts.Add(1)
					if i == 1 {
						code, body = clients[i].doType("PATCH", "/v1/users/@me/kv", token, "application/json", fmt.Sprintf(`{%q:%q}`, key, value))
					} else {
						code, body = clients[i].doType("PUT", "/v1/users/@me/kv/"+key, token, "text/plain", value)
					}
					if code == 200 || code == 204 {
						acked.Add(1)
						break
					}
					if code != 503 || try == 20 {
						t.Errorf("node %d write %d: %d %s", i, j, code, body)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	stored, after, err := st.LoadUserKV(t.Context(), user)
	if err != nil {
		t.Fatal(err)
	}
	if moved := after - before; moved < acked.Load() || moved > attempts.Load() {
		t.Fatalf("the stored version moved by %d for %d acknowledged writes (%d attempts)", moved, acked.Load(), attempts.Load())
	}
	if acked.Load() != int64(3*writes) {
		t.Fatalf("%d writes acknowledged, want %d", acked.Load(), 3*writes)
	}
	t.Logf("%d writes acknowledged in %d attempts", acked.Load(), attempts.Load())
	want := map[string]string{"greeting": "hello"}
	for i := range 3 {
		for r := range keysPerNode {
			want[fmt.Sprintf("n%d_%d", i, r)] = fmt.Sprint(writes - keysPerNode + r)
		}
	}
	for k, v := range want {
		if got, _ := stored.Get(k); got != v {
			t.Fatalf("stored %s = %q, want %q", k, got, v)
		}
	}
	for i, c := range clients {
		waitUntil(t, fmt.Sprintf("node %d to serve the stored map", i), 30*time.Second, func() bool {
			return maps.Equal(kvOf(t, c, user), want)
		})
	}

	// The holder goes mid-churn; another node takes the shard and every
	// survivor converges to the simulator; their sockets stay open.
	var dead int
	for i, m := range nodes {
		if m.Cluster.Name() == holder {
			dead = i
		}
	}
	stopChurn := sim.StartChurn(10*time.Millisecond, 20)
	sockets[dead].close()
	sockets[dead] = nil
	if err := tc.stop(dead); err != nil {
		t.Logf("closing the holder: %v", err)
	}
	var survivors []int
	for i := range nodes {
		if i != dead {
			survivors = append(survivors, i)
		}
	}
	waitUntil(t, "another node to hold the shard", time.Minute, func() bool {
		h := nodes[survivors[0]].Cluster.LeaseHolders()[0]
		return h != "" && h != holder
	})
	sim.Churn(2000)
	stopChurn()
	for _, i := range survivors {
		assertServesTruth(t, fmt.Sprintf("survivor node %d", i), clients[i], sim, ids)
		var last []string
		waitUntil(t, fmt.Sprintf("node %d's socket to equal its REST", i), time.Minute, func() bool {
			last = sockets[i].diff(clients[i], ids)
			return len(last) == 0
		}, func() string { return strings.Join(last, "\n") })
		updates, kicks, _, err := sockets[i].status()
		if err != nil {
			t.Errorf("node %d's socket closed: %v", i, err)
		}
		// The new holder's member re-sync re-sends every member at once;
		// a socket following everyone may be closed as too slow (1013)
		// and comes back through INIT_STATE, as on one node after a
		// gateway fault (TestGatewayFaultsLanyardSocket). Logged.
		t.Logf("node %d's Lanyard socket: %d updates folded, %d closes with 1013 (reconnected)", i, updates, kicks)
	}
	// The new holder writes the records now (its re-sync saw every
	// member again); the other survivor still writes none.
	newHolder := nodes[survivors[0]].Cluster.LeaseHolders()[0]
	for _, i := range survivors {
		if err := nodes[i].Hub.FlushRecords(t.Context()); err != nil {
			t.Fatal(err)
		}
		w := nodes[i].Hub.Stats().RecordsWritten
		switch name := nodes[i].Cluster.Name(); {
		case name == newHolder && w == 0:
			t.Errorf("the new holder %s wrote no user record", name)
		case name != newHolder && w != 0:
			t.Errorf("follower %s wrote %d user records", name, w)
		}
	}
}

// assertServesTruth waits until the node's REST shows every member with
// the simulator's status and activities.
func assertServesTruth(t *testing.T, what string, c client, sim *discordsim.Sim, ids []string) {
	t.Helper()
	var diff string
	waitUntil(t, what+" to serve the simulator's truth", 2*time.Minute, func() bool {
		for _, id := range ids {
			truth, ok := sim.Truth(id)
			if !ok {
				continue
			}
			code, body := c.do("GET", "/v1/users/"+id, "", nil)
			var resp struct {
				Data struct {
					Status     string          `json:"discord_status"`
					Activities json.RawMessage `json:"activities"`
				} `json:"data"`
			}
			if code != 200 || json.Unmarshal(body, &resp) != nil {
				diff = fmt.Sprintf("%s: %d %s", id, code, body)
				return false
			}
			if resp.Data.Status != truth.Status || !sameJSON(orEmptyArray(resp.Data.Activities), orEmptyArray(truth.Activities)) {
				diff = fmt.Sprintf("%s: served %s %s, truth %s %s", id, resp.Data.Status, resp.Data.Activities, truth.Status, truth.Activities)
				return false
			}
		}
		return true
	}, func() string { return diff })
}

// kvOf returns the user's KV as the node's REST serves it.
func kvOf(t *testing.T, c client, user string) map[string]string {
	code, body := c.do("GET", "/v1/users/"+user, "", nil)
	var resp struct {
		Data struct {
			KV map[string]string `json:"kv"`
		} `json:"data"`
	}
	if code != 200 || json.Unmarshal(body, &resp) != nil {
		return nil
	}
	return resp.Data.KV
}

// markWatcher is a Lantern socket following every user that notes which
// marks its frames carried.
type markWatcher struct {
	mu     sync.Mutex
	frames []string
}

func watchLanternAll(t *testing.T, base string) *markWatcher {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/lantern/socket", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	if _, _, err := ws.ReadMessage(); err != nil { // Hello
		t.Fatal(err)
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"op":2,"d":{"user_id":"ALL"}}`)); err != nil {
		t.Fatal(err)
	}
	w := &markWatcher{}
	go func() {
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				return
			}
			w.mu.Lock()
			w.frames = append(w.frames, string(data))
			w.mu.Unlock()
		}
	}()
	return w
}

// saw reports whether a frame contained s.
func (w *markWatcher) saw(s string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, f := range w.frames {
		if strings.Contains(f, s) {
			return true
		}
	}
	return false
}
