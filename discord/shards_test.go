package discord

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/diamondburned/arikawa/v3/gateway"
	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/discord/discordsim"
)

// shardSeed spreads 4 simulated guilds over 2 shards: guilds 0 and 3 on
// shard 0, guilds 1 and 2 on shard 1 (guild ids depend on the seed and
// the guild count only; the tests check the split).
const shardSeed = 11

// guildsByShard splits the simulator's guilds by shard among n.
func guildsByShard(t *testing.T, sim *discordsim.Sim, n int) [][]string {
	t.Helper()
	out := make([][]string, n)
	for _, g := range sim.GuildIDs() {
		i := discordsim.GuildShard(g, n)
		out[i] = append(out[i], g)
	}
	for i, gs := range out {
		if len(gs) == 0 {
			t.Fatalf("seed %d leaves shard %d without a guild: %v", shardSeed, i, out)
		}
	}
	return out
}

// addMember adds a new user to one guild only and returns their id.
func addMember(t *testing.T, sim *discordsim.Sim, guildID, userID string) string {
	t.Helper()
	if err := sim.AddMember(guildID, json.RawMessage(`{"user":{"id":"`+userID+`","username":"u`+userID+`","discriminator":"0","avatar":null}}`)); err != nil {
		t.Fatal(err)
	}
	return userID
}

func setStatus(t *testing.T, sim *discordsim.Sim, userID, status string) {
	t.Helper()
	if err := sim.UpdatePresence(json.RawMessage(`{"user":{"id":"` + userID + `"},"status":"` + status + `","activities":[]}`)); err != nil {
		t.Fatal(err)
	}
}

func statusIs(hub *core.Hub, userID string, want core.Status) func() bool {
	return func() bool {
		u, ok := hub.Get(userID)
		return ok && u.Status() == want
	}
}

// simShards lists the shard ids the simulator has connected sessions for.
func simShards(sim *discordsim.Sim) []int {
	var out []int
	for _, s := range sim.Sessions() {
		if s.Connected {
			out = append(out, s.Shard[0])
		}
	}
	slices.Sort(out)
	return out
}

func TestBotShardsServeEveryShardAndCloseOne(t *testing.T) {
	sim := startSim(t, discordsim.Config{Members: 30, Guilds: 4, Seed: shardSeed, Shards: 2})
	byShard := guildsByShard(t, sim, 2)
	b, hub := startBot(t, sim, func(c *Config) { c.ShardCount = AutoShards })
	if b.ShardCount() != 2 || !slices.Equal(b.OpenShards(), []int{0, 1}) {
		t.Fatalf("shard count %d, open %v", b.ShardCount(), b.OpenShards())
	}
	if got := simShards(sim); !slices.Equal(got, []int{0, 1}) {
		t.Fatalf("simulator sessions %v", got)
	}
	for _, s := range sim.Sessions() {
		if s.Shard[1] != 2 || s.GuildCount != len(byShard[s.Shard[0]]) {
			t.Fatalf("session %+v, guilds by shard %v", s, byShard)
		}
	}
	// Every member of every guild, whichever shard brought it.
	for _, g := range sim.GuildIDs() {
		for _, id := range sim.MemberIDs(g) {
			if !hub.IsMonitored(id) {
				t.Fatalf("member %s of guild %s (shard %d) not monitored", id, g, discordsim.GuildShard(g, 2))
			}
		}
	}
	// A user only in a shard-1 guild and one only in a shard-0 guild.
	on1 := addMember(t, sim, byShard[1][0], "1300000000000007001")
	on0 := addMember(t, sim, byShard[0][0], "1300000000000007000")
	waitFor(t, "both new members", func() bool { return hub.IsMonitored(on0) && hub.IsMonitored(on1) })
	setStatus(t, sim, on1, "online")
	setStatus(t, sim, on0, "online")
	waitFor(t, "both presences", func() bool { return statusIs(hub, on0, core.StatusOnline)() && statusIs(hub, on1, core.StatusOnline)() })

	// Shard 1 closes: its session ends at once, shard 0 goes on.
	if err := b.CloseShard(1); err != nil {
		t.Fatal(err)
	}
	if err := b.CloseShard(1); err != nil { // idempotent
		t.Fatal(err)
	}
	if !slices.Equal(b.OpenShards(), []int{0}) || !b.Ready() || !b.Synced() {
		t.Fatalf("after CloseShard(1): open %v ready %v synced %v", b.OpenShards(), b.Ready(), b.Synced())
	}
	waitFor(t, "the simulator to end shard 1's session", func() bool { return slices.Equal(simShards(sim), []int{0}) })
	setStatus(t, sim, on1, "dnd")
	setStatus(t, sim, on0, "idle")
	waitFor(t, "shard 0's presence", statusIs(hub, on0, core.StatusIdle))
	if !statusIs(hub, on1, core.StatusOnline)() {
		t.Fatal("a presence of a closed shard's guild arrived")
	}
	if !hub.IsMonitored(on1) {
		t.Fatal("closing a shard dropped its members")
	}

	// Reopened, it identifies anew and resyncs: the missed change arrives.
	identifies := b.Stats().Identifies
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.OpenShard(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := b.OpenShard(ctx, 1); err != nil { // already open
		t.Fatal(err)
	}
	waitFor(t, "the resync of shard 1", statusIs(hub, on1, core.StatusDND))
	waitFor(t, "Synced", b.Synced)
	if got := b.Stats().Identifies - identifies; got != 1 {
		t.Fatalf("%d identifies to reopen one shard", got)
	}
	if !slices.Equal(b.OpenShards(), []int{0, 1}) || !b.Ready() {
		t.Fatalf("after OpenShard(1): open %v ready %v", b.OpenShards(), b.Ready())
	}
}

func TestBotOpensChosenShards(t *testing.T) {
	sim := startSim(t, discordsim.Config{Members: 10, Guilds: 4, Seed: shardSeed})
	byShard := guildsByShard(t, sim, 2)
	hub := core.NewHub(core.HubOptions{})
	if err := hub.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hub.Close() })
	cfg := Config{Token: sim.Token(), GatewayURL: sim.GatewayURL(), RESTBase: sim.RESTURL(), Hub: hub,
		FastIdentify: true, ShardCount: 2, Logger: testLogger()}

	for _, bad := range [][]int{{2}, {-1}, {0, 5}} {
		c := cfg
		c.Shards = bad
		if _, err := New(c); err == nil {
			t.Errorf("New with Shards %v: no error", bad)
		}
	}
	if _, err := New(Config{Token: "t", Hub: hub, ShardCount: -2}); err == nil {
		t.Error("New with ShardCount -2: no error")
	}

	// A node that holds no shard yet: opened, ready, nothing connected.
	cfg.Shards = []int{}
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if b.Ready() {
		t.Fatal("ready before Open")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if len(b.OpenShards()) != 0 || !b.Ready() || len(sim.Sessions()) != 0 {
		t.Fatalf("no shard: open %v ready %v sessions %v", b.OpenShards(), b.Ready(), sim.Sessions())
	}
	if err := b.OpenShard(ctx, 2); err == nil {
		t.Fatal("OpenShard(2) of 2: no error")
	}
	if err := b.CloseShard(-1); err == nil {
		t.Fatal("CloseShard(-1): no error")
	}
	// Shard 1 only: the members of shard 1's guilds, not those only in shard 0's.
	if err := b.OpenShard(ctx, 1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "shard 1's member sync", b.Synced)
	if got := simShards(sim); !slices.Equal(got, []int{1}) {
		t.Fatalf("simulator sessions %v", got)
	}
	for _, g := range byShard[1] {
		for _, id := range sim.MemberIDs(g) {
			if !hub.IsMonitored(id) {
				t.Fatalf("member %s of shard 1's guild %s not monitored", id, g)
			}
		}
	}
	only0 := addMember(t, sim, byShard[0][0], "1300000000000007100")
	marker := addMember(t, sim, byShard[1][0], "1300000000000007101")
	waitFor(t, "the shard-1 member", func() bool { return hub.IsMonitored(marker) })
	if hub.IsMonitored(only0) {
		t.Fatal("a member of a shard-0 guild arrived on a node holding shard 1 only")
	}
}

