package discordsim

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/diamondburned/arikawa/v3/discord"
	"github.com/diamondburned/arikawa/v3/gateway"
	arisession "github.com/diamondburned/arikawa/v3/session"
	"github.com/diamondburned/arikawa/v3/session/shard"
	"github.com/diamondburned/arikawa/v3/utils/handler"
	"github.com/gorilla/websocket"
)

// shardSeed gives guilds on both of two shards: with 4 guilds, guilds 0
// and 3 are on shard 0, guilds 1 and 2 on shard 1 (checked by the tests).
const shardSeed = 11

// identifyShard sends IDENTIFY with the given shard field (any JSON).
func identifyShard(t testing.TB, c *websocket.Conn, s *Sim, shard any) {
	t.Helper()
	send(t, c, map[string]any{"op": 2, "d": map[string]any{"token": "Bot " + s.Token(), "intents": allIntents,
		"properties": map[string]string{"os": "linux", "browser": "test", "device": "test"}, "shard": shard}})
}

// readyGuilds reads READY and returns its guild ids and shard.
func readyGuilds(t *testing.T, c *websocket.Conn) (ids []string, shard []int) {
	t.Helper()
	f := readUntil(t, c, "READY")
	var r struct {
		Guilds []struct {
			ID string `json:"id"`
		} `json:"guilds"`
		Shard []int `json:"shard"`
	}
	if err := json.Unmarshal(f.D, &r); err != nil {
		t.Fatal(err)
	}
	for _, g := range r.Guilds {
		ids = append(ids, g.ID)
	}
	return ids, r.Shard
}

// guildOf reads a dispatch's guild_id (or id for GUILD_CREATE).
func guildOf(f frame) string {
	var d struct {
		GuildID string `json:"guild_id"`
		ID      string `json:"id"`
	}
	_ = json.Unmarshal(f.D, &d)
	if f.t() == "GUILD_CREATE" {
		return d.ID
	}
	return d.GuildID
}

// collectUntil reads dispatches until one of type typ for guild marker
// arrives, returning every dispatch before it.
func collectUntil(t *testing.T, c *websocket.Conn, typ, marker string) []frame {
	t.Helper()
	var seen []frame
	for {
		f := readFrame(t, c)
		if f.Op != 0 {
			continue
		}
		if f.t() == typ && guildOf(f) == marker {
			return seen
		}
		seen = append(seen, f)
	}
}

