package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/halyardhq/halyard/core"
)

// startNATS runs one NATS server with JetStream on loopback.
func startNATS(tb testing.TB) string {
	tb.Helper()
	s, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, JetStream: true,
		StoreDir: filepath.Join(tb.TempDir(), "js"), NoLog: true, NoSigs: true})
	if err != nil {
		tb.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(20 * time.Second) {
		tb.Fatal("nats server not ready")
	}
	tb.Cleanup(s.Shutdown)
	return s.ClientURL()
}

// shardLog is a ShardController that opens no gateway (these tests drive
// the tee themselves) and records what the lease asked.
type shardLog struct {
	count  int // shards; 1 when zero
	mu     sync.Mutex
	open   map[int]bool
	opened int
}

func (s *shardLog) ShardCount() int { return max(1, s.count) }

func (s *shardLog) OpenShard(_ context.Context, id int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open == nil {
		s.open = map[int]bool{}
	}
	s.open[id] = true
	s.opened++
	return nil
}

func (s *shardLog) CloseShard(id int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.open, id)
	return nil
}

func (s *shardLog) isOpen(id int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.open[id]
}

func newNode(tb testing.TB, url, name string) (*Node, *core.Hub, *shardLog) {
	tb.Helper()
	return newShardedNode(tb, url, name, 1)
}

func newShardedNode(tb testing.TB, url, name string, shardCount int) (*Node, *core.Hub, *shardLog) {
	tb.Helper()
	return newStoredNode(tb, url, name, shardCount, nil)
}

// newStoredNode is newShardedNode with a store under the node's hub (nil:
// none).
func newStoredNode(tb testing.TB, url, name string, shardCount int, store core.HubStore) (*Node, *core.Hub, *shardLog) {
	tb.Helper()
	return newNodeWith(tb, url, name, shardCount, store, nil)
}

// newNodeWith is newStoredNode with setup run on the node and its hub
// before it opens.
func newNodeWith(tb testing.TB, url, name string, shardCount int, store core.HubStore, setup func(*Node, *core.Hub)) (*Node, *core.Hub, *shardLog) {
	tb.Helper()
	hub := core.NewHub(core.HubOptions{Store: store})
	if err := hub.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { hub.Close() })
	shards := &shardLog{count: shardCount}
	logger := slog.New(slog.DiscardHandler)
	if os.Getenv("HALYARD_TEST_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("node", name)
	}
	n := New(Config{URLs: url, Name: name, Hub: hub, Shards: shards, LeaseTTL: 1500 * time.Millisecond,
		Heartbeat: 500 * time.Millisecond, RecordsEvery: 200 * time.Millisecond, Logger: logger})
	if setup != nil {
		setup(n, hub)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := n.Open(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { n.Close() })
	return n, hub, shards
}

func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func member(id string, status core.Status) core.Member {
	raw := json.RawMessage(fmt.Sprintf(`{"id":%q,"username":"u%s"}`, id, id))
	return core.Member{User: core.DiscordUser{Raw: raw, ID: id, Username: "u" + id},
		Presence: presence(status, "game "+id), SetPresence: true}
}

func presence(status core.Status, activity string) *core.Presence {
	raw := json.RawMessage(fmt.Sprintf(`{"name":%q,"type":0}`, activity))
	return &core.Presence{Status: status, ClientStatus: &core.ClientStatus{Desktop: status},
		Activities: []core.Activity{{Raw: raw, Name: activity}}}
}

// sameHubs reports whether b holds every user of a with the same
// presence, profile and guilds (and no others).
func sameHubs(a, b *core.Hub) bool {
	if a.Count() != b.Count() {
		return false
	}
	for _, u := range a.All() {
		v, ok := b.Get(u.ID)
		if !ok || !u.Presence.Equal(v.Presence) || string(u.Discord.JSON()) != string(v.Discord.JSON()) ||
			fmt.Sprint(u.Guilds()) != fmt.Sprint(v.Guilds()) || u.Nick() != v.Nick() {
			return false
		}
	}
	return true
}

// TestHolderChangesReachFollowers: the lease holder's tee changes reach a
// node that was there from the start (through the bus) and one that joins
// later (through a snapshot, then the bus); both end equal to the holder,
// removals included, and are ready only once they hold its state.
func TestHolderChangesReachFollowers(t *testing.T) {
	url := startNATS(t)
	a, hubA, shardsA := newNode(t, url, "a")
	a.Start()
	waitFor(t, "a to take the shard", func() bool { return shardsA.isOpen(0) })
	b, hubB, _ := newNode(t, url, "b")
	b.Start()
	tee := a.Tee()
	for i := range 2000 {
		tee.UpsertMember("g1", member(fmt.Sprint(1000+i), core.StatusOnline))
	}
	tee.MarkSynced()
	waitFor(t, "b to equal a", func() bool { return sameHubs(hubA, hubB) })

	c, hubC, _ := newNode(t, url, "c") // joins after 2000 changes
	c.Start()
	for i := range 500 {
		tee.UpdatePresence(fmt.Sprint(1000+i), presence(core.StatusIdle, "later"))
	}
	tee.RemoveMember("g1", "1999")
	tee.PruneGuild("g1", func(id string) bool { return id != "1998" })
	waitFor(t, "c ready", func() bool { return len(c.Readiness()) == 0 })
	waitFor(t, "b and c to equal a", func() bool { return sameHubs(hubA, hubB) && sameHubs(hubA, hubC) })
	if _, ok := hubC.Get("1998"); ok {
		t.Fatal("a pruned member is still on c")
	}
	if !hubC.IsSynced() {
		t.Fatal("c is not marked synced")
	}
}

