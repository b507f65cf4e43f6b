package discordsim

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/diamondburned/arikawa/v3/api"
	"github.com/diamondburned/arikawa/v3/discord"
	"github.com/diamondburned/arikawa/v3/gateway"
	arisession "github.com/diamondburned/arikawa/v3/session"
	"github.com/diamondburned/arikawa/v3/utils/handler"
	"github.com/diamondburned/arikawa/v3/utils/httputil"
	"github.com/diamondburned/arikawa/v3/utils/httputil/httpdriver"
	"github.com/diamondburned/arikawa/v3/utils/json/option"
)

// rewriteRT sends every request to the simulator (docs/compat/discord.md §2.3).
type rewriteRT struct{ host string }

func (rt rewriteRT) RoundTrip(r *http.Request) (*http.Response, error) {
	r2 := r.Clone(r.Context())
	r2.URL.Scheme, r2.URL.Host, r2.Host = "http", rt.host, rt.host
	return http.DefaultTransport.RoundTrip(r2)
}

// arikawaSession builds an unopened arikawa session pointed at s.
func arikawaSession(s *Sim) *arisession.Session {
	id := gateway.DefaultIdentifier("Bot " + s.Token())
	id.AddIntents(gateway.IntentGuilds | gateway.IntentGuildMembers | gateway.IntentGuildPresences |
		gateway.IntentGuildMessages | gateway.IntentDirectMessages | gateway.IntentMessageContent)
	id.LargeThreshold = 250
	id.IdentifyShortLimit = nil
	g := gateway.NewCustomWithIdentifier(gateway.AddGatewayParams(s.GatewayURL()), id, nil)
	sess := arisession.NewWithGateway(g, handler.New())
	hc := httputil.NewClient()
	hc.Client = httpdriver.WrapClient(http.Client{Transport: rewriteRT{host: strings.TrimPrefix(s.RESTURL(), "http://")}})
	sess.Client = api.NewCustomClient("Bot "+s.Token(), hc)
	return sess
}

// events collects arikawa events in order (sync handler, docs/compat/discord.md §2.4).
type events chan any

