package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"slices"
	"testing"
	"time"
)

// TestClusterScenario runs the cluster scenario at a tiny size: three
// nats-server processes, halyard store, halyard sim and three nodes, then
// a single node for the comparison. It checks that every figure is in the
// JSON under "cluster" and that the counts add up (every push reached
// every subscriber, the follower applied the whole flood, a survivor took
// the shard and no survivor's socket closed). It asserts no speed.
// HALYARD_LOAD_SERVER_BIN skips the build.
func TestClusterScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts nine processes")
	}
	const subs, pushes, flood = 20, 5, 3000
	cfg, err := parseFlags([]string{"--scenarios", "cluster", "--json", "--server-bin", os.Getenv("HALYARD_LOAD_SERVER_BIN"),
		"--demo-users", "60", "--ingest-users", "60", "--cluster-subs", "20", "--cluster-pushes", "5", "--cluster-ingest-events", "3000",
		"--duration", "400ms", "--conns", "4", "--settle", "200ms"}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var out bytes.Buffer
	rep, err := run(ctx, cfg, &out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	if rep.StartMS != 0 || len(rep.RestRPS) != 0 {
		t.Errorf("only cluster was asked for, yet the demo server ran (start_ms %v, rest_rps %v)", rep.StartMS, rep.RestRPS)
	}
	b, _ := json.Marshal(rep)
	var got struct {
		Cluster map[string]any `json:"cluster"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"delivery_p50_ms", "delivery_p99_ms", "ingest_events_per_s", "failover_s", "rest_rps", "single_rest_rps", "rest_ratio", "ready_s"} {
		if v, ok := got.Cluster[key].(float64); !ok || v <= 0 {
			t.Errorf("cluster.%s = %v, want a positive number", key, got.Cluster[key])
		}
	}
	c := rep.Cluster
	if c.Nodes != 3 || len(c.NodeList) != 3 || !slices.Contains(c.NodeList, c.Holder) {
		t.Fatalf("nodes %d %v, holder %q", c.Nodes, c.NodeList, c.Holder)
	}
	d := c.Delivery
	if d.Delivered != 3*subs*pushes || d.Missing != 0 || d.Followers.N != 2*subs*pushes || d.HolderLocal.N != subs*pushes {
		t.Errorf("delivery: %+v; want %d delivered, %d of them on the followers", d, 3*subs*pushes, 2*subs*pushes)
	}
	if p := d.Followers; !(p.P50 <= p.P99 && p.P99 <= p.Max) {
		t.Errorf("delivery percentiles out of order: %+v", p)
	}
	if in := c.Ingest; in.Applied != flood || in.HolderEvents < flood || in.HolderSeconds <= 0 || in.BusBatches < 1 || in.Follower == c.Holder {
		t.Errorf("ingest: %+v; want the whole flood of %d applied by a follower", in, flood)
	}
	f := c.Failover
	if f.OldHolder != c.Holder || f.NewHolder == f.OldHolder || !slices.Contains(c.NodeList, f.NewHolder) ||
		f.Follower == f.NewHolder || f.Follower == f.OldHolder || !slices.Contains(c.NodeList, f.Follower) {
		t.Errorf("failover: %+v (holder was %s)", f, c.Holder)
	}
	if f.LeaseTakenS <= 0 || f.HolderReadyS <= 0 || f.FirstFreshS <= 0 || f.SurvivorSocket != 2*subs || f.SocketsClosed != 0 {
		t.Errorf("failover: %+v; want every step timed, %d survivor sockets and none closed", f, 2*subs)
	}
	r := c.Rest
	if len(r.Cluster) != r.Legs || len(r.Single) != r.Legs || r.Node == c.Holder {
		t.Errorf("rest: %d and %d legs of %d, on %s (holder %s)", len(r.Cluster), len(r.Single), r.Legs, r.Node, c.Holder)
	}
	for _, name := range append(slices.Clone(c.NodeList), "single") {
		if m := c.Sockets[name]; m.Conns != subs || m.ServerSockets < subs {
			t.Errorf("sockets on %s: %+v, want %d held and counted by the server", name, m, subs)
		}
	}
}
