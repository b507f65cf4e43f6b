package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/discord/discordsim"
)

// testLogger logs to stderr with -v and HALYARD_TEST_LOG set.
func testLogger() *slog.Logger {
	if os.Getenv("HALYARD_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return nil
}

func startSim(t testing.TB, cfg discordsim.Config) *discordsim.Sim {
	t.Helper()
	if cfg.HeartbeatInterval == 0 {
		cfg.HeartbeatInterval = 500 * time.Millisecond
	}
	if cfg.Seed == 0 {
		cfg.Seed = 42
	}
	sim, err := discordsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	return sim
}

// startBot opens a bot against sim with a real hub and waits for its
// member sync.
func startBot(t testing.TB, sim *discordsim.Sim, edit func(*Config)) (*Bot, *core.Hub) {
	t.Helper()
	hub := core.NewHub(core.HubOptions{})
	if err := hub.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hub.Close() })
	cfg := Config{
		Token:        sim.Token(),
		GatewayURL:   sim.GatewayURL(),
		RESTBase:     sim.RESTURL(),
		Hub:          hub,
		Commands:     &core.Commands{},
		Logger:       testLogger(),
		FastIdentify: true,
	}
	if edit != nil {
		edit(&cfg)
	}
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if !b.Ready() {
		t.Fatal("not ready after Open")
	}
	waitFor(t, "member sync", b.Synced)
	return b, hub
}

// jsonEqual compares two JSON documents by value.
func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func activitiesJSON(u *core.User) []byte {
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i, a := range u.Activities() {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(a.JSON())
	}
	buf.WriteByte(']')
	return buf.Bytes()
}

func clientStatusMap(cs core.ClientStatus) map[string]string {
	m := map[string]string{}
	for k, v := range map[string]core.Status{"desktop": cs.Desktop, "mobile": cs.Mobile, "web": cs.Web, "embedded": cs.Embedded, "vr": cs.VR} {
		if v != "" {
			m[k] = string(v)
		}
	}
	return m
}

// compareUser lists how the hub's user differs from the simulator's truth;
// strict also compares the activities' JSON.
func compareUser(tr discordsim.Truth, u *core.User, strict bool) []string {
	var diffs []string
	if string(u.Status()) != tr.Status {
		diffs = append(diffs, fmt.Sprintf("status %s, want %s", u.Status(), tr.Status))
	}
	var cs core.ClientStatus
	if u.Presence != nil {
		cs = u.Presence.Clients()
	}
	if got := clientStatusMap(cs); !reflect.DeepEqual(got, tr.ClientStatus) {
		diffs = append(diffs, fmt.Sprintf("client_status %v, want %v", got, tr.ClientStatus))
	}
	if strict && !jsonEqual(activitiesJSON(u), tr.Activities) {
		diffs = append(diffs, fmt.Sprintf("activities %s, want %s", activitiesJSON(u), tr.Activities))
	}
	if !strict {
		var want []json.RawMessage
		_ = json.Unmarshal(tr.Activities, &want)
		if len(want) != len(u.Activities()) {
			diffs = append(diffs, fmt.Sprintf("%d activities, want %d", len(u.Activities()), len(want)))
		}
	}
	if u.MonitoringSince().IsZero() || u.MonitoringSince().After(tr.JoinedAt) {
		// Lantern's monitoring_since: the earliest guild join time. A user
		// who left one of several guilds keeps the earlier start (their
		// membership of the watched guilds had no break), which the
		// simulator no longer knows; it can never be later.
		diffs = append(diffs, fmt.Sprintf("monitoring since %v, later than the join time %v", u.MonitoringSince(), tr.JoinedAt))
	}
	if !jsonEqual(u.Discord.JSON(), tr.User) {
		diffs = append(diffs, fmt.Sprintf("user %s, want %s", u.Discord.JSON(), tr.User))
	}
	guilds := slices.Clone(u.Guilds())
	want := slices.Clone(tr.Guilds)
	sort.Strings(guilds)
	sort.Strings(want)
	if !slices.Equal(guilds, want) {
		diffs = append(diffs, fmt.Sprintf("guilds %v, want %v", guilds, want))
	}
	return diffs
}