func (ev events) next(t *testing.T, match func(any) bool, what string) any {
	t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case e := <-ev:
			if match(e) {
				return e
			}
		case <-timeout:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestArikawaEndToEnd(t *testing.T) {
	s := newSim(t, Config{Members: 40, Guilds: 2, Seed: 42})
	sess := arikawaSession(s)
	ev := make(events, 10000)
	sess.AddSyncHandler(func(e any) {
		select {
		case ev <- e:
		default:
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sess.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	start := time.Now()

	guilds := 0
	ev.next(t, func(e any) bool {
		if g, ok := e.(*gateway.GuildCreateEvent); ok {
			guilds++
			if len(g.Members) < 2 || len(g.Presences) == 0 {
				t.Errorf("GUILD_CREATE %s: %d members %d presences", g.ID, len(g.Members), len(g.Presences))
			}
		}
		return guilds == 2
	}, "2 GUILD_CREATEs")
	if err := s.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}

	gid := s.GuildIDs()[0]
	members := s.MemberIDs(gid)
	uid, other := members[5], members[6]

	// PRESENCE_UPDATE driven by the test, with a Spotify activity.
	p := `{"user":{"id":"` + uid + `"},"guild_id":"` + gid + `","status":"online","client_status":{"mobile":"online"},"activities":[` +
		`{"id":"spotify:1","name":"Spotify","type":2,"flags":48,"created_at":1767268800000,"sync_id":"4cOdK2wGLETKBW3PvgPWqT",` +
		`"details":"Never Gonna Give You Up","state":"Rick Astley","timestamps":{"start":1767268790000,"end":1767269003000},` +
		`"assets":{"large_image":"spotify:ab67616d0000b27315ebbedaacef61af244262a8","large_text":"Whenever You Need Somebody"}}]}`
	if err := s.UpdatePresence(json.RawMessage(p)); err != nil {
		t.Fatal(err)
	}
	pu := ev.next(t, func(e any) bool {
		pu, ok := e.(*gateway.PresenceUpdateEvent)
		return ok && pu.User.ID.String() == uid
	}, "PRESENCE_UPDATE").(*gateway.PresenceUpdateEvent)
	if pu.Status != discord.OnlineStatus || len(pu.Activities) != 1 || pu.Activities[0].SyncID != "4cOdK2wGLETKBW3PvgPWqT" {
		t.Fatalf("presence: %+v", pu)
	}

	// DM prefix command and reply.
	dm, err := s.SendDM(uid, ".get")
	if err != nil {
		t.Fatal(err)
	}
	mc := ev.next(t, func(e any) bool {
		m, ok := e.(*gateway.MessageCreateEvent)
		return ok && m.Author.ID.String() == uid
	}, "DM MESSAGE_CREATE").(*gateway.MessageCreateEvent)
	if mc.Content != ".get" || mc.ChannelID.String() != dm || mc.GuildID.IsValid() {
		t.Fatalf("DM: %+v", mc.Message)
	}
	sent, err := sess.SendMessage(mc.ChannelID, "pong")
	if err != nil {
		t.Fatal(err)
	}
	if sent.Content != "pong" || !sent.Author.Bot || sent.Timestamp.Time().IsZero() {
		t.Fatalf("sent: %+v", sent)
	}
	echo := ev.next(t, func(e any) bool {
		m, ok := e.(*gateway.MessageCreateEvent)
		return ok && m.Author.Bot
	}, "bot echo").(*gateway.MessageCreateEvent)
	if echo.Content != "pong" {
		t.Fatalf("echo: %+v", echo.Message)
	}
	if got := s.DMMessages(uid); len(got) != 1 || got[0].Content != "pong" || got[0].ChannelID != dm {
		t.Fatalf("DMMessages: %+v", got)
	}
	ch, err := sess.CreatePrivateChannel(discord.UserID(mustSnowflake(t, uid)))
	if err != nil || ch.ID.String() != dm {
		t.Fatalf("CreatePrivateChannel: %v %v, want %s", ch, err, dm)
	}

	// REST reads decode.
	app, err := sess.CurrentApplication() // double-slash path
	if err != nil || app.ID.String() != s.ApplicationID() {
		t.Fatalf("CurrentApplication: %v %v", app, err)
	}
	if me, err := sess.Me(); err != nil || !me.Bot {
		t.Fatalf("Me: %v %v", me, err)
	}
	if u, err := sess.User(discord.UserID(mustSnowflake(t, other))); err != nil || u.ID.String() != other {
		t.Fatalf("User: %v %v", u, err)
	}
	gID := discord.GuildID(mustSnowflake(t, gid))
	if m, err := sess.Member(gID, discord.UserID(mustSnowflake(t, other))); err != nil || m.User.ID.String() != other {
		t.Fatalf("Member: %v %v", m, err)
	}
	if ms, err := sess.MembersAfter(gID, 0, 25); err != nil || len(ms) != 25 || ms[0].User.ID.String() != members[0] {
		t.Fatalf("MembersAfter: %d %v", len(ms), err)
	}
	if g, err := sess.Guild(gID); err != nil || g.ID != gID || len(g.Roles) == 0 {
		t.Fatalf("Guild: %v %v", g, err)
	}

	// Slash command: register, run, answer.
	cmds, err := sess.BulkOverwriteCommands(app.ID, []api.CreateCommandData{{
		Name: "presence", Description: "Show a presence",
		Options: discord.CommandOptions{&discord.UserOption{OptionName: "user", Description: "who", Required: true}},
	}})
	if err != nil || len(cmds) != 1 || !cmds[0].ID.IsValid() {
		t.Fatalf("BulkOverwriteCommands: %v %v", cmds, err)
	}
	if !strings.Contains(string(s.Commands()), `"presence"`) {
		t.Fatalf("Commands: %s", s.Commands())
	}
	iid, err := s.Interact(gid, uid, "presence", json.RawMessage(`[{"name":"user","type":6,"value":"`+other+`"}]`))
	if err != nil {
		t.Fatal(err)
	}
	ic := ev.next(t, func(e any) bool { _, ok := e.(*gateway.InteractionCreateEvent); return ok }, "INTERACTION_CREATE").(*gateway.InteractionCreateEvent)
	if ic.ID.String() != iid || ic.Sender() == nil || ic.Sender().ID.String() != uid {
		t.Fatalf("interaction: %+v", ic)
	}
	if _, ok := ic.Data.(*discord.CommandInteraction); !ok {
		t.Fatalf("interaction data %T", ic.Data)
	}
	err = sess.RespondInteraction(ic.ID, ic.Token, api.InteractionResponse{Type: api.MessageInteractionWithSource,
		Data: &api.InteractionResponseData{Content: option.NewNullableString("online"), Flags: discord.EphemeralMessage}})
	if err != nil {
		t.Fatal(err)
	}
	resp, ok := s.InteractionResponse(iid)
	if !ok || !strings.Contains(string(resp), `"online"`) {
		t.Fatalf("InteractionResponse: %s %v", resp, ok)
	}
	if err := sess.RespondInteraction(ic.ID, ic.Token, api.InteractionResponse{Type: api.DeferredMessageInteractionWithSource}); err == nil {
		t.Fatal("second callback accepted")
	}

	// Drop: arikawa RESUMEs (after its 5 s dial limiter) and gets what was sent meanwhile.
	s.DropConnections()
	if err := s.UpdatePresence(json.RawMessage(`{"user":{"id":"` + other + `"},"status":"dnd"}`)); err != nil {
		t.Fatal(err)
	}
	ev.next(t, func(e any) bool {
		pu, ok := e.(*gateway.PresenceUpdateEvent)
		return ok && pu.User.ID.String() == other && pu.Status == discord.DoNotDisturbStatus
	}, "PRESENCE_UPDATE after resume")
	ev.next(t, func(e any) bool { _, ok := e.(*gateway.ResumedEvent); return ok }, "RESUMED")
	if st := s.Stats(); st.Resumes != 1 || st.Identifies != 1 {
		t.Fatalf("after drop: %+v", st)
	}

	// Op 9 false: arikawa drops, redials and IDENTIFYs afresh.
	s.SendInvalidSession(false)
	ev.next(t, func(e any) bool { _, ok := e.(*gateway.ReadyEvent); return ok }, "READY after op 9")
	if st := s.Stats(); st.Identifies != 2 {
		t.Fatalf("after op 9: %+v", st)
	}
	t.Logf("scenario took %v; stats %+v", time.Since(start), s.Stats())
}

func mustSnowflake(t *testing.T, s string) discord.Snowflake {
	t.Helper()
	sf, err := discord.ParseSnowflake(s)
	if err != nil {
		t.Fatal(err)
	}
	return sf
}
