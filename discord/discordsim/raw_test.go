package discordsim

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// frame is a server→client gateway frame as a test reads it.
type frame struct {
	Op int             `json:"op"`
	S  *int64          `json:"s"`
	T  *string         `json:"t"`
	D  json.RawMessage `json:"d"`
}

func (f frame) t() string {
	if f.T == nil {
		return ""
	}
	return *f.T
}

func newSim(t testing.TB, cfg Config) *Sim {
	t.Helper()
	if cfg.HeartbeatInterval == 0 {
		cfg.HeartbeatInterval = 500 * time.Millisecond
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func dial(t testing.TB, s *Sim) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial(s.GatewayURL()+"?v=9&encoding=json", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// startSession dials s, identifies with every intent and returns the
// connection and the session id its READY names.
func startSession(t testing.TB, s *Sim) (*websocket.Conn, string) {
	t.Helper()
	c := dial(t, s)
	readFrame(t, c)
	identify(t, c, s, allIntents)
	var rd struct {
		SessionID string `json:"session_id"`
	}
	_ = json.Unmarshal(readUntil(t, c, "READY").D, &rd)
	return c, rd.SessionID
}

func readFrame(t testing.TB, c *websocket.Conn) frame {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, data, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var f frame
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("bad frame %s: %v", data, err)
	}
	return f
}

// readUntil reads frames until one has dispatch type typ.
func readUntil(t testing.TB, c *websocket.Conn, typ string) frame {
	t.Helper()
	for {
		if f := readFrame(t, c); f.t() == typ {
			return f
		}
	}
}

func send(t testing.TB, c *websocket.Conn, v any) {
	t.Helper()
	b, ok := v.([]byte)
	if !ok {
		b, _ = json.Marshal(v)
	}
	if err := c.WriteMessage(websocket.TextMessage, b); err != nil {
		t.Fatal(err)
	}
}

func identify(t testing.TB, c *websocket.Conn, s *Sim, intents any) {
	t.Helper()
	send(t, c, map[string]any{"op": 2, "d": map[string]any{"token": "Bot " + s.Token(), "intents": intents,
		"properties": map[string]string{"os": "linux", "browser": "test", "device": "test"}, "large_threshold": 250}})
}

const allIntents = IntentGuilds | IntentGuildMembers | IntentGuildPresences | IntentGuildMessages | IntentDirectMessages | IntentMessageContent

// expectClose reads until the server closes and checks the close code.
func expectClose(t *testing.T, c *websocket.Conn, code int) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) {
			t.Fatalf("want close %d, got %v", code, err)
		}
		if ce.Code != code {
			t.Fatalf("close code = %d (%s), want %d", ce.Code, ce.Text, code)
		}
		return
	}
}

func TestHelloFirst(t *testing.T) {
	s := newSim(t, Config{})
	c := dial(t, s)
	f := readFrame(t, c)
	var d struct {
		HeartbeatInterval int `json:"heartbeat_interval"`
	}
	_ = json.Unmarshal(f.D, &d)
	if f.Op != 10 || d.HeartbeatInterval != 500 {
		t.Fatalf("first frame = op %d %s, want HELLO 500", f.Op, f.D)
	}
	send(t, c, map[string]any{"op": 1, "d": nil})
	if f := readFrame(t, c); f.Op != 11 {
		t.Fatalf("heartbeat answer op = %d", f.Op)
	}
	send(t, c, map[string]any{"op": 1, "d": 0})
	if f := readFrame(t, c); f.Op != 11 {
		t.Fatalf("heartbeat answer op = %d", f.Op)
	}
}

