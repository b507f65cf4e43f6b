package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// crossRun records marked presences as subscribers on several nodes read
// them: latency per node, and when each node first saw any.
type crossRun struct {
	// base is the mark of push 0: runs on the same user number their
	// marks apart, so a frame repeating an older run's state is not
	// taken for a fresh one.
	base     int
	mu       sync.Mutex
	pushedAt []time.Time // by push number, set before the POST
	got      []atomic.Int64
	lat      []latencies  // by node index
	first    []time.Time  // by node index: the first marked frame
	closing  atomic.Bool  // the tool is closing the subscribers itself
	closed   atomic.Int64 // subscribers the server closed before that
}

func newCrossRun(base, nodes, pushes int) *crossRun {
	return &crossRun{base: base, pushedAt: make([]time.Time, pushes), got: make([]atomic.Int64, pushes),
		lat: make([]latencies, nodes), first: make([]time.Time, nodes)}
}

// receive is a subscriber's reader on node i.
func (r *crossRun) receive(i int, c *wsConn) {
	for {
		m, err := c.readMessage()
		if err != nil {
			if !r.closing.Load() {
				r.closed.Add(1)
			}
			return
		}
		at := time.Now()
		k, ok := markOf(m)
		if k -= r.base; !ok || k < 0 {
			continue
		}
		r.mu.Lock()
		if k < len(r.pushedAt) && !r.pushedAt[k].IsZero() {
			r.lat[i] = append(r.lat[i], at.Sub(r.pushedAt[k]))
			r.got[k].Add(1)
			if r.first[i].IsZero() {
				r.first[i] = at
			}
		}
		r.mu.Unlock()
	}
}

// stamp records that push k is about to be sent.
func (r *crossRun) stamp(k int) {
	r.mu.Lock()
	r.pushedAt[k] = time.Now()
	r.mu.Unlock()
}

// subscribeAll opens n Lanyard subscribers of the example user on each
// of the given nodes, their readers recording into r.
func (c *clusterRun) subscribeAll(ctx context.Context, nodes []int, n int, r *crossRun, subs *subscribers) (map[int]int, error) {
	held := map[int]int{}
	for _, i := range nodes {
		h, err := connectDialects(ctx, c.nodes[i].Addr, n, i, []string{"lanyard"}, []string{c.example}, false, subs,
			func(ws *wsConn) { go r.receive(i, ws) })
		held[i] = h
		if err != nil {
			return held, fmt.Errorf("%s: %d of %d subscribers: %w", c.names[i], h, n, err)
		}
	}
	return held, nil
}

// delivery subscribes SubsPerNode Lanyard sockets on every node, reads
// each node's memory per idle socket, then pushes presences through the
// simulator (to the holder's gateway session) and times their receipt.
func (c *clusterRun) delivery(ctx context.Context, holder int) (crossDelivery, map[string]socketMemory, error) {
	n, pushes := c.sizes.SubsPerNode, c.sizes.Pushes
	res := crossDelivery{SubscribersPerNode: n, Pushes: pushes}
	mem := map[string]socketMemory{}
	before := make([]metrics, len(c.nodes))
	for i, s := range c.nodes {
		m, err := scrape(c.client, s.Base)
		if err != nil {
			return res, mem, err
		}
		before[i] = m
	}
	r := newCrossRun(0, len(c.nodes), pushes)
	subs := newSubscribers()
	defer func() { r.closing.Store(true); subs.closeAll() }()
	held, err := c.subscribeAll(ctx, c.others(-1), n, r, subs)
	if err != nil {
		return res, mem, err
	}
	fmt.Fprintf(progress, "cluster: %d subscribers per node connected; settling %s\n", n, c.sizes.Settle)
	select {
	case <-ctx.Done():
		return res, mem, ctx.Err()
	case <-time.After(c.sizes.Settle):
	}
	for i, s := range c.nodes {
		after, err := scrape(c.client, s.Base)
		if err != nil {
			return res, mem, err
		}
		mem[c.names[i]] = memoryPerConn(before[i], after, held[i])
	}
	total := int64(0)
	for _, h := range held {
		total += int64(h)
	}
	start := time.Now().UnixMilli()
	for k := range pushes {
		if ctx.Err() != nil {
			break
		}
		r.stamp(k)
		if err := c.push(ctx, r.base+k, start); err != nil {
			return res, mem, err
		}
		deadline := time.Now().Add(10 * time.Second)
		for r.got[k].Load() < total && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond) // let the nodes settle between pushes, as ws-fanout does
	}
	r.mu.Lock()
	var followers latencies
	for i, l := range r.lat {
		res.Delivered += len(l)
		if i == holder {
			res.HolderLocal = l.summarize()
		} else {
			followers = append(followers, l...)
		}
	}
	r.mu.Unlock()
	res.Followers = followers.summarize()
	res.Missing = int(total)*pushes - res.Delivered
	return res, mem, ctx.Err()
}

// memoryPerConn is the growth of a node's memory between two scrapes,
// per subscriber held.
func memoryPerConn(before, after metrics, held int) socketMemory {
	m := socketMemory{Conns: held, ServerSockets: after["halyard_socket_connections"]}
	if held > 0 {
		m.RSSPerConn = round((after["process_resident_memory_bytes"]-before["process_resident_memory_bytes"])/float64(held), 0)
		m.HeapPerConn = round((after["go_memstats_heap_inuse_bytes"]-before["go_memstats_heap_inuse_bytes"])/float64(held), 0)
	}
	return m
}

