package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/halyardhq/halyard/discord/discordsim"
	"github.com/halyardhq/halyard/storage"
)

// testCluster is a cluster of real nodes (the production wiring) against
// a three-server in-process NATS cluster, one simulated Discord and one
// embedded store.
type testCluster struct {
	t       *testing.T
	sim     *discordsim.Sim
	store   *storage.Store
	nats    []*natsNode
	nodes   []*Main
	clients []client
	closed  map[int]bool // Main.Close runs once
}

// startTestCluster starts n nodes named node-0… (each given every NATS
// server, env on top of the test settings, and setup run before Run)
// and waits until each is ready. The nodes still open are closed when
// the test ends, before the simulator and the store.
func startTestCluster(t *testing.T, n int, simCfg discordsim.Config, env map[string]string, setup func(*Main)) *testCluster {
	t.Helper()
	servers := startNATSCluster(t, 3)
	var urls []string
	for _, s := range servers {
		urls = append(urls, s.url)
	}
	sim, st := clusterParts(t, simCfg)
	c := &testCluster{t: t, sim: sim, store: st, nats: servers, closed: map[int]bool{}}
	t.Cleanup(func() {
		for i := range c.nodes {
			c.stop(i)
		}
	})
	for i := range n {
		m := startClusterNodeWith(t, sim, st.URI(), strings.Join(urls, ","), fmt.Sprintf("node-%d", i), env, setup)
		c.nodes = append(c.nodes, m)
		c.clients = append(c.clients, client{t, m.URL()})
	}
	for i, cl := range c.clients {
		waitUntil(t, fmt.Sprintf("node %d ready", i), 2*time.Minute, func() bool {
			code, _ := cl.do("GET", "/readyz", "", nil)
			return code == 200
		})
	}
	return c
}

// stop closes node i (once) and returns Main.Close's error.
func (c *testCluster) stop(i int) error {
	if c.closed[i] {
		return nil
	}
	c.closed[i] = true
	return c.nodes[i].Close()
}

// holder returns the index of the node holding shard 0, as the first
// open node sees it (-1: none).
func (c *testCluster) holder() int {
	for i, m := range c.nodes {
		if c.closed[i] {
			continue
		}
		name := m.Cluster.LeaseHolders()[0]
		for j, o := range c.nodes {
			if !c.closed[j] && o.Cluster.Name() == name {
				return j
			}
		}
		return -1
	}
	return -1
}

// open returns the indexes of the nodes not stopped.
func (c *testCluster) open() []int {
	var out []int
	for i := range c.nodes {
		if !c.closed[i] {
			out = append(out, i)
		}
	}
	return out
}