func TestShardRouting(t *testing.T) {
	s := newSim(t, Config{Members: 30, Guilds: 4, Seed: shardSeed})
	guilds := s.GuildIDs()
	want := [2][]string{}
	for _, g := range guilds {
		i := GuildShard(g, 2)
		want[i] = append(want[i], g)
	}
	if len(want[0]) == 0 || len(want[1]) == 0 || GuildShard(guilds[0], 2) != 0 {
		t.Fatalf("seed %d no longer spreads the guilds over both shards: %v", shardSeed, want)
	}
	conns := [2]*websocket.Conn{}
	for i := range conns {
		conns[i] = dial(t, s)
		readFrame(t, conns[i]) // HELLO
		identifyShard(t, conns[i], s, []int{i, 2})
		ids, shard := readyGuilds(t, conns[i])
		slices.Sort(ids)
		w := slices.Sorted(slices.Values(want[i]))
		if !slices.Equal(ids, w) || !slices.Equal(shard, []int{i, 2}) {
			t.Fatalf("shard %d: READY guilds %v shard %v, want %v", i, ids, shard, w)
		}
		for range want[i] {
			f := readUntil(t, conns[i], "GUILD_CREATE")
			if g := guildOf(f); GuildShard(g, 2) != i {
				t.Fatalf("shard %d got GUILD_CREATE of guild %s (shard %d)", i, g, GuildShard(g, 2))
			}
		}
	}

	// A user in every guild changes presence: each shard gets the
	// PRESENCE_UPDATE of its own guilds only.
	uid := s.MemberIDs(guilds[0])[0]
	inAll := true
	for _, g := range guilds {
		inAll = inAll && slices.Contains(s.MemberIDs(g), uid)
	}
	if err := s.UpdatePresence(json.RawMessage(`{"user":{"id":"` + uid + `"},"status":"dnd","activities":[]}`)); err != nil {
		t.Fatal(err)
	}
	// A DM, an interaction in guild 1 (shard 1) and a guild message in
	// guild 0 (shard 0); then markers that end each shard's reading.
	if _, err := s.SendDM(uid, "hello"); err != nil {
		t.Fatal(err)
	}
	g1 := want[1][0]
	if st, b := restDo(t, s, "POST", "/api/v10/applications/"+s.ApplicationID()+"/commands", "Bot "+s.Token(),
		`{"name":"ping","description":"d"}`); st != 201 {
		t.Fatalf("registering a command: %d %s", st, b)
	}
	member1 := s.MemberIDs(g1)[0]
	if _, err := s.Interact(g1, member1, "ping", nil); err != nil {
		t.Fatal(err)
	}
	if err := s.SendGuildMessage(guilds[0], uid, "in guild 0"); err != nil {
		t.Fatal(err)
	}
	markers := [2]string{}
	for i := range markers {
		markers[i] = want[i][len(want[i])-1]
		if err := s.SendGuildMessage(markers[i], s.MemberIDs(markers[i])[0], "marker"); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range conns {
		seen := collectUntil(t, c, "MESSAGE_CREATE", markers[i])
		presences, dms, interactions := 0, 0, 0
		for _, f := range seen {
			g := guildOf(f)
			switch {
			case g == "" && f.t() == "MESSAGE_CREATE":
				dms++
			case g == "":
				t.Errorf("shard %d: guild-less %s", i, f.t())
			case GuildShard(g, 2) != i:
				t.Errorf("shard %d: %s of guild %s (shard %d)", i, f.t(), g, GuildShard(g, 2))
			case f.t() == "PRESENCE_UPDATE":
				presences++
			case f.t() == "INTERACTION_CREATE":
				interactions++
			}
		}
		if i == 0 && dms != 1 || i == 1 && dms != 0 {
			t.Errorf("shard %d: %d DMs (DMs go to shard 0 only)", i, dms)
		}
		if i == 0 && interactions != 0 || i == 1 && interactions != 1 {
			t.Errorf("shard %d: %d interactions (guild %s is on shard 1)", i, interactions, g1)
		}
		if inAll && presences != len(want[i]) {
			t.Errorf("shard %d: %d presence updates, want one per guild of the shard (%d)", i, presences, len(want[i]))
		}
		if presences == 0 {
			t.Errorf("shard %d: no presence update", i)
		}
	}
}

func TestShardCloseCodes(t *testing.T) {
	for _, tt := range []struct {
		name   string
		shard  any
		guilds int
		per    int
		code   int
	}{
		{"id equal to count", []int{2, 2}, 1, 0, 4010},
		{"negative id", []int{-1, 2}, 1, 0, 4010},
		{"zero shards", []int{0, 0}, 1, 0, 4010},
		{"one number", []int{0}, 1, 0, 4010},
		{"three numbers", []int{0, 1, 2}, 1, 0, 4010},
		{"strings", []string{"0", "1"}, 1, 0, 4010},
		{"fraction", []float64{0.5, 2}, 1, 0, 4010},
		{"object", map[string]int{"id": 0}, 1, 0, 4010},
		{"unsharded over the limit", nil, 5, 2, 4011},
		{"too few shards", []int{0, 2}, 5, 2, 4011},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSim(t, Config{Members: 5, Guilds: tt.guilds, GuildsPerShard: tt.per})
			c := dial(t, s)
			readFrame(t, c)
			identifyShard(t, c, s, tt.shard)
			expectClose(t, c, tt.code)
			if n := s.Stats().Identifies; n != 0 {
				t.Errorf("%d identifies accepted", n)
			}
		})
	}
	// Enough shards for the guilds: accepted.
	s := newSim(t, Config{Members: 5, Guilds: 5, GuildsPerShard: 2})
	c := dial(t, s)
	readFrame(t, c)
	identifyShard(t, c, s, []int{2, 3})
	if _, shard := readyGuilds(t, c); !slices.Equal(shard, []int{2, 3}) {
		t.Fatalf("READY shard %v", shard)
	}
}

// gatewayBot fetches GET /api/v10/gateway/bot as a bot.
func gatewayBot(t *testing.T, s *Sim) map[string]json.RawMessage {
	t.Helper()
	req, _ := http.NewRequest("GET", s.RESTURL()+"/api/v10/gateway/bot", nil)
	req.Header.Set("Authorization", "Bot "+s.Token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]json.RawMessage
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&out) != nil {
		t.Fatalf("GET /gateway/bot: %d", resp.StatusCode)
	}
	return out
}