// truthDiff lists how the hub differs from the simulator (the bot's own
// member included: Halyard monitors it like anyone, as Lanyard does), at
// most a few lines.
func truthDiff(sim *discordsim.Sim, hub *core.Hub, strict bool, keep func(discordsim.Truth) bool) []string {
	var diffs []string
	truth := sim.AllTruth()
	want := map[string]bool{}
	for id, tr := range truth {
		if keep != nil && !keep(tr) {
			continue
		}
		want[id] = true
		u, ok := hub.Get(id)
		if !ok {
			diffs = append(diffs, id+": missing from the hub")
			continue
		}
		for _, d := range compareUser(tr, u, strict) {
			diffs = append(diffs, id+": "+d)
		}
	}
	for _, u := range hub.All() {
		if !want[u.ID] {
			diffs = append(diffs, u.ID+": in the hub, not in the simulator")
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 5 {
		diffs = append(diffs[:5], fmt.Sprintf("… %d more", len(diffs)-5))
	}
	return diffs
}

// waitMirrors waits until the hub equals the simulator's truth.
func waitMirrors(t testing.TB, sim *discordsim.Sim, hub *core.Hub, strict bool, keep func(discordsim.Truth) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		diffs := truthDiff(sim, hub, strict, keep)
		if len(diffs) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("hub differs from the simulator:\n%s", strings.Join(diffs, "\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The bot is a member of its guilds like anyone, and Lanyard monitors
// its own user: a full member sync must keep it, not prune it.
func TestBotMonitorsItsOwnMember(t *testing.T) {
	sim := startSim(t, discordsim.Config{Members: 300, Guilds: 2})
	_, hub := startBot(t, sim, nil)
	u, ok := hub.Get(sim.BotUserID())
	if !ok || !u.Discord.Bot() || len(u.Guilds()) != 2 {
		t.Fatalf("after the member sync the bot's own user is %+v (monitored: %v), want monitored in both guilds", u, ok)
	}
	if hub.Count() != len(sim.AllTruth()) {
		t.Fatalf("hub monitors %d users, the simulator's guilds hold %d (bot included)", hub.Count(), len(sim.AllTruth()))
	}
}

func TestBotMirrorsSimulator(t *testing.T) {
	sim := startSim(t, discordsim.Config{Members: 200, Guilds: 2})
	b, hub := startBot(t, sim, nil)
	waitMirrors(t, sim, hub, true, nil)
	if hub.Count() < 200 {
		t.Fatalf("only %d users monitored", hub.Count())
	}

	// A driven presence change.
	g0, g1 := sim.GuildIDs()[0], sim.GuildIDs()[1]
	uid := sim.MemberIDs(g1)[0]
	act := `[{"id":"custom","name":"Custom Status","type":4,"state":"shipping halyard","emoji":{"name":"🚢"},"created_at":1767268800000},` +
		`{"name":"Halyard","type":0,"application_id":"383226320970055681","platform":"desktop","status_display_type":1,"buttons":["Site"]}]`
	if err := sim.UpdatePresence(json.RawMessage(`{"user":{"id":"` + uid + `"},"status":"dnd","client_status":{"mobile":"dnd","vr":"dnd"},"activities":` + act + `}`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the presence update", func() bool {
		u, _ := hub.Get(uid)
		return u != nil && u.Status() == core.StatusDND && u.Presence.Clients().VR == core.StatusDND && jsonEqual(activitiesJSON(u), []byte(act))
	})

	// Churn, a new member, a profile change and a departure.
	sim.Churn(300)
	newID := "1300000000000009999"
	if err := sim.AddMember(g0, json.RawMessage(`{"user":{"id":"`+newID+`","username":"newbie","discriminator":"0","global_name":"New","avatar":null,"primary_guild":null},"nick":"nb"}`)); err != nil {
		t.Fatal(err)
	}
	if err := sim.UpdatePresence(json.RawMessage(`{"user":{"id":"` + newID + `"},"status":"online","activities":[]}`)); err != nil {
		t.Fatal(err)
	}
	renamed := sim.MemberIDs(g0)[5]
	if err := sim.UpdateMember(g0, json.RawMessage(`{"user":{"id":"`+renamed+`","username":"renamed","discriminator":"0","global_name":"Re","avatar":null,"collectibles":{"nameplate":null}}}`)); err != nil {
		t.Fatal(err)
	}
	gone := sim.MemberIDs(g0)[7]
	if err := sim.RemoveMember(g0, gone); err != nil {
		t.Fatal(err)
	}
	waitMirrors(t, sim, hub, true, nil)
	if u, ok := hub.Get(newID); !ok || u.Nick() != "nb" || u.Status() != core.StatusOnline {
		t.Fatalf("new member: %+v", u)
	}

	st := b.Stats()
	if st.Identifies != 1 || st.Reconnects != 0 || st.DecodeErrors != 0 || st.Dispatches == 0 {
		t.Errorf("stats %+v", st)
	}
	if sim.Stats().Identifies != 1 {
		t.Errorf("simulator saw %d identifies", sim.Stats().Identifies)
	}
}

func TestBotHostilePopulation(t *testing.T) {
	sim := startSim(t, discordsim.Config{Members: 200, Guilds: 2, Hostile: true})
	b, hub := startBot(t, sim, nil)
	sim.Churn(200)
	// Activities arrive with string and float numbers and extra fields, so
	// compare what they mean rather than their bytes.
	waitMirrors(t, sim, hub, false, nil)
	checked := 0
	for id, tr := range sim.AllTruth() {
		var want []struct {
			CreatedAt  int64 `json:"created_at"`
			Timestamps struct {
				Start int64 `json:"start"`
				End   int64 `json:"end"`
			} `json:"timestamps"`
		}
		if err := json.Unmarshal(tr.Activities, &want); err != nil {
			t.Fatal(err)
		}
		u, _ := hub.Get(id)
		for i, a := range u.Activities() {
			if a.CreatedAt != want[i].CreatedAt || a.Start != want[i].Timestamps.Start || a.End != want[i].Timestamps.End {
				t.Fatalf("%s activity %d: got %d/%d/%d, want %+v", id, i, a.CreatedAt, a.Start, a.End, want[i])
			}
			if !bytes.Contains(a.JSON(), []byte(`"_sim_unknown_`)) {
				t.Fatalf("%s activity %d lost its unknown field: %s", id, i, a.JSON())
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no activities checked")
	}
	if st := b.Stats(); st.DecodeErrors != 0 {
		t.Errorf("decode errors in hostile mode: %+v", st)
	}
}

func TestBotGuildFilter(t *testing.T) {
	sim := startSim(t, discordsim.Config{Members: 200, Guilds: 2})
	g1 := sim.GuildIDs()[1]
	_, hub := startBot(t, sim, func(c *Config) { c.GuildIDs = []string{g1} })
	inG1 := func(tr discordsim.Truth) bool { return slices.Contains(tr.Guilds, g1) }
	// Guild lists in the hub hold only the watched guild.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var diffs []string
		n := 0
		for id, tr := range sim.AllTruth() {
			u, ok := hub.Get(id)
			if ok != inG1(tr) {
				diffs = append(diffs, fmt.Sprintf("%s monitored=%v, in watched guild=%v", id, ok, inG1(tr)))
				continue
			}
			if !ok {
				continue
			}
			n++
			if !slices.Equal(u.Guilds(), []string{g1}) {
				diffs = append(diffs, fmt.Sprintf("%s guilds %v", id, u.Guilds()))
			}
			if string(u.Status()) != tr.Status {
				diffs = append(diffs, fmt.Sprintf("%s status %s, want %s", id, u.Status(), tr.Status))
			}
		}
		if len(diffs) == 0 && n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d monitored; %v", n, diffs[:min(5, len(diffs))])
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A change in the unwatched guild only is ignored.
	g0 := sim.GuildIDs()[0]
	var only0 string
	for _, id := range sim.MemberIDs(g0) {
		if tr, _ := sim.Truth(id); !inG1(tr) {
			only0 = id
			break
		}
	}
	if err := sim.UpdatePresence(json.RawMessage(`{"user":{"id":"` + only0 + `"},"status":"online","activities":[]}`)); err != nil {
		t.Fatal(err)
	}
	if err := sim.AddMember(g0, json.RawMessage(`{"user":{"id":"1300000000000008888","username":"x"}}`)); err != nil {
		t.Fatal(err)
	}
	sim.Churn(100)
	time.Sleep(200 * time.Millisecond) // nothing to wait for: the events must be ignored
	if hub.IsMonitored(only0) || hub.IsMonitored("1300000000000008888") {
		t.Fatal("a member of an unwatched guild became monitored")
	}
}

// recorder keeps the requests a test command received.
type recorder struct {
	mu   sync.Mutex
	reqs []core.CommandRequest
}

func (r *recorder) add(req core.CommandRequest) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.mu.Unlock()
}

func (r *recorder) all() []core.CommandRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reqs)
}

func TestBotCommands(t *testing.T) {
	sim := startSim(t, discordsim.Config{Members: 20, Guilds: 1})
	var rec recorder
	cmds := &core.Commands{}
	cmds.Register(
		core.Command{Name: "ping", Dialect: "test", Prefix: true, Handler: func(_ context.Context, req core.CommandRequest) core.CommandReply {
			rec.add(req)
			return core.CommandReply{Messages: []core.Message{
				{Content: "pong @everyone " + strings.Join(req.Args, "|")},
				{Embeds: []core.Embed{{Title: "@title", Description: "d", Color: 0x5865f2, Fields: []core.EmbedField{{Name: "n", Value: "@v"}}, Footer: "f"}}},
			}}
		}},
		core.Command{Name: "secret", Dialect: "test", Prefix: true, Handler: func(_ context.Context, req core.CommandRequest) core.CommandReply {
			return core.CommandReply{Messages: []core.Message{{Content: "check your DMs"}, {Content: "the secret", ToDM: true}}}
		}},
		core.Command{Name: "slow", Dialect: "test", Prefix: true, Handler: func(ctx context.Context, req core.CommandRequest) core.CommandReply {
			time.Sleep(2 * time.Second)
			return core.Reply("slow done")
		}},
		core.Command{Name: "presence", Dialect: "test", Slash: true, Description: "Show a presence",
			Options: []core.CommandOption{
				{Name: "show", Description: "show one", Type: core.OptionSubCommand, Options: []core.CommandOption{
					{Name: "user", Description: "who", Type: core.OptionUser, Required: true},
					{Name: "verbose", Description: "more", Type: core.OptionBoolean},
				}},
			},
			Handler: func(_ context.Context, req core.CommandRequest) core.CommandReply {
				rec.add(req)
				return core.CommandReply{Messages: []core.Message{
					{Content: "presence of <@" + req.Options["user"] + ">", Ephemeral: true},
					{Content: "dm copy", ToDM: true},
				}}
			}},
	)
	b, hub := startBot(t, sim, func(c *Config) { c.Commands = cmds })
	g := sim.GuildIDs()[0]
	uid := sim.MemberIDs(g)[3]
	waitFor(t, "the author to be monitored", func() bool { return hub.IsMonitored(uid) })

	// A slow command must not hold up the others or the gateway.
	if _, err := sim.SendDM(uid, ".slow"); err != nil {
		t.Fatal(err)
	}
	// DM prefix command: reply in the DM, mentions defused, embeds intact;
	// an unknown command and a message without the prefix get nothing.
	for _, msg := range []string{".nope", "ping", ".ping a  b"} {
		if _, err := sim.SendDM(uid, msg); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the DM replies", func() bool { return len(sim.DMMessages(uid)) >= 2 })
	msgs := sim.DMMessages(uid)
	if msgs[0].Content != "pong @\u200b\u200beveryone a||b" {
		t.Errorf("reply %q", msgs[0].Content)
	}
	var emb []map[string]any
	if err := json.Unmarshal(msgs[1].Embeds, &emb); err != nil || len(emb) != 1 || emb[0]["title"] != "@title" || emb[0]["color"] != float64(0x5865f2) {
		t.Errorf("embed %s", msgs[1].Embeds)
	}
	if got := rec.all(); len(got) != 1 || !got[0].InDM || !got[0].Monitored || got[0].UserID != uid || got[0].Prefix != "." ||
		!slices.Equal(got[0].Args, []string{"a", "", "b"}) {
		t.Errorf("request %+v", got)
	}
	waitFor(t, "the slow reply", func() bool { return len(sim.DMMessages(uid)) == 3 })

	// A guild command replies in the channel; ToDM goes to the DM.
	uid2 := sim.MemberIDs(g)[4]
	if err := sim.SendGuildMessage(g, uid2, ".secret"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the guild reply and the DM", func() bool {
		dm := sim.DMMessages(uid2)
		if len(dm) != 1 || dm[0].Content != "the secret" {
			return false
		}
		for _, m := range sim.Messages() {
			if m.RecipientID == "" && m.Content == "check your DMs" {
				return true
			}
		}
		return false
	})

	// Slash command: registered on READY, answered with callback type 4.
	waitFor(t, "the slash command registration", func() bool { return bytes.Contains(sim.Commands(), []byte(`"presence"`)) })
	target := sim.MemberIDs(g)[5]
	iid, err := sim.Interact(g, uid, "presence", json.RawMessage(`[{"name":"show","type":1,"options":[{"name":"user","type":6,"value":"`+target+`"},{"name":"verbose","type":5,"value":true}]}]`))
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		Type int `json:"type"`
		Data struct {
			Content string `json:"content"`
			Flags   int    `json:"flags"`
		} `json:"data"`
	}
	waitFor(t, "the interaction response", func() bool {
		raw, ok := sim.InteractionResponse(iid)
		return ok && json.Unmarshal(raw, &resp) == nil && resp.Type != 0
	})
	if resp.Type != 4 || resp.Data.Flags&64 == 0 || resp.Data.Content != "presence of <@\u200b\u200b"+target+">" {
		t.Errorf("interaction response %+v", resp)
	}
	waitFor(t, "the slash command's DM", func() bool {
		dm := sim.DMMessages(uid)
		return len(dm) == 4 && dm[3].Content == "dm copy"
	})
	got := rec.all()
	last := got[len(got)-1]
	if !last.Slash || last.SubCommand != "show" || last.Options["user"] != target || last.Options["verbose"] != "true" || last.InDM || last.GuildID != g {
		t.Errorf("slash request %+v", last)
	}
	if st := b.Stats(); st.CommandsHandled != 4 {
		t.Errorf("commands handled %d, want 4", st.CommandsHandled)
	}

	// SendDM for the dialects.
	if err := b.SendDM(context.Background(), uid2, core.Message{Content: "hi @you"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "SendDM", func() bool {
		dm := sim.DMMessages(uid2)
		return len(dm) == 2 && dm[1].Content == "hi @\u200b\u200byou"
	})
}

func TestBotReconnects(t *testing.T) {
	sim := startSim(t, discordsim.Config{Members: 200, Guilds: 2})
	b, hub := startBot(t, sim, nil)
	waitMirrors(t, sim, hub, true, nil)
	g0 := sim.GuildIDs()[0]

	for i, fault := range []struct {
		name  string
		apply func()
	}{
		{"drop", sim.DropConnections},
		{"op 7", sim.SendReconnect},
	} {
		before := b.Stats()
		fault.apply()
		// Changes while the bot is away (or about to be).
		members := sim.MemberIDs(g0)
		changed, gone := members[10+i], members[20+i]
		if err := sim.UpdatePresence(json.RawMessage(`{"user":{"id":"` + changed + `"},"status":"idle","client_status":{"web":"idle"},"activities":[{"name":"away ` + fault.name + `","type":0}]}`)); err != nil {
			t.Fatal(err)
		}
		if err := sim.RemoveMember(g0, gone); err != nil {
			t.Fatal(err)
		}
		sim.Churn(50)
		waitFor(t, fault.name+": reconnect", func() bool { return b.Stats().Reconnects > before.Reconnects && b.Ready() })
		waitMirrors(t, sim, hub, true, nil)
		if u, _ := hub.Get(changed); u == nil || u.Activities()[0].Name != "away "+fault.name {
			t.Fatalf("%s: presence changed while away not applied: %+v", fault.name, u)
		}
		if hub.IsMonitored(gone) && !slices.Contains(func() []string { tr, _ := sim.Truth(gone); return tr.Guilds }(), sim.GuildIDs()[1]) {
			t.Fatalf("%s: member removed while away still monitored", fault.name)
		}
		st := b.Stats()
		t.Logf("%s: %+v", fault.name, st)
		if st.Resumes+st.Identifies <= before.Resumes+before.Identifies {
			t.Errorf("%s: neither resumed nor identified: %+v", fault.name, st)
		}
	}
	if st := b.Stats(); st.DecodeErrors != 0 {
		t.Errorf("decode errors: %+v", st)
	}
}

func TestBotOpenBadToken(t *testing.T) {
	sim := startSim(t, discordsim.Config{Members: 5})
	hub := core.NewHub(core.HubOptions{})
	b, err := New(Config{Token: "wrong", GatewayURL: sim.GatewayURL(), RESTBase: sim.RESTURL(), Hub: hub, FastIdentify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := b.Open(ctx); err == nil || ctx.Err() != nil {
		t.Fatalf("Open with a bad token: %v (ctx %v)", err, ctx.Err())
	}
	if b.Ready() {
		t.Fatal("ready with a bad token")
	}
}
