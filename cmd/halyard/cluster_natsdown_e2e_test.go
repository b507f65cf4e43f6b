package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/halyardhq/halyard/discord/discordsim"
)

// TestClusterNodeStartsWithNATSDown: a node whose NATS servers do not
// answer at start still starts, serves, and answers /readyz 503 saying
// why; once NATS answers it joins (takes the shard, opens its gateway
// session) and is ready, serving presence pushed through the simulator.
func TestClusterNodeStartsWithNATSDown(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node and, later, NATS")
	}
	sim, st := clusterParts(t, discordsim.Config{Seed: 9, Members: 50})
	srv := &natsNode{t: t, opts: &natsserver.Options{ServerName: "late", Host: "127.0.0.1", Port: freePort(t),
		JetStream: true, StoreDir: filepath.Join(t.TempDir(), "js"), NoLog: true, NoSigs: true}}
	url := fmt.Sprintf("nats://127.0.0.1:%d", srv.opts.Port)
	t.Cleanup(func() { // after the node's Close
		if srv.srv != nil {
			srv.shutdown()
		}
	})
	m := startClusterNode(t, sim, st.URI(), url, "node-late")
	t.Cleanup(func() { m.Close() })
	c := client{t, m.URL()}
	code, body := c.do("GET", "/readyz", "", nil)
	if code != 503 || !strings.Contains(string(body), "NATS") {
		t.Fatalf("/readyz with NATS down: %d %s", code, body)
	}
	if code, _ := c.do("GET", "/healthz", "", nil); code != 200 {
		t.Fatalf("/healthz with NATS down: %d", code)
	}

	srv.start()
	var last []byte
	waitUntil(t, "the node to join and be ready", time.Minute, func() bool {
		code, body := c.do("GET", "/readyz", "", nil)
		last = body
		return code == 200
	}, func() string { return "last /readyz: " + string(last) })
	if shards := m.bot().OpenShards(); !slices.Equal(shards, []int{0}) {
		t.Fatalf("open shards after joining: %v", shards)
	}
	id := sim.MemberIDs(sim.GuildIDs()[0])[1]
	if err := sim.UpdatePresence([]byte(fmt.Sprintf(`{"user":{"id":%q},"status":"dnd","activities":[{"name":"late-mark","type":0}]}`, id))); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the node to serve a presence pushed after it joined", time.Minute, func() bool {
		_, body := c.do("GET", "/v1/users/"+id, "", nil)
		return strings.Contains(string(body), "late-mark")
	})
}
