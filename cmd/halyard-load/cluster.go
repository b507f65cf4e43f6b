package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// clusterNodes is how many Halyard nodes the cluster scenario runs (and
// NATS servers: one each, as README's production advice has it).
const clusterNodes = 3

// clusterResult is the cluster scenario's figures (issue 14). The first
// keys are the four figures; the rest are the details behind them.
type clusterResult struct {
	DeliveryP50MS    float64 `json:"delivery_p50_ms"` // presence at the holder → a follower's Lanyard socket
	DeliveryP99MS    float64 `json:"delivery_p99_ms"`
	IngestEventsPerS float64 `json:"ingest_events_per_s"` // PRESENCE_UPDATEs a follower's hub applied from the bus
	FailoverS        float64 `json:"failover_s"`          // holder killed → first fresh presence on a follower's socket
	RestRPS          float64 `json:"rest_rps"`            // Lanyard GET on one node of the cluster
	SingleRestRPS    float64 `json:"single_rest_rps"`     // the same on a single node without NATS, same run
	RestRatio        float64 `json:"rest_ratio"`          // rest_rps ÷ single_rest_rps

	Nodes    int      `json:"nodes"`
	Users    int      `json:"users"` // the simulator's members
	NATS     string   `json:"nats"`  // how the NATS servers ran
	ReadyS   float64  `json:"ready_s"`
	Holder   string   `json:"holder"` // the shard's holder at the start
	NodeList []string `json:"node_names"`

	Delivery *crossDelivery  `json:"delivery,omitempty"`
	Ingest   *busIngest      `json:"ingest,omitempty"`
	Failover *failoverResult `json:"failover,omitempty"`
	Rest     *clusterREST    `json:"rest,omitempty"`
	// Sockets is memory per idle subscriber by node name, and "single".
	// It is read without a forced collection (the server offers none), as
	// ws-idle's; at 1 000 sockets the collector's timing moves it by
	// several KB either way, so it shows the order, not a comparison.
	Sockets map[string]socketMemory `json:"sockets,omitempty"`
	Errors  []string                `json:"errors,omitempty"`
}

// crossDelivery is the cross-node delivery figures.
type crossDelivery struct {
	SubscribersPerNode int     `json:"subscribers_per_node"`
	Pushes             int     `json:"pushes"`
	Delivered          int     `json:"delivered"` // on every node
	Missing            int     `json:"missing"`
	Followers          summary `json:"followers"`    // sockets on the nodes that do not hold the shard
	HolderLocal        summary `json:"holder_local"` // sockets on the holder itself, for comparison
}

// busIngest is the ingest-through-the-bus figures.
type busIngest struct {
	Events   int     `json:"events"`
	Users    int     `json:"users"`
	Follower string  `json:"follower"`
	Applied  int64   `json:"applied"` // halyard_cluster_changes_applied_total on the follower
	Seconds  float64 `json:"seconds"` // flood request → the follower's last applied change
	// HolderEvents is the holder's own hub events of the flood, the last
	// of them HolderSeconds after the request (read in the same loop).
	HolderEvents  int64   `json:"holder_hub_events"`
	HolderSeconds float64 `json:"holder_seconds"`
	BusBatches    int64   `json:"bus_batches"` // halyard_cluster_bus_messages_in_total on the follower
}

// failoverResult is the failover figures, each from the kill -9.
type failoverResult struct {
	OldHolder      string  `json:"old_holder"`
	NewHolder      string  `json:"new_holder"`
	Follower       string  `json:"follower"`
	LeaseTakenS    float64 `json:"lease_taken_s"`    // the new holder names itself in GET /admin/v1/cluster
	HolderReadyS   float64 `json:"holder_ready_s"`   // its halyard_gateway_ready is 1
	FirstFreshS    float64 `json:"first_fresh_s"`    // a presence pushed after the kill, on the follower's socket
	SocketsClosed  int     `json:"sockets_closed"`   // survivors' subscribers closed meanwhile
	SurvivorSocket int     `json:"survivor_sockets"` // subscribers held on the survivors
}

