package discordsim

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// These tests hold the simulator to what Discord does where a client
// other than arikawa would notice (issue 13, item 6).

type memberList []struct {
	User struct {
		ID       string `json:"id"`
		Username string `json:"username"`
	} `json:"user"`
	JoinedAt string `json:"joined_at"`
}

func (l memberList) ids() []string {
	out := make([]string, len(l))
	for i, m := range l {
		out[i] = m.User.ID
	}
	return out
}

// The bot is a member like any other: GUILD_CREATE counts it, so every
// full member list names it too.
func TestBotInFullMemberLists(t *testing.T) {
	s := newSim(t, Config{Members: 30, Seed: 3})
	gid := s.GuildIDs()[0]
	bot := s.BotUserID()

	c := dial(t, s)
	readFrame(t, c)
	identify(t, c, s, allIntents)
	gc := readUntil(t, c, "GUILD_CREATE")
	var g struct {
		MemberCount int        `json:"member_count"`
		Members     memberList `json:"members"`
	}
	if err := json.Unmarshal(gc.D, &g); err != nil {
		t.Fatal(err)
	}
	if g.MemberCount != 31 || !slices.Contains(g.Members.ids(), bot) {
		t.Fatalf("GUILD_CREATE: member_count %d, bot among members: %v", g.MemberCount, slices.Contains(g.Members.ids(), bot))
	}

	send(t, c, map[string]any{"op": 8, "d": map[string]any{"guild_id": gid, "query": "", "limit": 0}})
	var chunk struct {
		Members memberList `json:"members"`
	}
	if err := json.Unmarshal(readUntil(t, c, "GUILD_MEMBERS_CHUNK").D, &chunk); err != nil {
		t.Fatal(err)
	}
	if len(chunk.Members) != g.MemberCount || !slices.Contains(chunk.Members.ids(), bot) {
		t.Fatalf("op 8 all members: %d members (member_count %d), bot included: %v", len(chunk.Members), g.MemberCount, slices.Contains(chunk.Members.ids(), bot))
	}

	status, body := restDo(t, s, "GET", "/api/v10/guilds/"+gid+"/members?limit=1000", "Bot "+s.Token(), "")
	var rest memberList
	if err := json.Unmarshal([]byte(body), &rest); status != 200 || err != nil {
		t.Fatalf("GET members: %d %s", status, body)
	}
	if len(rest) != g.MemberCount || !slices.Contains(rest.ids(), bot) {
		t.Fatalf("GET members: %d members, bot included: %v", len(rest), slices.Contains(rest.ids(), bot))
	}
	if !slices.IsSortedFunc(rest.ids(), func(a, b string) int { return cmpID(mustID(a), mustID(b)) }) {
		t.Fatal("GET members is not in ascending id order")
	}
	// Paging with after= walks through the bot like anyone else.
	var paged []string
	after := "0"
	for {
		_, body := restDo(t, s, "GET", "/api/v10/guilds/"+gid+"/members?limit=7&after="+after, "Bot "+s.Token(), "")
		var page memberList
		if err := json.Unmarshal([]byte(body), &page); err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		paged = append(paged, page.ids()...)
		after = page[len(page)-1].User.ID
	}
	if !slices.Equal(paged, rest.ids()) {
		t.Fatalf("paged members %v, want %v", paged, rest.ids())
	}
}