// ingest floods PRESENCE_UPDATEs through the simulator to the holder and
// times how fast the follower's hub applies them from the bus
// (halyard_cluster_changes_applied_total), from the flood request until
// it has grown by the flood or stopped growing for 5 s.
func (c *clusterRun) ingest(ctx context.Context, holder, follower int) (busIngest, error) {
	users := min(c.sizes.IngestUsers, c.sizes.Users)
	res := busIngest{Events: c.sizes.IngestEvents, Users: users, Follower: c.names[follower]}
	fb := c.nodes[follower].Base
	before, err := scrape(c.client, fb)
	if err != nil {
		return res, err
	}
	holderBefore, err := scrape(c.client, c.nodes[holder].Base)
	if err != nil {
		return res, err
	}
	t0 := time.Now()
	if err := post(ctx, c.client, c.simBase+"/admin/v1/demo/flood", c.token, fmt.Sprintf(`{"events":%d,"users":%d}`, res.Events, users)); err != nil {
		return res, err
	}
	// The holder is read in the same loop: when its own hub had the
	// whole flood says whether the gateway or the bus set the pace.
	const applied, events = "halyard_cluster_changes_applied_total", "halyard_hub_events_total"
	base, holderBase := before[applied], holderBefore[events]
	last, lastAt := base, t0
	holderLast, holderAt := holderBase, t0
	var after metrics
	for ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
		m, err := scrape(c.client, fb)
		if err != nil {
			return res, err
		}
		now := time.Now()
		after = m
		if v := m[applied]; v > last {
			last, lastAt = v, now
		}
		if holderLast-holderBase < float64(res.Events) {
			if hm, err := scrape(c.client, c.nodes[holder].Base); err == nil && hm[events] > holderLast {
				holderLast, holderAt = hm[events], time.Now()
			}
		}
		if last-base >= float64(res.Events) || now.Sub(lastAt) > 5*time.Second {
			break
		}
	}
	res.Applied = int64(last - base)
	res.Seconds = round(lastAt.Sub(t0).Seconds(), 3)
	res.BusBatches = int64(after["halyard_cluster_bus_messages_in_total"] - before["halyard_cluster_bus_messages_in_total"])
	res.HolderEvents = int64(holderLast - holderBase)
	res.HolderSeconds = round(holderAt.Sub(t0).Seconds(), 3)
	if res.Applied == 0 {
		return res, errors.New("the follower applied no change of the flood")
	}
	return res, ctx.Err()
}

// restVersusSingle starts a single node without NATS (real mode, its own
// embedded store, the same simulator), reads its memory per idle socket
// as delivery did on the cluster's nodes, then loads the Lanyard GET on
// the cluster node and on the single node in alternating legs (cluster,
// single, cluster, single): the machine's load drifts, and alternating
// spreads the drift over both sides.
func (c *clusterRun) restVersusSingle(ctx context.Context, node int) (clusterREST, socketMemory, error) {
	path := "/v1/users/" + c.example
	res := clusterREST{Node: c.names[node], Path: path, Legs: 2, Conns: c.sizes.Conns}
	var mem socketMemory
	dir := filepath.Join(c.root, "single")
	if err := os.Mkdir(dir, 0o700); err != nil {
		return res, mem, err
	}
	single, err := spawnServer(ctx, c.bin, dir, c.token, nil, c.simEnv, 2*time.Minute)
	if err == nil {
		defer single.Stop()
		err = single.waitReady(ctx, single.Exec, 2*time.Minute)
	}
	if err != nil {
		return res, mem, fmt.Errorf("the single node: %w", err)
	}
	if mem, err = c.singleSockets(ctx, single); err != nil {
		return res, mem, fmt.Errorf("the single node's sockets: %w", err)
	}
	for range res.Legs {
		for _, side := range []struct {
			addr string
			into *[]restResult
		}{{c.nodes[node].Addr, &res.Cluster}, {single.Addr, &res.Single}} {
			if ctx.Err() != nil {
				return res, mem, ctx.Err()
			}
			r, err := loadGET(ctx, side.addr, path, c.sizes.Conns, c.sizes.RESTLeg)
			if err == nil && r.Errors > 0 {
				err = fmt.Errorf("%d answers were not 200", r.Errors)
			}
			if err != nil {
				return res, mem, err
			}
			*side.into = append(*side.into, r)
		}
	}
	return res, mem, nil
}

// singleSockets opens SubsPerNode idle Lanyard subscribers on the single
// node, as delivery does on each cluster node, and reads the memory they
// took.
func (c *clusterRun) singleSockets(ctx context.Context, single *server) (socketMemory, error) {
	before, err := scrape(c.client, single.Base)
	if err != nil {
		return socketMemory{}, err
	}
	subs := newSubscribers()
	defer subs.closeAll()
	held, err := connectDialects(ctx, single.Addr, c.sizes.SubsPerNode, len(c.nodes), []string{"lanyard"}, []string{c.example}, false, subs, nil)
	if err != nil {
		return socketMemory{Conns: held}, err
	}
	select {
	case <-ctx.Done():
		return socketMemory{}, ctx.Err()
	case <-time.After(c.sizes.Settle):
	}
	after, err := scrape(c.client, single.Base)
	if err != nil {
		return socketMemory{}, err
	}
	return memoryPerConn(before, after, held), nil
}