func TestCloseCodes(t *testing.T) {
	tests := []struct {
		name    string
		allowed uint64
		do      func(t *testing.T, c *websocket.Conn, s *Sim)
		code    int
	}{
		{"bad token", 0, func(t *testing.T, c *websocket.Conn, s *Sim) {
			send(t, c, map[string]any{"op": 2, "d": map[string]any{"token": "Bot wrong", "intents": 1}})
		}, 4004},
		{"null intents", 0, func(t *testing.T, c *websocket.Conn, s *Sim) { identify(t, c, s, nil) }, 4013},
		{"unknown intent bit", 0, func(t *testing.T, c *websocket.Conn, s *Sim) { identify(t, c, s, 1<<40) }, 4013},
		{"privileged not allowed", IntentGuildMembers, func(t *testing.T, c *websocket.Conn, s *Sim) {
			identify(t, c, s, IntentGuilds|IntentGuildPresences)
		}, 4014},
		{"op before identify", 0, func(t *testing.T, c *websocket.Conn, s *Sim) {
			send(t, c, map[string]any{"op": 8, "d": map[string]any{"guild_id": "1"}})
		}, 4003},
		{"bad json", 0, func(t *testing.T, c *websocket.Conn, s *Sim) { send(t, c, []byte(`{"op":`)) }, 4002},
		{"too large", 0, func(t *testing.T, c *websocket.Conn, s *Sim) {
			send(t, c, []byte(`{"op":1,"d":null,"x":"`+strings.Repeat("a", 5000)+`"}`))
		}, 4002},
		{"binary frame", 0, func(t *testing.T, c *websocket.Conn, s *Sim) {
			_ = c.WriteMessage(websocket.BinaryMessage, []byte(`{"op":1,"d":null}`))
		}, 4002},
		{"double identify", 0, func(t *testing.T, c *websocket.Conn, s *Sim) {
			identify(t, c, s, allIntents)
			readUntil(t, c, "READY")
			identify(t, c, s, allIntents)
		}, 4005},
		{"unknown op", 0, func(t *testing.T, c *websocket.Conn, s *Sim) {
			identify(t, c, s, allIntents)
			readUntil(t, c, "READY")
			send(t, c, map[string]any{"op": 99, "d": nil})
		}, 4001},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSim(t, Config{Members: 10, AllowedIntents: tt.allowed})
			c := dial(t, s)
			if f := readFrame(t, c); f.Op != 10 {
				t.Fatalf("first op = %d", f.Op)
			}
			tt.do(t, c, s)
			expectClose(t, c, tt.code)
		})
	}
}

func TestReadyAndGuildCreate(t *testing.T) {
	s := newSim(t, Config{Members: 120, Guilds: 2, Seed: 7})
	c := dial(t, s)
	readFrame(t, c)
	identify(t, c, s, allIntents)
	f := readFrame(t, c)
	if f.t() != "READY" || f.S == nil || *f.S != 1 {
		t.Fatalf("want READY s=1, got %s s=%v", f.t(), f.S)
	}
	var ready struct {
		V    int `json:"v"`
		User struct {
			ID            string `json:"id"`
			Bot           bool   `json:"bot"`
			Discriminator string `json:"discriminator"`
		} `json:"user"`
		Guilds []struct {
			ID          string `json:"id"`
			Unavailable bool   `json:"unavailable"`
		} `json:"guilds"`
		SessionID   string `json:"session_id"`
		ResumeURL   string `json:"resume_gateway_url"`
		Shard       []int  `json:"shard"`
		Application struct {
			ID string `json:"id"`
		} `json:"application"`
	}
	if err := json.Unmarshal(f.D, &ready); err != nil {
		t.Fatal(err)
	}
	if ready.V != 9 || !ready.User.Bot || len(ready.User.Discriminator) != 4 || ready.SessionID == "" ||
		ready.ResumeURL == "" || len(ready.Guilds) != 2 || !ready.Guilds[0].Unavailable ||
		ready.Application.ID != s.ApplicationID() || len(ready.Shard) != 2 {
		t.Fatalf("bad READY: %s", f.D)
	}
	for i := 0; i < 2; i++ {
		f := readFrame(t, c)
		if f.t() != "GUILD_CREATE" || *f.S != int64(2+i) {
			t.Fatalf("want GUILD_CREATE s=%d, got %s %v", 2+i, f.t(), f.S)
		}
		var g struct {
			ID    string `json:"id"`
			Roles []struct {
				Permissions json.RawMessage `json:"permissions"`
			} `json:"roles"`
			JoinedAt    string            `json:"joined_at"`
			MemberCount int               `json:"member_count"`
			Large       bool              `json:"large"`
			Members     []json.RawMessage `json:"members"`
			Presences   []map[string]any  `json:"presences"`
		}
		if err := json.Unmarshal(f.D, &g); err != nil {
			t.Fatal(err)
		}
		if _, err := time.Parse(time.RFC3339, g.JoinedAt); err != nil {
			t.Errorf("joined_at %q: %v", g.JoinedAt, err)
		}
		for _, r := range g.Roles {
			if r.Permissions[0] != '"' {
				t.Errorf("role permissions not a string: %s", r.Permissions)
			}
		}
		if g.MemberCount != len(s.MemberIDs(g.ID))+1 || len(g.Members) < 2 || len(g.Presences) == 0 {
			t.Errorf("guild %s: member_count %d, %d members, %d presences", g.ID, g.MemberCount, len(g.Members), len(g.Presences))
		}
		for _, p := range g.Presences {
			if _, ok := p["guild_id"]; ok {
				t.Fatal("GUILD_CREATE presence has guild_id")
			}
		}
	}
	ctxDone := make(chan struct{})
	go func() { _ = s.WaitReady(t.Context()); close(ctxDone) }()
	select {
	case <-ctxDone:
	case <-time.After(2 * time.Second):
		t.Fatal("WaitReady did not return")
	}
}