// Discord sends data.guild_id only for a guild-registered command; a
// global command run in a guild carries the guild at the top level only.
func TestInteractionGuildIDOnlyForGuildCommands(t *testing.T) {
	s := newSim(t, Config{Members: 5})
	gid := s.GuildIDs()[0]
	app := s.ApplicationID()
	bot := "Bot " + s.Token()
	if st, b := restDo(t, s, "POST", "/api/v10/applications/"+app+"/commands", bot, `{"name":"global","description":"d"}`); st != 201 {
		t.Fatalf("register global: %d %s", st, b)
	}
	if st, b := restDo(t, s, "POST", "/api/v10/applications/"+app+"/guilds/"+gid+"/commands", bot, `{"name":"local","description":"d"}`); st != 201 {
		t.Fatalf("register guild command: %d %s", st, b)
	}
	c := dial(t, s)
	readFrame(t, c)
	identify(t, c, s, allIntents)
	readUntil(t, c, "GUILD_CREATE")
	user := s.MemberIDs(gid)[0]
	type interactionData struct {
		GuildID string `json:"guild_id"`
		Data    struct {
			Name    string  `json:"name"`
			GuildID *string `json:"guild_id"`
		} `json:"data"`
	}
	run := func(guild, name string) interactionData {
		t.Helper()
		if _, err := s.Interact(guild, user, name, nil); err != nil {
			t.Fatal(err)
		}
		var in interactionData
		if err := json.Unmarshal(readUntil(t, c, "INTERACTION_CREATE").D, &in); err != nil || in.Data.Name != name {
			t.Fatalf("INTERACTION_CREATE for %s: %v %+v", name, err, in)
		}
		return in
	}
	if in := run(gid, "global"); in.GuildID != gid || in.Data.GuildID != nil {
		t.Errorf("global command in a guild: guild_id %q, data.guild_id %v (want absent)", in.GuildID, in.Data.GuildID)
	}
	if in := run(gid, "local"); in.GuildID != gid || in.Data.GuildID == nil || *in.Data.GuildID != gid {
		t.Errorf("guild command: guild_id %q, data.guild_id %v (want %s)", in.GuildID, in.Data.GuildID, gid)
	}
	if in := run("", "global"); in.GuildID != "" || in.Data.GuildID != nil {
		t.Errorf("global command in a DM: guild_id %q, data.guild_id %v", in.GuildID, in.Data.GuildID)
	}
}

// READY's v is the gateway version the client asked for; a version
// Discord does not serve is refused with 4012.
func TestReadyVersionFollowsURL(t *testing.T) {
	s := newSim(t, Config{Members: 1})
	for _, tc := range []struct {
		query string
		want  int
	}{{"?v=10&encoding=json", 10}, {"?v=9&encoding=json", 9}, {"?encoding=json", 9}} {
		c, _, err := websocket.DefaultDialer.Dial(s.GatewayURL()+tc.query, nil)
		if err != nil {
			t.Fatal(err)
		}
		readFrame(t, c)
		identify(t, c, s, allIntents)
		var ready struct {
			V int `json:"v"`
		}
		if err := json.Unmarshal(readUntil(t, c, "READY").D, &ready); err != nil || ready.V != tc.want {
			t.Errorf("%s: READY v = %d (%v), want %d", tc.query, ready.V, err, tc.want)
		}
		_ = c.Close()
	}
	c, _, err := websocket.DefaultDialer.Dial(s.GatewayURL()+"?v=5&encoding=json", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	expectClose(t, c, 4012)
}

// Every REST answer carries its bucket's X-RateLimit-* headers, counting
// down; past the limit Discord answers 429 with retry_after.
func TestRESTRateLimitHeaders(t *testing.T) {
	s := newSim(t, Config{Members: 3, RESTBucketLimit: 3, RESTBucketWindow: time.Minute})
	gid := s.GuildIDs()[0]
	get := func(path string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", s.RESTURL()+path, nil)
		req.Header.Set("Authorization", "Bot "+s.Token())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	path := "/api/v10/guilds/" + gid + "/members/" + s.MemberIDs(gid)[0]
	var bucket string
	for i := range 3 {
		resp := get(path)
		resp.Body.Close()
		h := resp.Header
		if resp.StatusCode != 200 || h.Get("X-RateLimit-Limit") != "3" || h.Get("X-RateLimit-Remaining") != strconv.Itoa(2-i) {
			t.Fatalf("request %d: %d limit %q remaining %q", i, resp.StatusCode, h.Get("X-RateLimit-Limit"), h.Get("X-RateLimit-Remaining"))
		}
		reset, err1 := strconv.ParseFloat(h.Get("X-RateLimit-Reset"), 64)
		after, err2 := strconv.ParseFloat(h.Get("X-RateLimit-Reset-After"), 64)
		if err1 != nil || err2 != nil || after <= 0 || after > 60 || reset < float64(time.Now().Unix()) {
			t.Fatalf("request %d: reset %q reset-after %q", i, h.Get("X-RateLimit-Reset"), h.Get("X-RateLimit-Reset-After"))
		}
		if bucket = h.Get("X-RateLimit-Bucket"); bucket == "" {
			t.Fatal("no X-RateLimit-Bucket")
		}
	}
	// Another member of the same guild is the same bucket (ids are not
	// part of the route), already exhausted.
	resp := get("/api/v10/guilds/" + gid + "/members/" + s.MemberIDs(gid)[1])
	var body struct {
		Message    string   `json:"message"`
		RetryAfter *float64 `json:"retry_after"`
		Global     *bool    `json:"global"`
	}
	err := json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != 429 || err != nil || body.RetryAfter == nil || *body.RetryAfter <= 0 || body.Global == nil || *body.Global ||
		resp.Header.Get("X-RateLimit-Bucket") != bucket || resp.Header.Get("X-RateLimit-Remaining") != "0" || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("over the limit: %d %+v %v headers %v", resp.StatusCode, body, err, resp.Header)
	}
	// Another route has its own bucket.
	resp = get("/api/v10/guilds/" + gid + "/roles")
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-RateLimit-Bucket") == bucket || resp.Header.Get("X-RateLimit-Remaining") != "2" {
		t.Fatalf("roles: %d bucket %q remaining %q", resp.StatusCode, resp.Header.Get("X-RateLimit-Bucket"), resp.Header.Get("X-RateLimit-Remaining"))
	}
}