// TestBotMaxConcurrency opens 3 shards against a simulator that refuses
// IDENTIFYs over max_concurrency (2): shards 0 and 1 start at once, shard
// 2 waits for bucket 0. No IDENTIFY breaks the rule.
func TestBotMaxConcurrency(t *testing.T) {
	sim := startSim(t, discordsim.Config{Members: 10, Guilds: 4, Seed: shardSeed, MaxConcurrency: 2, EnforceMaxConcurrency: true})
	b, _ := startBot(t, sim, func(c *Config) {
		c.ShardCount = 3
		c.FastIdentify = false
	})
	if !slices.Equal(simShards(sim), []int{0, 1, 2}) {
		t.Fatalf("sessions %v", sim.Sessions())
	}
	if st := sim.Stats(); st.IdentifiesTooFast != 0 || st.Identifies != 3 {
		t.Fatalf("simulator %+v", st)
	}
	if st := b.Stats(); st.Identifies != 3 {
		t.Fatalf("bot %+v", st)
	}
}

// TestRequesterShards: a member request for a shard whose send fails
// stays queued without holding up another shard's; one for a shard not
// open on this node is dropped; dropShard forgets a closed shard's.
func TestRequesterShards(t *testing.T) {
	shardOf := map[string]int{"10": 0, "11": 1, "12": 2, "13": 1}
	var sent []string
	r := newRequester(func(_ context.Context, cmd *gateway.RequestGuildMembersCommand) error {
		g := cmd.GuildIDs[0].String()
		switch shardOf[g] {
		case 1:
			return errors.New("connection down")
		case 2:
			return errShardClosed
		}
		sent = append(sent, g)
		return nil
	})
	r.shardOf = func(g string) int { return shardOf[g] }
	r.requestAll("11", "n11")
	r.requestAll("12", "n12")
	r.requestAll("10", "n10")
	r.requestUser("13", "5")
	r.requestUser("10", "6")
	if err := r.flush(context.Background()); err == nil {
		t.Fatal("flush hid shard 1's failure")
	}
	slices.Sort(sent)
	if !slices.Equal(sent, []string{"10", "10"}) {
		t.Fatalf("sent %v, want shard 0's all-members and user requests", sent)
	}
	if r.all["11"] != "n11" || !slices.Equal(r.users["13"], []string{"5"}) {
		t.Fatalf("shard 1's requests not kept: %v %v", r.all, r.users)
	}
	if _, ok := r.all["12"]; ok {
		t.Fatal("a request for a shard not open here was kept")
	}
	r.dropShard(1, r.shardOf)
	if len(r.all) != 0 || len(r.users) != 0 {
		t.Fatalf("after dropShard(1): %v %v", r.all, r.users)
	}
}