// clusterREST is the REST comparison, run in alternating legs.
type clusterREST struct {
	Node    string       `json:"node"` // the cluster node loaded
	Path    string       `json:"path"`
	Legs    int          `json:"legs"` // per side
	Conns   int          `json:"conns"`
	Cluster []restResult `json:"cluster"`
	Single  []restResult `json:"single"`
}

// socketMemory is one node's memory per idle subscriber.
type socketMemory struct {
	Conns         int     `json:"conns"`
	RSSPerConn    float64 `json:"rss_bytes_per_conn"`
	HeapPerConn   float64 `json:"heap_inuse_bytes_per_conn"`
	ServerSockets float64 `json:"server_socket_connections"`
}

// clusterSizes is the command line's share for the cluster scenario.
type clusterSizes struct {
	Users, SubsPerNode, Pushes, IngestEvents, IngestUsers, Conns int
	RESTLeg, Settle                                              time.Duration
	NATSBin                                                      string
}

// clusterRun holds the processes of one run; stop ends them all.
type clusterRun struct {
	sizes   clusterSizes
	bin     string
	root    string
	token   string
	out     io.Writer
	client  *http.Client
	nats    []*helperProc
	store   *helperProc
	sim     *helperProc
	simBase string
	simEnv  []string // the settings a node needs to log in to the simulator
	nodes   []*server
	names   []string
	example string // the user every subscriber follows and every push changes
}