func TestPresenceUpdateDispatch(t *testing.T) {
	s := newSim(t, Config{Members: 50, Guilds: 3, Seed: 3})
	// A user in more than one guild gets one PRESENCE_UPDATE per shared guild.
	var uid string
	for _, id := range s.MemberIDs(s.GuildIDs()[0]) {
		if tr, _ := s.Truth(id); len(tr.Guilds) >= 2 {
			uid = id
			break
		}
	}
	if uid == "" {
		t.Fatal("no multi-guild user")
	}
	tr, _ := s.Truth(uid)
	c := dial(t, s)
	readFrame(t, c)
	identify(t, c, s, allIntents)
	for range 4 { // READY + 3 GUILD_CREATE
		readFrame(t, c)
	}
	err := s.UpdatePresence(json.RawMessage(`{"user":{"id":"` + uid + `"},"status":"dnd","activities":[{"name":"x","type":0,"created_at":1}],"client_status":{"desktop":"dnd"}}`))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for range tr.Guilds {
		f := readFrame(t, c)
		var p struct {
			GuildID string `json:"guild_id"`
			Status  string `json:"status"`
		}
		_ = json.Unmarshal(f.D, &p)
		if f.t() != "PRESENCE_UPDATE" || p.Status != "dnd" {
			t.Fatalf("got %s %s", f.t(), f.D)
		}
		got[p.GuildID] = true
	}
	if len(got) != len(tr.Guilds) {
		t.Fatalf("guilds %v, want %v", got, tr.Guilds)
	}
	if tr, _ := s.Truth(uid); tr.Status != "dnd" || tr.ClientStatus["desktop"] != "dnd" {
		t.Fatalf("truth not updated: %+v", tr)
	}
	for _, bad := range []string{`{`, `{"user":{"id":"1"}}`, `{"user":{"id":"` + uid + `"},"status":"invisible"}`, `{"status":"online"}`} {
		if err := s.UpdatePresence(json.RawMessage(bad)); err == nil {
			t.Errorf("UpdatePresence(%s) accepted", bad)
		}
	}
}

func TestResumeReplay(t *testing.T) {
	s := newSim(t, Config{Members: 20, Seed: 1})
	c := dial(t, s)
	readFrame(t, c)
	identify(t, c, s, allIntents)
	ready := readFrame(t, c)
	var rd struct {
		SessionID string `json:"session_id"`
	}
	_ = json.Unmarshal(ready.D, &rd)
	gc := readFrame(t, c)
	s.DropConnections()
	uid := s.MemberIDs(s.GuildIDs()[0])[3]
	if err := s.UpdatePresence(json.RawMessage(`{"user":{"id":"` + uid + `"},"status":"idle"}`)); err != nil {
		t.Fatal(err)
	}
	// Unknown session: op 9 false.
	c2 := dial(t, s)
	readFrame(t, c2)
	send(t, c2, map[string]any{"op": 6, "d": map[string]any{"token": "Bot " + s.Token(), "session_id": "nope", "seq": 1}})
	if f := readFrame(t, c2); f.Op != 9 || string(f.D) != "false" {
		t.Fatalf("unknown session: op %d %s", f.Op, f.D)
	}
	// Valid resume from the READY seq: replays GUILD_CREATE and the update.
	c3 := dial(t, s)
	readFrame(t, c3)
	send(t, c3, map[string]any{"op": 6, "d": map[string]any{"token": "Bot " + s.Token(), "session_id": rd.SessionID, "seq": 1}})
	if f := readFrame(t, c3); f.t() != "GUILD_CREATE" || *f.S != *gc.S {
		t.Fatalf("replay 1: %s %v", f.t(), f.S)
	}
	if f := readFrame(t, c3); f.t() != "PRESENCE_UPDATE" || *f.S != 3 {
		t.Fatalf("replay 2: %s %v", f.t(), f.S)
	}
	if f := readFrame(t, c3); f.t() != "RESUMED" || f.S == nil || *f.S != 4 {
		t.Fatalf("want RESUMED s=4, got %s %v", f.t(), f.S)
	}
	if st := s.Stats(); st.Resumes != 1 || st.Identifies != 1 {
		t.Fatalf("stats %+v", st)
	}
	// Seq ahead of the server: 4007.
	s.DropConnections()
	c4 := dial(t, s)
	readFrame(t, c4)
	send(t, c4, map[string]any{"op": 6, "d": map[string]any{"token": "Bot " + s.Token(), "session_id": rd.SessionID, "seq": 99}})
	expectClose(t, c4, 4007)
}