func TestGatewayBotAndSessionStartLimit(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := newSim(t, Config{Members: 5, Shards: 3, MaxConcurrency: 2, SessionStartLimit: 2, SessionStartWindow: time.Hour, Clock: clock.Now})
	body := gatewayBot(t, s)
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range body {
			if !yield(k) {
				return
			}
		}
	})
	if !slices.Equal(keys, []string{"session_start_limit", "shards", "url"}) || string(body["shards"]) != "3" ||
		string(body["url"]) != `"`+s.GatewayURL()+`"` {
		t.Fatalf("GET /gateway/bot: %v", body)
	}
	var limit map[string]int
	if err := json.Unmarshal(body["session_start_limit"], &limit); err != nil {
		t.Fatal(err)
	}
	if len(limit) != 4 || limit["total"] != 2 || limit["remaining"] != 2 || limit["max_concurrency"] != 2 ||
		limit["reset_after"] != 3_600_000 {
		t.Fatalf("session_start_limit: %v", limit)
	}
	for i := range 2 {
		c := dial(t, s)
		readFrame(t, c)
		identifyShard(t, c, s, []int{i, 3})
		readyGuilds(t, c)
		if got := s.StartLimit().Remaining; got != 1-i {
			t.Fatalf("after %d identifies: remaining %d", i+1, got)
		}
	}
	if err := json.Unmarshal(gatewayBot(t, s)["session_start_limit"], &limit); err != nil || limit["remaining"] != 0 {
		t.Fatalf("REST remaining %v", limit)
	}
	// No session start left: Discord resets the token.
	c := dial(t, s)
	readFrame(t, c)
	identifyShard(t, c, s, []int{2, 3})
	expectClose(t, c, 4004)
	// reset_after later the allowance is whole again.
	clock.add(30 * time.Minute)
	if got := s.StartLimit(); got.Remaining != 0 || got.ResetAfter != 1_800_000 {
		t.Fatalf("half way: %+v", got)
	}
	clock.add(30 * time.Minute)
	if got := s.StartLimit(); got.Remaining != 2 || got.ResetAfter != 3_600_000 {
		t.Fatalf("after reset_after: %+v", got)
	}
	c = dial(t, s)
	readFrame(t, c)
	identifyShard(t, c, s, []int{2, 3})
	readyGuilds(t, c)
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestMaxConcurrencyBuckets(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := newSim(t, Config{Members: 5, Guilds: 4, Seed: shardSeed, MaxConcurrency: 2, EnforceMaxConcurrency: true, Clock: clock.Now})
	open := func(shard int) *websocket.Conn {
		c := dial(t, s)
		readFrame(t, c)
		identifyShard(t, c, s, []int{shard, 4})
		return c
	}
	// Shards 0 and 1 are in buckets 0 and 1: both start at once.
	for i := range 2 {
		if _, shard := readyGuilds(t, open(i)); shard[0] != i {
			t.Fatalf("READY shard %v", shard)
		}
	}
	// Shard 2 shares bucket 0 with shard 0: too soon.
	c := open(2)
	if f := readFrame(t, c); f.Op != 9 || string(f.D) != "false" {
		t.Fatalf("want op 9 false, got op %d %s", f.Op, f.D)
	}
	if s.Stats().Identifies != 2 || s.Stats().IdentifiesTooFast != 1 || s.StartLimit().Remaining != 998 {
		t.Fatalf("stats %+v, limit %+v", s.Stats(), s.StartLimit())
	}
	clock.add(5 * time.Second)
	if _, shard := readyGuilds(t, open(2)); shard[0] != 2 {
		t.Fatalf("READY shard %v", shard)
	}

	// Not enforced: accepted, counted.
	relaxed := newSim(t, Config{Members: 5, Clock: clock.Now})
	for range 2 {
		c := dial(t, relaxed)
		readFrame(t, c)
		identifyShard(t, c, relaxed, nil)
		readyGuilds(t, c)
	}
	if st := relaxed.Stats(); st.Identifies != 2 || st.IdentifiesTooFast != 1 {
		t.Fatalf("relaxed: %+v", st)
	}
}

// TestArikawaShardManager runs arikawa's own shard manager, unmodified,
// against the simulator: each shard's session sees only its guilds.
func TestArikawaShardManager(t *testing.T) {
	s := newSim(t, Config{Members: 20, Guilds: 4, Seed: shardSeed, Shards: 2})
	id := gateway.DefaultIdentifier("Bot " + s.Token())
	id.AddIntents(gateway.IntentGuilds | gateway.IntentGuildMembers | gateway.IntentGuildPresences)
	id.IdentifyShortLimit = nil
	id.SetShard(0, 2)
	var mu sync.Mutex
	got := map[int][]string{}
	m, err := shard.NewIdentifiedManagerWithURL(s.GatewayURL(), id, func(m *shard.Manager, id *gateway.Identifier) (shard.Shard, error) {
		g := gateway.NewCustomWithIdentifier(m.GatewayURL(), *id, nil)
		sess := arisession.NewWithGateway(g, handler.New())
		n := id.Shard.ShardID()
		sess.AddSyncHandler(func(e *gateway.GuildCreateEvent) {
			mu.Lock()
			got[n] = append(got[n], e.ID.String())
			mu.Unlock()
		})
		return sess, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := m.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(got[0]) + len(got[1])
		mu.Unlock()
		if n == len(s.GuildIDs()) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GUILD_CREATEs: %v", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	for n, ids := range got {
		for _, g := range ids {
			if GuildShard(g, 2) != n {
				t.Errorf("shard %d got guild %s", n, g)
			}
			if _, ix := m.FromGuildID(discordGuildID(t, g)); ix != n {
				t.Errorf("arikawa routes guild %s to shard %d, the simulator to %d", g, ix, n)
			}
		}
	}
	if len(got[0]) == 0 || len(got[1]) == 0 {
		t.Fatalf("a shard got no guild: %v", got)
	}
}

func discordGuildID(t *testing.T, s string) discord.GuildID {
	t.Helper()
	id, err := discord.ParseSnowflake(s)
	if err != nil {
		t.Fatal(err)
	}
	return discord.GuildID(id)
}
