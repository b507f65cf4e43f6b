package main

import (
	"fmt"
	"testing"

	"github.com/halyardhq/halyard/discord/discordsim"

	"strings"
	"time"
)

// TestClusterPartitionedHolder cuts the shard's holder off from NATS (its
// one NATS server stops): it closes its gateway session, answers /readyz
// 503 but keeps serving; another node takes the shard once the lease
// expires; changes and a KV write happen meanwhile; once its server is
// back the node converges. A DM command sent once is then answered once.
func TestClusterPartitionedHolder(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three nodes")
	}
	servers := startNATSCluster(t, 3)
	sim, st := clusterParts(t, discordsim.Config{Seed: 11, Members: 1000})
	var nodes []*Main
	defer func() {
		for _, m := range nodes {
			m.Close()
		}
	}()
	for i := range 3 { // each node reaches NATS through its own server only
		nodes = append(nodes, startClusterNode(t, sim, st.URI(), servers[i].url, fmt.Sprintf("node-%d", i)))
	}
	clients := make([]client, 3)
	for i, m := range nodes {
		clients[i] = client{t, m.URL()}
	}
	for i, c := range clients {
		waitUntil(t, fmt.Sprintf("node %d ready", i), 2*time.Minute, func() bool {
			code, _ := c.do("GET", "/readyz", "", nil)
			return code == 200
		})
	}
	ids := sim.MemberIDs(sim.GuildIDs()[0])
	holder := nodes[0].Cluster.LeaseHolders()[0]
	h := -1
	for i, m := range nodes {
		if m.Cluster.Name() == holder {
			h = i
		}
	}
	if h < 0 {
		t.Fatalf("no node holds the shard: %q", holder)
	}
	other := (h + 1) % 3

	servers[h].shutdown()
	waitUntil(t, "the cut-off holder to close its session and answer 503", time.Minute, func() bool {
		code, _ := clients[h].do("GET", "/readyz", "", nil)
		return code == 503 && len(nodes[h].bot().OpenShards()) == 0 // its gateway session closed
	})
	if code, _ := clients[h].do("GET", "/v1/users/"+ids[0], "", nil); code != 200 {
		t.Fatalf("the cut-off node stopped serving: %d", code)
	}
	waitUntil(t, "another node to take the shard", time.Minute, func() bool {
		nh := nodes[other].Cluster.LeaseHolders()[0]
		return nh != "" && nh != holder
	})
	sim.Churn(3000)
	user := ids[1]
	token, err := nodes[other].Tokens.Issue(t.Context(), user)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "a KV write on a connected node", 30*time.Second, func() bool {
		code, _ := clients[other].doType("PUT", "/v1/users/@me/kv/while", token, "text/plain", "cut-off")
		return code == 200 || code == 204
	})

	servers[h].start()
	waitUntil(t, "the healed node ready again", 2*time.Minute, func() bool {
		code, _ := clients[h].do("GET", "/readyz", "", nil)
		return code == 200
	})
	assertServesTruth(t, "the healed node", clients[h], sim, ids)
	waitUntil(t, "the healed node to serve the KV written meanwhile", 30*time.Second, func() bool {
		return kvOf(t, clients[h], user)["while"] == "cut-off"
	})
	waitUntil(t, "the healed node to accept the token issued meanwhile", 30*time.Second, func() bool {
		code, _ := clients[h].doType("PUT", "/v1/users/@me/kv/after", token, "text/plain", "healed")
		return code == 200 || code == 204
	})

	// One DM command, one answer: only the holder's session gets it. A
	// second command is answered after the first, so a duplicate answer
	// of the first would be there by then.
	dmUser := ids[2]
	if _, err := sim.SendDM(dmUser, ".kv"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the answer to the DM", 30*time.Second, func() bool { return len(sim.DMMessages(dmUser)) >= 1 })
	if _, err := sim.SendDM(dmUser, ".get nothing"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the answer to the second DM", 30*time.Second, func() bool { return len(sim.DMMessages(dmUser)) >= 2 })
	if got := sim.DMMessages(dmUser); len(got) != 2 {
		var contents []string
		for _, m := range got {
			contents = append(contents, m.Content)
		}
		t.Fatalf("two DM commands got %d answers: %s", len(got), strings.Join(contents, " | "))
	}
}
