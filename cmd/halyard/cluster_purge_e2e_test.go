package main

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/halyardhq/halyard/discord/discordsim"
)

// TestClusterPurge: an admin purge made on one node of three is seen on
// every node — the KV empty and the record fresh everywhere, not only on
// the node that purged — and a KV written afterwards on a third node
// reaches every node (the purge keeps the KV's version growing, so no node
// takes the new write for an old one); a backup taken before the purge,
// restored into one node, is served by every node.
func TestClusterPurge(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three nodes")
	}
	tc := startTestCluster(t, 3, discordsim.Config{Seed: 11, Members: 300}, nil, nil)
	nodes, clients := tc.nodes, tc.clients
	user := tc.sim.MemberIDs(tc.sim.GuildIDs()[0])[0]

	token, err := nodes[0].Tokens.Issue(t.Context(), user)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "node 0 to take the KV write", 30*time.Second, func() bool {
		code, _ := clients[0].doType("PUT", "/v1/users/@me/kv/greeting", token, "text/plain", "hello")
		return code == 200 || code == 204
	})
	for i := range nodes {
		waitUntil(t, fmt.Sprintf("node %d to serve the KV", i), 30*time.Second, func() bool {
			return kvOf(t, clients[i], user)["greeting"] == "hello"
		})
	}
	file := filepath.Join(t.TempDir(), "before-purge.jsonl.gz")
	if code, out, errs := runCLI(t, "backup", "--url", clients[0].base, "--out", file); code != 0 {
		t.Fatalf("backup: %d %q %q", code, out, errs)
	}
	before, ok := nodes[2].Hub.Record(user)
	if !ok {
		t.Fatal("node 2 holds no record of a monitored member")
	}

	// Purged on node 1.
	if code, body := clients[1].do("DELETE", "/admin/v1/users/"+user, e2eAdmin, nil); code != 200 {
		t.Fatalf("purge on node 1: %d %s", code, body)
	}
	purged, _ := nodes[1].Hub.Record(user)
	if !purged.MonitoringSince.After(before.MonitoringSince) {
		t.Fatalf("node 1's record after the purge: monitoring since %v, before %v", purged.MonitoringSince, before.MonitoringSince)
	}
	for i := range nodes {
		waitUntil(t, fmt.Sprintf("node %d to forget the KV and the record", i), 30*time.Second, func() bool {
			kv := kvOf(t, clients[i], user)
			rec, _ := nodes[i].Hub.Record(user)
			return kv != nil && len(kv) == 0 && rec.MonitoringSince.Equal(purged.MonitoringSince)
		})
	}

	// A new token and a write on node 2 reach every node.
	token, err = nodes[2].Tokens.Issue(t.Context(), user)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "node 2 to take a write after the purge", 30*time.Second, func() bool {
		code, _ := clients[2].doType("PUT", "/v1/users/@me/kv/after", token, "text/plain", "yes")
		return code == 200 || code == 204
	})
	for i := range nodes {
		waitUntil(t, fmt.Sprintf("node %d to serve the write after the purge", i), 30*time.Second, func() bool {
			kv := kvOf(t, clients[i], user)
			return len(kv) == 1 && kv["after"] == "yes"
		})
	}

	// The backup restored into node 0 replaces the map on every node.
	if code, out, errs := runCLI(t, "restore", "--url", clients[0].base, file); code != 0 {
		t.Fatalf("restore: %d %q %q", code, out, errs)
	}
	for i := range nodes {
		waitUntil(t, fmt.Sprintf("node %d to serve the restored KV", i), 30*time.Second, func() bool {
			kv := kvOf(t, clients[i], user)
			return len(kv) == 1 && kv["greeting"] == "hello"
		})
	}
}