// runCluster runs the cluster scenario: three NATS servers, `halyard
// store`, `halyard sim` and three Halyard nodes as separate processes on
// loopback, the way README's Cluster section runs them, then the four
// measurements. Every process is stopped before it returns.
func runCluster(ctx context.Context, bin string, sz clusterSizes, out io.Writer) (clusterResult, error) {
	res := clusterResult{Nodes: clusterNodes, Users: sz.Users}
	root, err := os.MkdirTemp("", "halyard-load-cluster-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(root)
	c := &clusterRun{sizes: sz, bin: bin, root: root, token: randomHex(16), out: out,
		client: &http.Client{Timeout: 10 * time.Second}}
	defer c.stop()
	if err := c.start(ctx, &res); err != nil {
		return res, err
	}
	fail := func(what string, err error) {
		res.Errors = append(res.Errors, what+": "+err.Error())
		fmt.Fprintf(out, "%-10s %s error: %v\n", "cluster", what, err)
	}
	holder, err := c.holder(ctx, 30*time.Second)
	if err != nil {
		return res, err
	}
	res.Holder = c.names[holder]
	followers := c.others(holder)
	fmt.Fprintf(out, "%-10s %d nodes ready %.1f s after exec; %s holds the shard\n", "cluster", clusterNodes, res.ReadyS, res.Holder)

	if ctx.Err() == nil {
		d, mem, err := c.delivery(ctx, holder)
		res.Delivery, res.Sockets = &d, mem
		res.DeliveryP50MS, res.DeliveryP99MS = d.Followers.P50, d.Followers.P99
		if err == nil && d.Missing > 0 {
			err = fmt.Errorf("%d of %d deliveries missing", d.Missing, d.Delivered+d.Missing)
		}
		if err != nil {
			fail("delivery", err)
		}
		fmt.Fprintf(out, "%-10s delivery: %d subscribers per node × %d pushes: followers p50 %.2f ms, p99 %.2f ms, max %.2f ms (goal p99 ≤ 50 ms); on the holder p50 %.2f ms, p99 %.2f ms\n",
			"cluster", d.SubscribersPerNode, d.Pushes, d.Followers.P50, d.Followers.P99, d.Followers.Max, d.HolderLocal.P50, d.HolderLocal.P99)
		for _, name := range c.names {
			m := mem[name]
			fmt.Fprintf(out, "%-10s idle sockets on %s: %.0f B RSS, %.0f B heap per connection (%d held)\n", "cluster", name, m.RSSPerConn, m.HeapPerConn, m.Conns)
		}
	}
	if ctx.Err() == nil {
		in, err := c.ingest(ctx, holder, followers[0])
		res.Ingest = &in
		if in.Seconds > 0 {
			res.IngestEventsPerS = round(float64(in.Applied)/in.Seconds, 0)
		}
		if err != nil {
			fail("ingest", err)
		}
		fmt.Fprintf(out, "%-10s ingest through the bus: %d of %d PRESENCE_UPDATEs applied by %s's hub in %.2f s: %.0f events/s (goal ≥ 100 000/s; %d batches); the holder's own hub had %d after %.2f s\n",
			"cluster", in.Applied, in.Events, in.Follower, in.Seconds, res.IngestEventsPerS, in.BusBatches, in.HolderEvents, in.HolderSeconds)
	}
	if ctx.Err() == nil {
		r, single, err := c.restVersusSingle(ctx, followers[0])
		res.Rest = &r
		if single.Conns > 0 {
			res.Sockets["single"] = single
		}
		res.RestRPS, res.SingleRestRPS = meanRPS(r.Cluster), meanRPS(r.Single)
		if res.SingleRestRPS > 0 {
			res.RestRatio = round(res.RestRPS/res.SingleRestRPS, 3)
		}
		if err != nil {
			fail("rest", err)
		}
		fmt.Fprintf(out, "%-10s REST %s: %.0f req/s on %s, %.0f req/s on a single node without NATS: ratio %.3f (goal ≥ 0.9; %d alternating legs each)\n",
			"cluster", r.Path, res.RestRPS, r.Node, res.SingleRestRPS, res.RestRatio, r.Legs)
		fmt.Fprintf(out, "%-10s idle sockets on the single node: %.0f B RSS, %.0f B heap per connection (%d held)\n",
			"cluster", single.RSSPerConn, single.HeapPerConn, single.Conns)
	}
	if ctx.Err() == nil {
		f, err := c.failover(ctx, holder)
		res.Failover, res.FailoverS = &f, f.FirstFreshS
		if err != nil {
			fail("failover", err)
		}
		fmt.Fprintf(out, "%-10s failover: %s killed (-9); %s took the lease after %.2f s, READY after %.2f s; first fresh presence on %s's socket after %.2f s (goal ≤ 15 s); %d of %d survivor sockets closed\n",
			"cluster", f.OldHolder, f.NewHolder, f.LeaseTakenS, f.HolderReadyS, f.Follower, f.FirstFreshS, f.SocketsClosed, f.SurvivorSocket)
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if len(res.Errors) > 0 {
		return res, errors.New(strings.Join(res.Errors, "; "))
	}
	return res, nil
}

// start runs NATS, the store, the simulator and the nodes, and waits
// until every node's /readyz is 200.
func (c *clusterRun) start(ctx context.Context, res *clusterResult) error {
	natsBin := c.sizes.NATSBin
	if natsBin == "" {
		fmt.Fprintln(c.out, "building nats-server (this module's dependency) …")
		var err error
		if natsBin, err = buildNATSServer(ctx, c.root); err != nil {
			return err
		}
		res.NATS = fmt.Sprintf("%d nats-server processes built from go.mod's github.com/nats-io/nats-server/v2", clusterNodes)
	} else {
		res.NATS = fmt.Sprintf("%d processes of %s", clusterNodes, natsBin)
	}
	var urls []string
	var err error
	if c.nats, urls, err = startNATSCluster(ctx, natsBin, c.root, clusterNodes); err != nil {
		return err
	}
	env := serverEnv(c.token)
	storeURI, match := keyValues("MONGODB_URI")
	c.store, err = startHelper(ctx, "halyard store", c.bin, []string{"store", "--addr", "127.0.0.1:0", "--data-dir", filepath.Join(c.root, "store")},
		env, c.root, match, time.Minute)
	if err != nil {
		return err
	}
	const botToken = "halyard-load-bot"
	discord, match := keyValues("DISCORD_API_URL", "DISCORD_GATEWAY_URL")
	c.sim, err = startHelper(ctx, "halyard sim", c.bin, []string{"sim", "--addr", "127.0.0.1:0", "--users", fmt.Sprint(c.sizes.Users), "--churn", "0"},
		append(env, "BOT_TOKEN="+botToken), c.root, match, time.Minute)
	if err != nil {
		return err
	}
	c.simBase = discord["DISCORD_API_URL"]
	c.simEnv = []string{"BOT_TOKEN=" + botToken, "DISCORD_API_URL=" + discord["DISCORD_API_URL"], "DISCORD_GATEWAY_URL=" + discord["DISCORD_GATEWAY_URL"]}
	tokenSecret := randomHex(32)
	t0 := time.Now()
	for i := range clusterNodes {
		name := fmt.Sprintf("node-%c", 'a'+i)
		dir := filepath.Join(c.root, name)
		if err := os.Mkdir(dir, 0o700); err != nil {
			return err
		}
		nodeEnv := append(slices.Clone(c.simEnv), "NATS_URL="+strings.Join(urls, ","), "NODE_NAME="+name,
			"MONGODB_URI="+storeURI["MONGODB_URI"], "TOKEN_SECRET="+tokenSecret)
		s, err := spawnServer(ctx, c.bin, dir, c.token, nil, nodeEnv, 2*time.Minute)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		c.nodes, c.names = append(c.nodes, s), append(c.names, name)
	}
	for i, s := range c.nodes {
		if err := s.waitReady(ctx, t0, 2*time.Minute); err != nil {
			return fmt.Errorf("%s: %w", c.names[i], err)
		}
	}
	res.ReadyS = round(time.Since(t0).Seconds(), 2)
	res.NodeList = c.names
	_, c.example, err = listUsers(ctx, c.nodes[0])
	return err
}

// stop ends every process the run started: the nodes at once (in
// parallel), then the simulator, the store and NATS.
func (c *clusterRun) stop() {
	var wg sync.WaitGroup
	for _, s := range c.nodes {
		wg.Go(s.Stop)
	}
	wg.Wait()
	c.sim.Stop()
	c.store.Stop()
	for _, n := range c.nats {
		wg.Go(n.Stop)
	}
	wg.Wait()
}

// others are the node indexes other than i.
func (c *clusterRun) others(i int) []int {
	var out []int
	for j := range c.nodes {
		if j != i {
			out = append(out, j)
		}
	}
	return out
}

// clusterStatus is GET /admin/v1/cluster.
type clusterStatus struct {
	Node  string `json:"node"`
	Nodes []struct {
		Name   string `json:"name"`
		Shards []int  `json:"shards"`
	} `json:"nodes"`
}

// holdsShard0 asks a node whether it holds shard 0 itself (its own entry
// in its cluster view is current; others' entries are heartbeats old).
func (c *clusterRun) holdsShard0(ctx context.Context, s *server) bool {
	code, body, err := call(ctx, c.client, "GET", s.Base+"/admin/v1/cluster", "Bearer "+c.token, "")
	if err != nil || code != http.StatusOK {
		return false
	}
	var st clusterStatus
	if json.Unmarshal([]byte(body), &st) != nil {
		return false
	}
	for _, n := range st.Nodes {
		if n.Name == st.Node {
			return slices.Contains(n.Shards, 0)
		}
	}
	return false
}

// holder finds the node holding the shard.
func (c *clusterRun) holder(ctx context.Context, bound time.Duration) (int, error) {
	deadline := time.Now().Add(bound)
	for time.Now().Before(deadline) {
		for i, s := range c.nodes {
			if c.holdsShard0(ctx, s) {
				return i, nil
			}
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return 0, fmt.Errorf("no node claims the shard in GET /admin/v1/cluster within %s", bound)
}

// push sends presence k (marked) for the example user to the simulator.
func (c *clusterRun) push(ctx context.Context, k int, start int64) error {
	body := fmt.Sprintf(`{"user":{"id":%q},"status":"online","client_status":{"desktop":"online"},"activities":[`+
		`{"type":4,"name":"Custom Status","id":"custom","state":"%s%d","created_at":%d}]}`, c.example, markPrefix, k, start)
	return post(ctx, c.client, c.simBase+"/admin/v1/demo/presence", c.token, body)
}

// meanRPS is the mean req/s over legs.
func meanRPS(legs []restResult) float64 {
	if len(legs) == 0 {
		return 0
	}
	var sum float64
	for _, l := range legs {
		sum += l.RPS
	}
	return round(sum/float64(len(legs)), 0)
}
