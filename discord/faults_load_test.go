package discord

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/discord/discordsim"
)

// faultLoad sizes one run of TestGatewayFaultsUnderLoad. The short run is
// part of go test ./...; HALYARD_LONG=1 selects the long one, whose
// figures RELIABILITY.md ("Gateway faults under load") records.
type faultLoad struct {
	members   int           // synthetic members of the default guild
	guilds    int           // guilds (the others hold a subset)
	tick      time.Duration // churn period
	perTick   int           // presence changes per churn tick
	burst     int           // presence changes applied at once while the bot is away
	rounds    int           // how many times every fault is injected
	settle    time.Duration // churn between two faults once the bot is back
	joinEach  int           // joins and leaves per fault
	heartbeat time.Duration // the simulator's heartbeat interval
	long      bool          // add the long run's extra faults
	// memberWindow limits all-members requests per guild, as Discord does
	// (one per 30 s); 0 means no limit.
	memberWindow time.Duration
}

// waitLong polls cond until it holds; the bound is generous because the
// test shares a loaded machine, and only stops a run that hangs. diag says
// what was seen when it gives up.
func waitLong(t *testing.T, what string, cond func() bool, diag func() string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %s", what, diag())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// syncsBegun counts the all-members syncs the bot has started.
func syncsBegun(b *Bot) int {
	b.sync.mu.Lock()
	defer b.sync.mu.Unlock()
	return b.sync.nonces
}

// statsOf describes the bot's and the simulator's counters, for waitLong.
func statsOf(b *Bot, sim *discordsim.Sim) func() string {
	return func() string {
		return fmt.Sprintf("ready %v, bot %+v, simulator %+v", b.Ready(), b.Stats(), sim.Stats())
	}
}

func faultLoadSize() faultLoad {
	if os.Getenv("HALYARD_LONG") != "" {
		return faultLoad{members: 5000, guilds: 3, tick: 10 * time.Millisecond, perTick: 30, burst: 10000,
			rounds: 3, settle: 2 * time.Second, joinEach: 10,
			// Above arikawa's 1–5 s stall after op 9 d=true, so it
			// identifies on the same socket as it would on Discord.
			heartbeat: 6 * time.Second, long: true, memberWindow: discordsim.DefaultMemberRequestWindow}
	}
	return faultLoad{members: 1500, guilds: 2, tick: 10 * time.Millisecond, perTick: 20, burst: 10000,
		rounds: 1, settle: 500 * time.Millisecond, joinEach: 3, heartbeat: time.Second}
}

// folder is a hub subscriber following every user, folding the events it
// receives into each user's latest snapshot, as a client would: woken by
// the hub, it drains its queue (SubscribeNotify), as the sockets do.
type folder struct {
	sub    *core.Subscription
	mu     sync.Mutex
	latest map[string]*core.User
	events atomic.Int64
	quit   chan struct{}
	done   chan struct{}
}

func newFolder(hub *core.Hub) *folder {
	f := &folder{latest: map[string]*core.User{}, quit: make(chan struct{}), done: make(chan struct{})}
	wake := make(chan struct{}, 1)
	f.sub = hub.SubscribeNotify(1<<21, func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	f.sub.SetAll(true)
	go func() {
		defer close(f.done)
		var buf []core.Event
		for {
			select {
			case <-wake:
			case <-f.quit:
				f.fold(f.sub.Drain(buf[:0]))
				return
			}
			buf = f.sub.Drain(buf[:0])
			f.fold(buf)
		}
	}()
	return f
}

func (f *folder) fold(evs []core.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ev := range evs {
		switch ev.Type {
		case core.MemberLeft:
			delete(f.latest, ev.User.ID)
		default:
			f.latest[ev.User.ID] = ev.User
		}
	}
	f.events.Add(int64(len(evs)))
}

func (f *folder) close() {
	f.sub.Close()
	close(f.quit)
	<-f.done
}

// diff lists how the folded state differs from the hub: every monitored
// user with the same profile, nickname and presence, and nobody else.
// Guild lists are not compared: a departure from one of several guilds
// changes nothing a client sees, so the hub publishes no event for it.
func (f *folder) diff(hub *core.Hub) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var diffs []string
	seen := map[string]bool{}
	for _, u := range hub.All() {
		seen[u.ID] = true
		got, ok := f.latest[u.ID]
		if !ok {
			diffs = append(diffs, u.ID+": monitored, never announced to the subscriber")
			continue
		}
		switch {
		case got.Status() != u.Status():
			diffs = append(diffs, fmt.Sprintf("%s: subscriber has status %s, hub %s", u.ID, got.Status(), u.Status()))
		case !reflect.DeepEqual(clientStatusOf(got), clientStatusOf(u)):
			diffs = append(diffs, fmt.Sprintf("%s: subscriber has client_status %v, hub %v", u.ID, clientStatusOf(got), clientStatusOf(u)))
		case !jsonEqual(activitiesJSON(got), activitiesJSON(u)):
			diffs = append(diffs, fmt.Sprintf("%s: subscriber has activities %s, hub %s", u.ID, activitiesJSON(got), activitiesJSON(u)))
		case string(got.Discord.JSON()) != string(u.Discord.JSON()) || got.Nick() != u.Nick():
			diffs = append(diffs, fmt.Sprintf("%s: subscriber has user %s (nick %q), hub %s (nick %q)", u.ID, got.Discord.JSON(), got.Nick(), u.Discord.JSON(), u.Nick()))
		}
	}
	for id := range f.latest {
		if !seen[id] {
			diffs = append(diffs, id+": the subscriber still has a user the hub no longer monitors")
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 5 {
		diffs = append(diffs[:5], fmt.Sprintf("… %d more", len(diffs)-5))
	}
	return diffs
}

func clientStatusOf(u *core.User) map[string]string {
	if u.Presence == nil {
		return map[string]string{}
	}
	return clientStatusMap(u.Presence.Clients())
}

// churner applies presence changes at a steady rate, except while paused,
// and counts them.
type churner struct {
	sim     *discordsim.Sim
	changes atomic.Int64
	paused  atomic.Bool
	stop    chan struct{}
	done    chan struct{}
}

func startChurner(sim *discordsim.Sim, every time.Duration, perTick int) *churner {
	c := &churner{sim: sim, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-t.C:
				if !c.paused.Load() {
					c.burst(perTick)
				}
			}
		}
	}()
	return c
}

// burst applies n presence changes at once.
func (c *churner) burst(n int) {
	c.sim.Churn(n)
	c.changes.Add(int64(n))
}

func (c *churner) halt() {
	close(c.stop)
	<-c.done
}

// gatewayFault is one way the gateway fails. inject starts it; then, if
// set, runs once the burst and the joins and leaves were applied (to heal
// the fault, or to strike again while the bot recovers). The bot is back
// when it is ready, every member sync finished, and it has at least the
// wanted reconnects, resumes and identifies since inject.
type gatewayFault struct {
	name       string
	inject     func()
	then       func(t *testing.T, b *Bot, before Stats, simBefore discordsim.Stats)
	reconnects int64
	resumes    int64
	identifies int64
}

// faultList is the faults of one round; long adds close codes and a drop
// during a RESUME's replay.
func faultList(sim *discordsim.Sim, long bool) []gatewayFault {
	faults := []gatewayFault{
		{name: "TCP drop", inject: sim.DropConnections, reconnects: 1, resumes: 1},
		{name: "op 7 RECONNECT", inject: sim.SendReconnect, reconnects: 1, resumes: 1},
		// arikawa identifies again on the same socket; with a heartbeat
		// interval under its 1–5 s stall it also takes the connection for a
		// zombie and redials, so reconnects are not counted here.
		{name: "op 9 d=true", inject: func() { sim.SendInvalidSession(true) }, identifies: 1},
		{name: "op 9 d=false", inject: func() { sim.SendInvalidSession(false) }, reconnects: 1, identifies: 1},
		{name: "heartbeat ACKs withheld", inject: func() { sim.SetAckHeartbeats(false) }, reconnects: 1, resumes: 1,
			then: func(t *testing.T, b *Bot, _ Stats, simBefore discordsim.Stats) {
				// ACK again once arikawa gave up and redialled, or the
				// new connection would be a zombie too.
				waitLong(t, "a new connection", func() bool { return sim.Stats().Connections > simBefore.Connections }, statsOf(b, sim))
				sim.SetAckHeartbeats(true)
			}},
		{name: "op 9 d=false, then a TCP drop during the resync", inject: func() { sim.SendInvalidSession(false) },
			reconnects: 2, resumes: 1, identifies: 1,
			then: func(t *testing.T, b *Bot, before Stats, _ discordsim.Stats) {
				waitLong(t, "READY", func() bool { return b.Stats().Identifies > before.Identifies }, statsOf(b, sim))
				sim.DropConnections()
			}},
	}
	if long {
		faults = append(faults,
			gatewayFault{name: "close 4000", inject: func() { sim.CloseConnections(4000) }, reconnects: 1, resumes: 1},
			// 4009 ends the session: arikawa's RESUME gets op 9 d=false.
			gatewayFault{name: "close 4009", inject: func() { sim.CloseConnections(4009) }, reconnects: 2, identifies: 1},
			gatewayFault{name: "TCP drop, then another during the replay", inject: sim.DropConnections, reconnects: 2, resumes: 1,
				then: func(t *testing.T, b *Bot, _ Stats, simBefore discordsim.Stats) {
					waitLong(t, "the simulator accepting RESUME", func() bool { return sim.Stats().Resumes > simBefore.Resumes }, statsOf(b, sim))
					sim.DropConnections()
				}},
		)
	}
	return faults
}

// TestGatewayFaultsUnderLoad injects every gateway fault in turn while the
// simulator churns presences, with a burst of changes and some joins and
// leaves while the bot is away. After each fault the churn pauses and the
// hub must equal the simulator's truth, and a subscriber following every
// user must have folded its events into the hub's state.
func TestGatewayFaultsUnderLoad(t *testing.T) {
	size := faultLoadSize()
	if w := os.Getenv("HALYARD_MEMBER_WINDOW"); w != "" {
		size.memberWindow, _ = time.ParseDuration(w)
	}
	sim := startSim(t, discordsim.Config{Members: size.members, Guilds: size.guilds, HeartbeatInterval: size.heartbeat,
		MemberRequestWindow: size.memberWindow})
	hub := core.NewHub(core.HubOptions{})
	if err := hub.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hub.Close() })
	subs := newFolder(hub)
	defer subs.close()
	b, _ := startBot(t, sim, func(c *Config) { c.Hub = hub })
	waitMirrors(t, sim, hub, true, nil)

	guilds := sim.GuildIDs()
	ch := startChurner(sim, size.tick, size.perTick)
	defer func() {
		select {
		case <-ch.done:
		default:
			ch.halt()
		}
	}()
	start := time.Now()
	injected, joins, leaves, rejoins := 0, 0, 0, 0
	var departed [][2]string // guild, user: left every guild
	var slowest, slowestBack time.Duration
	for round := range size.rounds {
		for _, fault := range faultList(sim, size.long) {
			before, simBefore, begun := b.Stats(), sim.Stats(), syncsBegun(b)
			injectedAt := time.Now()
			fault.inject()
			injected++
			// The burst lands once the bot lost its connection (or its
			// session), so it must come back through a replay or a resync.
			waitLong(t, fault.name+": the bot noticing", func() bool {
				st := b.Stats()
				return !b.Ready() || st.Reconnects > before.Reconnects || st.Resumes+st.Identifies > before.Resumes+before.Identifies
			}, statsOf(b, sim))
			ch.burst(size.burst)
			for k := range size.joinEach {
				g := guilds[(injected+k)%len(guilds)]
				id := strconv.FormatUint(1390000000000000000+uint64(injected*1000+k), 10)
				m := `{"user":{"id":"` + id + `","username":"joiner` + id[len(id)-6:] + `","discriminator":"0","global_name":null,"avatar":null},"nick":"j` + strconv.Itoa(k) + `"}`
				if err := sim.AddMember(g, json.RawMessage(m)); err != nil {
					t.Fatal(err)
				}
				if err := sim.UpdatePresence(json.RawMessage(`{"user":{"id":"` + id + `"},"status":"online","client_status":{"mobile":"online"},"activities":[{"name":"joined during ` + fault.name + `","type":0}]}`)); err != nil {
					t.Fatal(err)
				}
				joins++
				members := sim.MemberIDs(g)
				gone := members[(injected*7919+k*104729)%len(members)]
				if err := sim.RemoveMember(g, gone); err != nil {
					t.Fatal(err)
				}
				leaves++
				// One who left at an earlier fault comes back, with a
				// presence changed while outside every guild (no dispatch
				// carried it): only the bot's user-id request can learn it.
				if len(departed) > 0 {
					back := departed[0]
					departed = departed[1:]
					if err := sim.UpdatePresence(json.RawMessage(`{"user":{"id":"` + back[1] + `"},"status":"dnd","client_status":{"web":"dnd"},"activities":[{"name":"back after ` + fault.name + `","type":0}]}`)); err != nil {
						t.Fatal(err)
					}
					if err := sim.AddMember(back[0], json.RawMessage(`{"user":{"id":"`+back[1]+`"}}`)); err != nil {
						t.Fatal(err)
					}
					rejoins++
				}
				if tr, _ := sim.Truth(gone); len(tr.Guilds) == 0 {
					departed = append(departed, [2]string{g, gone})
				}
			}
			if fault.then != nil {
				fault.then(t, b, before, simBefore)
			}
			waitLong(t, fault.name+": the bot coming back", func() bool {
				st := b.Stats()
				// After a fresh session, every guild's GUILD_CREATE must
				// have started a new member sync, and all must be over.
				if fault.identifies > 0 && syncsBegun(b)-begun < len(guilds) {
					return false
				}
				return b.Ready() && len(b.sync.unfinished()) == 0 &&
					st.Reconnects-before.Reconnects >= fault.reconnects &&
					st.Resumes-before.Resumes >= fault.resumes && st.Identifies-before.Identifies >= fault.identifies
			}, func() string {
				return fmt.Sprintf("ready %v, unfinished syncs %v, bot %+v (before %+v), simulator %+v",
					b.Ready(), b.sync.unfinished(), b.Stats(), before, sim.Stats())
			})
			// A resume may follow a fresh session (a spurious zombie cut on
			// a loaded machine), but a resumable fault must never cost a
			// fresh session: that would mean the replay failed.
			back := time.Since(injectedAt)
			slowestBack = max(slowestBack, back)
			st := b.Stats()
			if fault.identifies == 0 && st.Identifies > before.Identifies {
				t.Errorf("%s: identified instead of resuming: %+v", fault.name, st)
			}
			time.Sleep(size.settle) // the bot works under churn a while

			// Quiesce and compare.
			ch.paused.Store(true)
			paused := time.Now()
			waitLong(t, fault.name+": the hub to equal the simulator", func() bool { return len(truthDiff(sim, hub, true, nil)) == 0 },
				func() string { return strings.Join(truthDiff(sim, hub, true, nil), "\n") })
			converged := time.Since(paused)
			slowest = max(slowest, converged)
			waitLong(t, fault.name+": the subscriber to equal the hub", func() bool { return len(subs.diff(hub)) == 0 },
				func() string { return strings.Join(subs.diff(hub), "\n") })
			if subs.sub.Overflowed() {
				t.Fatal("the subscriber overflowed")
			}
			t.Logf("round %d, %s: reconnects +%d, resumes +%d, identifies +%d; back and synced %v after the fault; converged %v after the churn paused",
				round+1, fault.name, st.Reconnects-before.Reconnects, st.Resumes-before.Resumes,
				st.Identifies-before.Identifies, back.Round(time.Millisecond), converged.Round(time.Millisecond))
			ch.paused.Store(false)
		}
	}
	ch.halt()
	elapsed := time.Since(start)
	waitMirrors(t, sim, hub, true, nil)
	if d := subs.diff(hub); len(d) > 0 {
		t.Fatalf("subscriber differs from the hub:\n%s", strings.Join(d, "\n"))
	}
	st, ss := b.Stats(), sim.Stats()
	if st.DecodeErrors != 0 {
		t.Errorf("decode errors: %+v", st)
	}
	t.Logf("faults injected %d in %v; presence changes %d (bursts of %d), joins %d, leaves %d, rejoins %d; "+
		"simulator dispatches %d, connections %d, identifies %d, resumes %d; "+
		"bot reconnects %d, resumes %d, identifies %d, dispatches %d; subscriber events %d; "+
		"users %d; slowest return %v after a fault, slowest convergence %v after the churn paused; mismatches 0",
		injected, elapsed.Round(time.Millisecond), ch.changes.Load(), size.burst, joins, leaves, rejoins,
		ss.Dispatches, ss.Connections, ss.Identifies, ss.Resumes,
		st.Reconnects, st.Resumes, st.Identifies, st.Dispatches, subs.events.Load(),
		hub.Count(), slowestBack.Round(time.Millisecond), slowest.Round(time.Millisecond))
}