// TestGapResyncs: a follower that missed batches (its peer state is set
// back, as after messages lost) loads a snapshot and converges.
func TestGapResyncs(t *testing.T) {
	url := startNATS(t)
	a, hubA, shardsA := newNode(t, url, "a")
	a.Start()
	waitFor(t, "a to take the shard", func() bool { return shardsA.isOpen(0) })
	b, hubB, _ := newNode(t, url, "b")
	b.Start()
	tee := a.Tee()
	for i := range 300 {
		tee.UpsertMember("g1", member(fmt.Sprint(i+1), core.StatusOnline))
	}
	waitFor(t, "b to equal a", func() bool { return sameHubs(hubA, hubB) })
	b.mu.Lock()
	b.peers["a"].seq = 0 // the next batch looks like batches were lost
	b.mu.Unlock()
	hubB.RemoveMember("g1", "7") // and b's state drifted meanwhile
	before := b.Stats().Resyncs.Load()
	tee.UpdatePresence("1", presence(core.StatusDND, "after the gap"))
	waitFor(t, "b to resync and equal a", func() bool {
		return b.Stats().Resyncs.Load() > before && sameHubs(hubA, hubB)
	})
}

// TestLeaseFailover: one node holds the shard; when it closes (its lease
// freed) or is cut off (its lease expires), the other takes it, and the
// cut-off node closes its shard.
func TestLeaseFailover(t *testing.T) {
	url := startNATS(t)
	a, _, shardsA := newNode(t, url, "a")
	b, _, shardsB := newNode(t, url, "b")
	a.Start()
	waitFor(t, "a to take the shard", func() bool { return shardsA.isOpen(0) })
	b.Start()
	waitFor(t, "b to see a as the holder", func() bool { return b.LeaseHolders()[0] == "a" })
	if shardsB.isOpen(0) {
		t.Fatal("both nodes opened the shard")
	}
	a.nc.Close() // cut off: a cannot renew
	waitFor(t, "a to close its shard", func() bool { return !shardsA.isOpen(0) })
	waitFor(t, "b to take the shard", func() bool { return shardsB.isOpen(0) })
	if len(a.Readiness()) == 0 {
		t.Fatal("a cut-off node says it is ready")
	}
}

// TestTwoShardsSpreadAndFailOver: two nodes share two shards (the first
// node took both and gives one back); when one node goes, the other ends
// with both, each opened exactly once at a time.
func TestTwoShardsSpreadAndFailOver(t *testing.T) {
	url := startNATS(t)
	a, _, shardsA := newShardedNode(t, url, "a", 2)
	a.Start()
	waitFor(t, "a to take both shards", func() bool { return shardsA.isOpen(0) && shardsA.isOpen(1) })
	b, _, shardsB := newShardedNode(t, url, "b", 2)
	b.Start()
	waitFor(t, "one shard each", func() bool {
		return len(a.heldShards()) == 1 && len(b.heldShards()) == 1 &&
			shardsA.isOpen(a.heldShards()[0]) && shardsB.isOpen(b.heldShards()[0])
	})
	for s := range 2 {
		if shardsA.isOpen(s) && shardsB.isOpen(s) {
			t.Fatalf("shard %d open on both nodes", s)
		}
	}
	a.Close()
	waitFor(t, "b to hold both shards", func() bool { return shardsB.isOpen(0) && shardsB.isOpen(1) })
	if shardsA.isOpen(0) || shardsA.isOpen(1) {
		t.Fatal("the closed node kept a shard open")
	}
}

// BenchmarkBusIngest measures how many presence changes per second a
// follower's hub absorbs from the bus: the holder's tee publishes b.N
// updates over 1000 users, the clock stops when the follower applied them
// all.
func BenchmarkBusIngest(b *testing.B) {
	url := startNATS(b)
	a, _, shardsA := newNode(b, url, "a")
	a.Start()
	waitFor(b, "a to take the shard", func() bool { return shardsA.isOpen(0) })
	f, hubF, _ := newNode(b, url, "f")
	f.Start()
	tee := a.Tee()
	const users = 1000
	for i := range users {
		tee.UpsertMember("g1", member(fmt.Sprint(i+1), core.StatusOnline))
	}
	waitFor(b, "f to hold every user", func() bool { return hubF.Count() == users })
	pres := []*core.Presence{presence(core.StatusOnline, "x"), presence(core.StatusIdle, "y")}
	start := f.Stats().OpsIn.Load()
	b.ResetTimer()
	for i := range b.N {
		tee.UpdatePresence(fmt.Sprint(i%users+1), pres[(i/users)%2])
	}
	for f.Stats().OpsIn.Load()-start < uint64(b.N) {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "presences/s")
}
