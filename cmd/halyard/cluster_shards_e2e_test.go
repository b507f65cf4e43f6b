package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/halyardhq/halyard/discord/discordsim"
)

// TestClusterTwoShardsTwoNodes: with SHARD_COUNT=2 the two shards' leases
// spread over two nodes, each opening only the gateway session of the
// shard it holds (real sharded bots against a sharded simulator); an
// opt-out and a history opt-in made through one node's bot apply on both; when one node goes,
// the survivor takes the other shard too, opens its session and serves
// presence pushed through it.
func TestClusterTwoShardsTwoNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a NATS cluster and two nodes")
	}
	sim, st := clusterParts(t, discordsim.Config{Seed: 5, Members: 400, Guilds: 4, Shards: 2})
	servers := startNATSCluster(t, 3)
	env := map[string]string{"SHARD_COUNT": "2"}
	nodes := []*Main{
		startClusterNodeEnv(t, sim, st.URI(), servers[0].url, "node-a", env),
		startClusterNodeEnv(t, sim, st.URI(), servers[1].url, "node-b", env),
	}
	closed := map[int]bool{} // Main.Close runs once
	t.Cleanup(func() {
		for i, m := range nodes {
			if !closed[i] {
				m.Close()
			}
		}
	})
	held := func(m *Main) []int { s := m.bot().OpenShards(); slices.Sort(s); return s }
	waitUntil(t, "each node holding one shard", 2*time.Minute, func() bool {
		a, b := held(nodes[0]), held(nodes[1])
		return len(a) == 1 && len(b) == 1 && a[0] != b[0]
	})
	for i, m := range nodes {
		c := client{t, m.URL()}
		var last []byte
		waitUntil(t, fmt.Sprintf("node %d ready", i), 20*time.Second, func() bool {
			code, body := c.do("GET", "/readyz", "", nil)
			last = body
			return code == 200
		}, func() string { return "last /readyz: " + string(last) })
	}

	// .optout, answered by the shard-0 holder (DMs arrive on shard 0),
	// hides the user on both nodes, sockets and REST alike; .optin shows
	// them again on both.
	hidden := sim.MemberIDs(sim.GuildIDs()[0])[3]
	optCmd := func(cmd, wantReply string, wantCode int) {
		t.Helper()
		before := len(sim.DMMessages(hidden))
		if _, err := sim.SendDM(hidden, cmd); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "the answer to "+cmd, 30*time.Second, func() bool {
			msgs := sim.DMMessages(hidden)
			return len(msgs) > before && strings.HasPrefix(msgs[len(msgs)-1].Content, wantReply)
		})
		for i, m := range nodes {
			c := client{t, m.URL()}
			waitUntil(t, fmt.Sprintf("node %d answering %d for the user after %s", i, wantCode, cmd), 30*time.Second, func() bool {
				code, _ := c.do("GET", "/v1/users/"+hidden, "", nil)
				return code == wantCode
			})
		}
	}
	optCmd(".optout", "You have opted out.", 404)
	optCmd(".optin", "", 200)

	// Presence history: 404 history_disabled on both nodes until the user
	// turns it on through the shard-0 holder's bot, then answered by both.
	historyCode := func(m *Main) (int, string) {
		code, body := (client{t, m.URL()}).do("GET", "/v1/users/"+hidden+"/history", "", nil)
		return code, string(body)
	}
	for i, m := range nodes {
		if code, body := historyCode(m); code != 404 || !strings.Contains(body, "history_disabled") {
			t.Errorf("node %d: history of a user who did not turn it on: %d %s", i, code, body)
		}
	}
	optCmd(".history on", "Presence history is **on**", 200)
	for i, m := range nodes {
		waitUntil(t, fmt.Sprintf("node %d answering the user's history", i), 30*time.Second, func() bool {
			code, _ := historyCode(m)
			return code == 200
		})
	}

	nodes[0].Close()
	closed[0] = true
	survivor := nodes[1]
	waitUntil(t, "the survivor holding both shards", time.Minute, func() bool {
		return slices.Equal(held(survivor), []int{0, 1})
	})
	// Presence pushed through the simulator now reaches the survivor from
	// each shard's session: one member per guild, so every guild's shard.
	c := client{t, survivor.URL()}
	for gi, g := range sim.GuildIDs() {
		ids := sim.MemberIDs(g)
		if len(ids) == 0 {
			continue
		}
		id := ids[len(ids)-1]
		state := fmt.Sprintf("after failover, guild %d", gi)
		if err := sim.UpdatePresence([]byte(fmt.Sprintf(`{"user":{"id":%q},"status":"dnd","client_status":{"desktop":"dnd"},`+
			`"activities":[{"type":4,"name":"Custom Status","id":"custom","state":%q,"created_at":1}]}`, id, state))); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "the survivor serving "+state, time.Minute, func() bool {
			u, ok := getUser(c, id)
			_, body := c.do("GET", "/v1/users/"+id, "", nil)
			return ok && u.DiscordStatus == "dnd" && strings.Contains(string(body), state)
		})
	}
}
