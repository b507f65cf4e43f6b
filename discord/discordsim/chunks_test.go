package discordsim

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// awkward are strings encoding/json escapes in every way it has: HTML
// characters, quotes, backslashes, control characters, U+2028/U+2029,
// invalid UTF-8, and plain multi-byte UTF-8 it leaves alone.
var awkward = []string{"", "plain", `<b>&"quoted"\</b>`, "tab\there\nnew\rline\b\f\x01\x1f", "line\u2028sep\u2029", "bad\xffutf8\xc3", "emoji 🚢 ☕ é", "\"Awaken, My Love!\""}

// TestAppendersMatchMarshal: the hand-written encoders give json.Marshal's
// bytes for every generated user, member and activity list, and for
// values with awkward strings in every string field.
func TestAppendersMatchMarshal(t *testing.T) {
	s := newSim(t, Config{Members: 3000, Guilds: 3, Seed: 21, BaseTime: base})
	p := s.pop
	same := func(what string, got []byte, v any) {
		t.Helper()
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s:\n got %s\nwant %s", what, got, want)
		}
	}
	for i := 0; i < p.n; i++ {
		u := p.genUserObject(i)
		same("user "+strconv.Itoa(i), appendUser(nil, &u), u)
		for _, g := range p.guilds {
			m := p.genMemberObject(g, i)
			same("member fields "+strconv.Itoa(i), p.genMemberFields(g, i), m)
		}
		rng := rand.New(rand.NewPCG(uint64(i), 7))
		acts := randomActivityList(rng, p.userID(i), base)
		same("activities "+strconv.Itoa(i), appendActivities(nil, acts), acts)
	}
	alphabet := []string{"a", "Z", " ", `"`, `\`, "<", ">", "&", "\x00", "\x1f", "\x7f", "\n", "é", "🚢", "\u2028", "\u2029", "\xff", "\xc3", "\xe2\x80"}
	rng := rand.New(rand.NewPCG(9, 9))
	for k := 0; k < 20000; k++ {
		var sb []byte
		for n := rng.IntN(12); n > 0; n-- {
			sb = append(sb, alphabet[rng.IntN(len(alphabet))]...)
		}
		same("random string", appendJSONString([]byte("prefix"), string(sb))[len("prefix"):], string(sb))
	}
	for _, str := range awkward {
		same("string", appendJSONString(nil, str), str)
		sp := &str
		u := userObject{ID: str, Username: str, Discriminator: str, GlobalName: sp, Avatar: sp, Bot: true, Banner: sp,
			AccentColor: new(int), AvatarDecorationData: &decoration{Asset: str, SkuID: str, ExpiresAt: new(int64)},
			PrimaryGuild: &guildTag{IdentityGuildID: sp, Tag: sp}, Clan: &guildTag{}}
		same("user", appendUser(nil, &u), u)
		m := memberFields{Nick: sp, Avatar: sp, Banner: sp, Roles: []string{str, str}, JoinedAt: str, PremiumSince: sp,
			Deaf: true, Mute: true, Flags: 3, Pending: true, CommunicationDisabledUntil: sp, UnusualDMActivityUntil: sp}
		same("member", append(appendMemberFields([]byte{'{'}, &m), '}'), m)
		acts := []activity{
			{ID: str, Name: str, URL: str, Timestamps: &actTimestamps{End: 5}, ApplicationID: str, Details: str, State: str,
				Emoji: &actEmoji{Name: str, ID: str, Animated: true}, Party: &actParty{Size: []int{1, 2}},
				Assets: &actAssets{SmallText: str}, SyncID: str, SessionID: str, Flags: 1, Buttons: []string{str}, Platform: str},
			{Name: str, Timestamps: &actTimestamps{}, Party: &actParty{ID: str}, Assets: &actAssets{}},
		}
		same("activities", appendActivities(nil, acts), acts)
	}
	offline := 0
	for i := 0; i < p.n; i++ {
		d := p.genPresenceDraw(i)
		if d.status == "offline" {
			offline++
			continue
		}
		uid := p.userID(i)
		want := s.presenceJSON(uid, p.genPresence(i), 0, nil)
		if got := appendPresenceDraw(nil, uid, &d); !bytes.Equal(got, want) {
			t.Fatalf("presence %d:\n got %s\nwant %s", i, got, want)
		}
	}
	if offline == 0 || offline == p.n {
		t.Fatalf("%d of %d offline", offline, p.n)
	}
}

// oldChunkPayloads is how the simulator encoded a GUILD_MEMBERS_CHUNK
// before it wrote them directly: json.Marshal of a map holding the
// members and presences as json.RawMessage. Kept as the reference.
func oldChunkPayloads(s *Sim, g *guild, ids []uint64, notFound []string, withPresences bool, nonce string) [][]byte {
	var out [][]byte
	count := max(1, (len(ids)+chunkSize-1)/chunkSize)
	for ci := 0; ci < count; ci++ {
		part := ids[min(ci*chunkSize, len(ids)):min((ci+1)*chunkSize, len(ids))]
		members := make([]json.RawMessage, 0, len(part))
		var presences []json.RawMessage
		if withPresences {
			presences = []json.RawMessage{}
		}
		for _, id := range part {
			m, ok := s.pop.member(g, id)
			if !ok {
				continue
			}
			members = append(members, m)
			if withPresences {
				if pr := s.pop.presenceOf(id); pr.Status != "offline" {
					presences = append(presences, s.presenceJSON(id, pr, 0, nil))
				}
			}
		}
		chunk := map[string]any{"guild_id": fmtID(g.id), "members": members, "chunk_index": ci, "chunk_count": count}
		if ci == 0 && notFound != nil {
			chunk["not_found"] = notFound
		}
		if presences != nil {
			chunk["presences"] = presences
		}
		if nonce != "" {
			chunk["nonce"] = nonce
		}
		b, _ := json.Marshal(chunk)
		out = append(out, b)
	}
	return out
}

// TestChunksMatchMapEncoding: every chunk the simulator writes is byte
// for byte the old map encoding, for synthetic members, members and
// users changed at run time with loose JSON (spaces, HTML characters),
// presences set through UpdatePresence, the bot, removed members,
// not_found, nonces that need escaping, no presences and empty chunks.
func TestChunksMatchMapEncoding(t *testing.T) {
	s := newSim(t, Config{Members: 2600, Guilds: 2, Seed: 4, BaseTime: base})
	gid := s.GuildIDs()[0]
	ids := s.MemberIDs(gid)
	if err := s.AddMember(gid, json.RawMessage(`{ "user": { "id": "`+ids[5]+`", "username": "a <b> & c",  "global_name": "x\u2028y" },
		"nick": "  spaced <nick> " , "roles": [ ] }`)); err != nil {
		t.Fatal(err)
	}
	if err := s.AddMember(gid, json.RawMessage(`{"user":{"id":"1234567890123456789","username":"newcomer"}}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateMember(gid, json.RawMessage(`{"user":{"id":"`+ids[9]+`"}, "nick": "Bosun & co"}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveMember(gid, ids[11]); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdatePresence(json.RawMessage(`{"user":{"id":"` + ids[12] + `"},"status":"dnd",
		"activities": [ { "name" : "<Game> & more", "type": 0, "created_at": 1 } ], "client_status": {"web": "dnd", "desktop": "dnd"}}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdatePresence(json.RawMessage(`{"user":{"id":"` + ids[13] + `"},"status":"offline"}`)); err != nil {
		t.Fatal(err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.pop.guilds[0]
	all := s.pop.allMemberIDs(g)
	// A snapshot from before a removal: the member is skipped when its
	// chunk is built, as before.
	withRemoved := append([]uint64{mustID(ids[11])}, all...)
	cases := []struct {
		name      string
		ids       []uint64
		notFound  []string
		presences bool
		nonce     string
	}{
		{"all with presences", all, nil, true, "n1"},
		{"all without presences", all, nil, false, ""},
		{"snapshot with a removed member", withRemoved, nil, true, `<"odd">&\`},
		{"user_ids with not_found", all[3:17], []string{"1", "99"}, true, "q"},
		{"user_ids all not found", nil, []string{"5"}, false, ""},
		{"empty query result", nil, nil, true, ""},
		{"empty not_found", all[:2], []string{}, false, "é"},
	}
	for _, tc := range cases {
		want := oldChunkPayloads(s, g, tc.ids, tc.notFound, tc.presences, tc.nonce)
		job := &chunkJob{g: g, ids: tc.ids, notFound: tc.notFound, presences: tc.presences, nonce: tc.nonce,
			count: max(1, (len(tc.ids)+chunkSize-1)/chunkSize)}
		if job.count != len(want) {
			t.Fatalf("%s: %d chunks, want %d", tc.name, job.count, len(want))
		}
		for ci := range want {
			if got := s.chunkPayloadLocked(job, ci); !bytes.Equal(got, want[ci]) {
				k := 0
				for k < len(got) && k < len(want[ci]) && got[k] == want[ci][k] {
					k++
				}
				t.Fatalf("%s: chunk %d differs at byte %d:\n got …%.300s\nwant …%.300s", tc.name, ci, k, got[max(0, k-100):], want[ci][max(0, k-100):])
			}
		}
	}
}

// TestChunkFramesOverTheWire: what a client reads for an op 8 is the
// frames the old encoding gave, with the sequence numbers in order.
func TestChunkFramesOverTheWire(t *testing.T) {
	s := newSim(t, Config{Members: 4500, Seed: 2, BaseTime: base, HeartbeatInterval: time.Minute})
	gid := s.GuildIDs()[0]
	c := dial(t, s)
	readFrame(t, c)
	identify(t, c, s, allIntents)
	gc := readUntil(t, c, "GUILD_CREATE")
	want := referenceChunks(s, "wire")
	send(t, c, map[string]any{"op": 8, "d": map[string]any{"guild_id": gid, "query": "", "limit": 0, "presences": true, "nonce": "wire"}})
	for i, d := range want {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, got, err := c.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if w := wireFrame(*gc.S+1+int64(i), d); !bytes.Equal(got, w) {
			t.Fatalf("frame %d differs:\n got %.300s\nwant %.300s", i, got, w)
		}
	}
}

// TestChunksResumeAfterDrop: a connection dropped in the middle of an
// op 8 answer resumes and gets every chunk exactly once, in order: those
// built before the drop replayed, the rest built after RESUMED.
func TestChunksResumeAfterDrop(t *testing.T) {
	// Large enough that the socket's buffers cannot take every chunk
	// before the drop, so some are built only after the resume.
	s := newSim(t, Config{Members: 30000, Seed: 3, BaseTime: base, HeartbeatInterval: time.Minute})
	gid := s.GuildIDs()[0]
	c, sessionID := startSession(t, s)
	gc := readUntil(t, c, "GUILD_CREATE")
	want := referenceChunks(s, "r")
	send(t, c, map[string]any{"op": 8, "d": map[string]any{"guild_id": gid, "query": "", "limit": 0, "presences": true, "nonce": "r"}})
	seq := *gc.S
	for i := 0; i < 2; i++ {
		f := readFrame(t, c)
		if f.t() != "GUILD_MEMBERS_CHUNK" || *f.S != seq+1 {
			t.Fatalf("chunk %d: %s s=%v", i, f.t(), f.S)
		}
		seq = *f.S
	}
	s.DropConnections()
	c2 := dial(t, s)
	readFrame(t, c2)
	send(t, c2, map[string]any{"op": 6, "d": map[string]any{"token": "Bot " + s.Token(), "session_id": sessionID, "seq": seq}})
	got := 2
	resumed, after := false, 0
	for got < len(want) || !resumed {
		_ = c2.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, raw, err := c2.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		var f frame
		if err := json.Unmarshal(raw, &f); err != nil {
			t.Fatal(err)
		}
		if f.t() == "RESUMED" {
			resumed = true
			if f.S == nil || *f.S != seq+1 {
				t.Fatalf("RESUMED s=%v, want %d", f.S, seq+1)
			}
			seq = *f.S // RESUMED takes a sequence number of its own
			continue
		}
		if got == len(want) {
			t.Fatalf("after the last chunk: %s", f.t())
		}
		if resumed {
			after++
		}
		if *f.S != seq+1 {
			t.Fatalf("after resume: %s s=%d, want s=%d", f.t(), *f.S, seq+1)
		}
		if w := wireFrame(*f.S, want[got]); !bytes.Equal(raw, w) {
			t.Fatalf("chunk %d differs after resume:\n got %.300s\nwant %.300s", got, raw, w)
		}
		seq = *f.S
		got++
	}
	t.Logf("%d of %d chunks replayed, %d built after RESUMED", len(want)-2-after, len(want)-2, after)
}

// referenceChunks is the old encoding of the chunks answering an "all
// members" op 8 with presences for s's first guild.
func referenceChunks(s *Sim, nonce string) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.pop.guilds[0]
	return oldChunkPayloads(s, g, s.pop.allMemberIDs(g), nil, true, nonce)
}

// wireFrame is the payload of the WebSocket frame dispatching d as seq.
func wireFrame(seq int64, d []byte) []byte {
	f := appendFrame(nil, &outFrame{op: 0, s: seq, t: "GUILD_MEMBERS_CHUNK", d: d})
	header := 10 // appendFrame's header: 2 bytes, +2 or +8 of length
	if n := len(f) - 2; n < 126 {
		header = 2
	} else if len(f)-4 <= 0xFFFF {
		header = 4
	}
	return f[header:]
}

// TestDiscordTimeMatchesFormat: the hand-written formatter gives
// time.Format's string for times across the simulator's range and the
// edges of the layout.
func TestDiscordTimeMatchesFormat(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	times := []time.Time{{}, time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 2, 29, 1, 2, 3, 4000, time.FixedZone("x", 5*3600+1800))}
	for k := 0; k < 20000; k++ {
		times = append(times, time.UnixMicro(rng.Int64N(4e15)).In(time.FixedZone("z", rng.IntN(50000)-25000)))
	}
	for _, tm := range times {
		if got, want := discordTime(tm), tm.UTC().Format(discordTimeLayout); got != want {
			t.Fatalf("discordTime(%v) = %s, want %s", tm, got, want)
		}
	}
}

// TestReplayBytesCap: a session keeps at most ReplayBytes of dispatches
// for RESUME (the newest always); a resume from within them is replayed,
// one from before them gets op 9, as Discord answers a resume it cannot
// replay.
func TestReplayBytesCap(t *testing.T) {
	const limit = 1 << 20
	s := newSim(t, Config{Members: 2500, Seed: 5, BaseTime: base, HeartbeatInterval: time.Minute, ReplayBytes: limit})
	gid := s.GuildIDs()[0]
	c, sessionID := startSession(t, s)
	readUntil(t, c, "GUILD_CREATE")
	send(t, c, map[string]any{"op": 8, "d": map[string]any{"guild_id": gid, "query": "", "limit": 0, "presences": true}})
	var last frame
	for i := 0; i < 3; i++ {
		last = readUntil(t, c, "GUILD_MEMBERS_CHUNK")
	}
	s.mu.Lock()
	ss := s.sessions[sessionID]
	kept, bytesKept, first := len(ss.buf), ss.bufBytes, ss.buf[0].s
	s.mu.Unlock()
	if bytesKept > limit && kept > 1 || first <= 2 {
		t.Fatalf("replay buffer: %d frames, %d bytes, first s=%d (limit %d)", kept, bytesKept, first, limit)
	}
	resume := func(seq int64) *websocket.Conn {
		s.DropConnections()
		c := dial(t, s)
		readFrame(t, c)
		send(t, c, map[string]any{"op": 6, "d": map[string]any{"token": "Bot " + s.Token(), "session_id": sessionID, "seq": seq}})
		return c
	}
	c2 := resume(*last.S - 1)
	if f := readFrame(t, c2); f.t() != "GUILD_MEMBERS_CHUNK" || *f.S != *last.S {
		t.Fatalf("replay: %s s=%v, want the last chunk s=%d", f.t(), f.S, *last.S)
	}
	if f := readFrame(t, c2); f.t() != "RESUMED" {
		t.Fatalf("want RESUMED, got %s", f.t())
	}
	c3 := resume(1) // from READY: GUILD_CREATE and the first chunks are gone
	if f := readFrame(t, c3); f.Op != 9 || string(f.D) != "false" {
		t.Fatalf("resume past the buffer: op %d %s", f.Op, f.D)
	}
}