func TestSessionEndsOnNormalClose(t *testing.T) {
	s := newSim(t, Config{Members: 5})
	c := dial(t, s)
	readFrame(t, c)
	identify(t, c, s, allIntents)
	var rd struct {
		SessionID string `json:"session_id"`
	}
	_ = json.Unmarshal(readFrame(t, c).D, &rd)
	readFrame(t, c)
	_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""), time.Now().Add(time.Second))
	deadline := time.Now().Add(2 * time.Second)
	for s.Stats().ActiveConnections > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	c2 := dial(t, s)
	readFrame(t, c2)
	send(t, c2, map[string]any{"op": 6, "d": map[string]any{"token": "Bot " + s.Token(), "session_id": rd.SessionID, "seq": 2}})
	if f := readFrame(t, c2); f.Op != 9 {
		t.Fatalf("resume after close 1000: op %d", f.Op)
	}
}

func TestRequestGuildMembersChunks(t *testing.T) {
	s := newSim(t, Config{Members: 2500, Seed: 9, MemberRequestWindow: time.Minute})
	gid := s.GuildIDs()[0]
	c := dial(t, s)
	readFrame(t, c)
	identify(t, c, s, allIntents)
	readUntil(t, c, "GUILD_CREATE")
	send(t, c, map[string]any{"op": 8, "d": map[string]any{"guild_id": []string{gid}, "query": "", "limit": 0, "presences": true, "nonce": "n1"}})
	total := 0
	seen := map[string]bool{}
	for i := 0; i < 3; i++ {
		f := readFrame(t, c)
		var ch struct {
			Members []struct {
				User struct {
					ID string `json:"id"`
				} `json:"user"`
			} `json:"members"`
			ChunkIndex int               `json:"chunk_index"`
			ChunkCount int               `json:"chunk_count"`
			Nonce      string            `json:"nonce"`
			Presences  []json.RawMessage `json:"presences"`
		}
		_ = json.Unmarshal(f.D, &ch)
		if f.t() != "GUILD_MEMBERS_CHUNK" || ch.ChunkIndex != i || ch.ChunkCount != 3 || ch.Nonce != "n1" || len(ch.Members) > 1000 || len(ch.Presences) == 0 {
			t.Fatalf("chunk %d: %s idx=%d count=%d nonce=%q members=%d", i, f.t(), ch.ChunkIndex, ch.ChunkCount, ch.Nonce, len(ch.Members))
		}
		for _, m := range ch.Members {
			seen[m.User.ID] = true
		}
		total += len(ch.Members)
	}
	// Every member, the bot included: GUILD_CREATE counts it in
	// member_count, and so does Discord's full member list.
	if total != 2501 || len(seen) != 2501 || !seen[s.BotUserID()] {
		t.Fatalf("got %d members (%d distinct, bot included: %v)", total, len(seen), seen[s.BotUserID()])
	}
	// Second all-members request inside the window: RATE_LIMITED.
	send(t, c, map[string]any{"op": 8, "d": map[string]any{"guild_id": gid, "query": "", "limit": 0, "presences": false}})
	if f := readFrame(t, c); f.t() != "RATE_LIMITED" {
		t.Fatalf("want RATE_LIMITED, got %s", f.t())
	}
	// user_ids: found + not_found as strings.
	known := s.MemberIDs(gid)[10]
	send(t, c, map[string]any{"op": 8, "d": map[string]any{"guild_id": gid, "user_ids": []any{known, "1234567890123"}, "presences": true}})
	f := readFrame(t, c)
	var ch struct {
		Members  []json.RawMessage `json:"members"`
		NotFound []string          `json:"not_found"`
	}
	if err := json.Unmarshal(f.D, &ch); err != nil {
		t.Fatal(err)
	}
	if len(ch.Members) != 1 || len(ch.NotFound) != 1 || ch.NotFound[0] != "1234567890123" {
		t.Fatalf("user_ids chunk: %s", f.D)
	}
}