// The read routes a bot commonly calls answer as Discord does, and
// /members/search is search, not a member called "search".
func TestRESTCommonReadRoutes(t *testing.T) {
	s := newSim(t, Config{Members: 40, Guilds: 2, Seed: 7})
	gid := s.GuildIDs()[0]
	bot := "Bot " + s.Token()
	get := func(path string, v any) {
		t.Helper()
		status, body := restDo(t, s, "GET", path, bot, "")
		if status != 200 {
			t.Fatalf("GET %s: %d %s", path, status, body)
		}
		if err := json.Unmarshal([]byte(body), v); err != nil {
			t.Fatalf("GET %s: %v %s", path, err, body)
		}
	}

	var channels []struct {
		ID, GuildID string
		Type        int
	}
	get("/api/v10/guilds/"+gid+"/channels", &channels)
	if len(channels) != 1 || channels[0].Type != 0 {
		t.Fatalf("channels: %+v", channels)
	}
	var roles []struct {
		ID, Name string
	}
	get("/api/v10/guilds/"+gid+"/roles", &roles)
	if len(roles) != 4 || roles[0].ID != gid || roles[0].Name != "@everyone" {
		t.Fatalf("roles: %+v", roles)
	}
	var guilds []struct {
		ID, Name                 string
		Permissions              string `json:"permissions"`
		ApproximateMemberCount   int    `json:"approximate_member_count"`
		ApproximatePresenceCount *int   `json:"approximate_presence_count"`
	}
	get("/api/v10/users/@me/guilds?with_counts=true", &guilds)
	if len(guilds) != 2 || guilds[0].Permissions == "" || guilds[0].ApproximatePresenceCount == nil {
		t.Fatalf("my guilds: %+v", guilds)
	}
	for _, g := range guilds {
		if g.ID == gid && g.ApproximateMemberCount != 41 {
			t.Fatalf("guild %s approximate_member_count %d, want 41 (bot included)", g.ID, g.ApproximateMemberCount)
		}
	}
	var page []struct{ ID string }
	get("/api/v10/users/@me/guilds?limit=1", &page)
	if len(page) != 1 {
		t.Fatalf("limit=1: %+v", page)
	}

	// Channel history: newest first, with before/limit.
	ids := s.MemberIDs(gid)
	for i := range 3 {
		if err := s.SendGuildMessage(gid, ids[i], "hello "+strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	var msgs []struct {
		ID, Content string
		Author      struct{ ID string }
	}
	get("/api/v10/channels/"+channels[0].ID+"/messages", &msgs)
	if len(msgs) != 3 || msgs[0].Content != "hello 2" || msgs[2].Content != "hello 0" || msgs[2].Author.ID != ids[0] {
		t.Fatalf("messages: %+v", msgs)
	}
	var older []struct{ Content string }
	get("/api/v10/channels/"+channels[0].ID+"/messages?limit=1&before="+msgs[0].ID, &older)
	if len(older) != 1 || older[0].Content != "hello 1" {
		t.Fatalf("before: %+v", older)
	}
	var newer []struct{ Content string }
	get("/api/v10/channels/"+channels[0].ID+"/messages?after="+msgs[2].ID, &newer)
	if len(newer) != 2 || newer[0].Content != "hello 2" {
		t.Fatalf("after: %+v", newer)
	}
	if st, _ := restDo(t, s, "GET", "/api/v10/channels/1/messages", bot, ""); st != 404 {
		t.Fatalf("unknown channel: %d", st)
	}

	// Member search: by username prefix, case-insensitive, limit default 1.
	var one memberList
	get("/api/v10/guilds/"+gid+"/members/search?query=HALYARD", &one)
	if len(one) != 1 || one[0].User.ID != s.BotUserID() {
		t.Fatalf("search for the bot: %+v", one)
	}
	want := 0
	prefix := ""
	for _, id := range ids {
		tr, _ := s.Truth(id)
		var u struct{ Username string }
		_ = json.Unmarshal(tr.User, &u)
		if prefix == "" {
			prefix = u.Username[:3]
		}
		if strings.HasPrefix(u.Username, prefix) {
			want++
		}
	}
	var found memberList
	get("/api/v10/guilds/"+gid+"/members/search?query="+prefix+"&limit=1000", &found)
	if len(found) < want || len(found) == 0 {
		t.Fatalf("search %q: %d members, want at least %d", prefix, len(found), want)
	}
	for _, m := range found {
		if !strings.HasPrefix(m.User.Username, prefix) {
			// A nickname may match instead; the sim's nicknames are
			// capitalised words, never a username prefix.
			t.Fatalf("search %q found %s", prefix, m.User.Username)
		}
	}
	if st, b := restDo(t, s, "GET", "/api/v10/guilds/"+gid+"/members/search", bot, ""); st != 400 || !strings.Contains(b, "50035") {
		t.Fatalf("search without query: %d %s", st, b)
	}
}

// Members' joined_at is realistic: after the account and the guild were
// created, not in the future, and the same when the simulator restarts
// (its BaseTime then moves on), as a member's join time on Discord does.
func TestJoinedAtRealistic(t *testing.T) {
	a := newSim(t, Config{Members: 300, Guilds: 2, Seed: 4})
	b := newSim(t, Config{Members: 300, Guilds: 2, Seed: 4, BaseTime: time.Now().Add(72 * time.Hour)})
	ta, tb := a.AllTruth(), b.AllTruth()
	distinct := map[time.Time]bool{}
	for id, tr := range ta {
		created := snowflakeTime(mustID(id))
		if tr.JoinedAt.IsZero() || tr.JoinedAt.Before(created) || tr.JoinedAt.After(time.Now()) {
			t.Fatalf("%s joined at %v (account created %v)", id, tr.JoinedAt, created)
		}
		first := time.Now() // the oldest of the user's guilds
		for _, g := range tr.Guilds {
			if gc := snowflakeTime(mustID(g)); gc.Before(first) {
				first = gc
			}
		}
		if tr.JoinedAt.Before(first) {
			t.Fatalf("%s joined at %v, before any of its guilds existed (%v)", id, tr.JoinedAt, first)
		}
		if !tb[id].JoinedAt.Equal(tr.JoinedAt) {
			t.Fatalf("%s joined at %v, after a restart %v", id, tr.JoinedAt, tb[id].JoinedAt)
		}
		distinct[tr.JoinedAt] = true
	}
	if len(distinct) < 290 {
		t.Fatalf("only %d distinct join times for %d members", len(distinct), len(ta))
	}
}
