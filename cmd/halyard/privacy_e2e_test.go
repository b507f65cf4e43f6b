package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// The privacy commands end to end: commands travel the simulator's
// gateway (DMs and slash interactions), answers are read over real HTTP
// and WebSockets, and what is stored is read from the store itself.

// wsFrames is a WebSocket client that reads frames as text.
type wsFrames struct {
	t    *testing.T
	name string
	ws   *websocket.Conn
}

// dialFrames opens path, reads the Hello and sends first.
func dialFrames(t *testing.T, base, path, name, first string) *wsFrames {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+path, nil)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	t.Cleanup(func() { ws.Close() })
	w := &wsFrames{t: t, name: name, ws: ws}
	w.next() // Hello
	if err := ws.WriteMessage(websocket.TextMessage, []byte(first)); err != nil {
		t.Fatal(err)
	}
	return w
}

// next reads one frame (the deadline only keeps a broken server from
// hanging the test).
func (w *wsFrames) next() string {
	w.t.Helper()
	_ = w.ws.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, b, err := w.ws.ReadMessage()
	if err != nil {
		w.t.Fatalf("%s: %v", w.name, err)
	}
	return string(b)
}

// until reads frames up to the first that contains want and returns
// those before it.
func (w *wsFrames) until(want string) []string {
	w.t.Helper()
	var before []string
	for {
		f := w.next()
		if strings.Contains(f, want) {
			return before
		}
		before = append(before, f)
	}
}

// none fails if a frame mentions id.
func (w *wsFrames) none(frames []string, id, when string) {
	w.t.Helper()
	for _, f := range frames {
		if strings.Contains(f, id) {
			w.t.Errorf("%s %s: a frame about the opted-out user: %s", w.name, when, clip([]byte(f)))
		}
	}
}

// privacySlash runs /privacy with options as user and returns the reply's
// content and flags.
func privacySlash(t *testing.T, m *Main, user, options string) (string, int) {
	t.Helper()
	return slashCommand(t, m, m.Sim.GuildIDs()[0], user, "privacy", options)
}

// notMonitoredID returns an id of the same length as id that no member
// has, so that answers about the two can be compared byte for byte once
// the id is swapped.
func notMonitoredID(id string) string {
	out := []byte(id)
	for i := range out[1:] {
		out[i+1] = '0'
	}
	return string(out)
}

// restAnswers is every REST answer about one user that opting out
// changes, with the id written as ID. (A bulk query that also names a
// served user is compared by sameBulk, at one moment.)
func restAnswers(t *testing.T, c client, id, other, lanyardKey string) map[string]string {
	t.Helper()
	out := map[string]string{}
	get := func(name, path, auth string) {
		code, b := c.do("GET", path, auth, nil)
		out[name] = fmt.Sprintf("%d %s", code, strings.ReplaceAll(string(b), id, "ID"))
	}
	get("lanyard", "/v1/users/"+id, "")
	get("lanyard quicklink", "/"+id+".png", "")
	get("lantern", "/api/v1/users/"+id, "")
	get("lantern card", "/api/v1/users/"+id+"?svg=1", "")
	get("lantern storage", "/api/v1/users/"+id+"/storage", "")
	get("lantern bulk alone", "/api/v1/users?user_ids="+id, "")
	code, b := harmyGet(c, "/user/"+id, "")
	out["harmy"] = fmt.Sprintf("%d %s", code, strings.ReplaceAll(string(b), id, "ID"))
	if lanyardKey != "" {
		code, b := c.do("PUT", "/v1/users/"+id+"/kv/k2", lanyardKey, []byte("v2"))
		out["lanyard kv write"] = fmt.Sprintf("%d %s", code, b)
	}
	return out
}

// sameBulk checks that a Lantern bulk query naming id and other answers
// as one naming an unmonitored id and other: other alone.
func sameBulk(t *testing.T, c client, id, unmon, other, when string) {
	t.Helper()
	code, got := c.do("GET", "/api/v1/users?user_ids="+id+"&user_ids="+other, "", nil)
	wcode, want := c.do("GET", "/api/v1/users?user_ids="+unmon+"&user_ids="+other, "", nil)
	if code != 200 || code != wcode || string(got) != string(want) || strings.Contains(string(got), id) {
		t.Errorf("%s, lantern bulk: %d %s\nwant %d %s", when, code, clip(got), wcode, clip(want))
	}
}

var deleteCode = regexp.MustCompile("`\\.delete-my-data confirm ([A-Z2-7]{6})`")

// TestPrivacyEndToEnd: .optout hides a member from every dialect's REST
// (answers byte-identical to an unmonitored id's, bulk queries included)
// and both socket kinds (sockets already open lose them as a member who
// left; new subscriptions never see them); presence changes meanwhile
// reach nobody; .optin and /privacy bring them back with their KV and
// latest presence; the choice survives a restart on the same data dir;
// .delete-my-data deletes KV, token and record from the store only with
// the right code, and keeps the opt-out.
func TestPrivacyEndToEnd(t *testing.T) {
	dataDir := t.TempDir()
	m := startDemoIn(t, dataDir, 8, nil)
	defer func() { m.Close() }()
	base := m.URL()
	c := client{t, base}
	ids := m.Sim.MemberIDs(m.Sim.GuildIDs()[0])
	hidden, other := ids[2], ids[3]
	unmon := notMonitoredID(hidden)
	eventually(t, "members monitored", func() bool { return m.Hub.IsMonitored(hidden) && m.Hub.IsMonitored(other) })
	b := botChat{t: t, m: m, c: c, user: hidden}
	key := b.apikey()
	if code, body := c.do("PUT", "/v1/users/"+hidden+"/kv/k", key, []byte("v")); code != http.StatusNoContent {
		t.Fatalf("PUT kv: %d %s", code, body)
	}
	m.Hub.FlushRecords(context.Background()) // the record is stored before the opt-out, which stops its writes

	// The answers about an id nobody monitors, for comparison.
	want := restAnswers(t, c, unmon, other, "")
	code, body := c.do("GET", "/v1/users/"+unmon, "", nil)
	want["lanyard kv write"] = fmt.Sprintf("%d %s", code, body) // Lanyard's not-monitored error, whatever the route
	served := restAnswers(t, c, hidden, other, "")
	for _, name := range []string{"lanyard", "lantern", "harmy", "lantern bulk alone"} {
		if served[name] == want[name] || !strings.HasPrefix(served[name], "200 ") {
			t.Fatalf("before opting out, %s: %s", name, served[name])
		}
	}

	// Sockets open before the opt-out: Lanyard by ids and all, Lantern by
	// list and ALL.
	sentinel := 0
	poke := func(id string) string { // a presence change of id, named so that frames can be told apart
		sentinel++
		name := fmt.Sprintf("privacy-sentinel-%d", sentinel)
		if err := m.Sim.UpdatePresence(json.RawMessage(`{"user":{"id":"` + id + `"},"status":"dnd","activities":[{"name":"` + name + `","type":0}]}`)); err != nil {
			t.Fatal(err)
		}
		return name
	}
	lyIDs := dialFrames(t, base, "/lanyard/socket", "lanyard ids", `{"op":2,"d":{"subscribe_to_ids":["`+hidden+`","`+other+`"]}}`)
	lyAll := dialFrames(t, base, "/socket", "lanyard all", `{"op":2,"d":{"subscribe_to_all":true}}`)
	ltList := dialFrames(t, base, "/lantern/socket", "lantern list", `{"op":2,"d":{"user_ids":["`+hidden+`","`+other+`"]}}`)
	ltAll := dialFrames(t, base, "/socket", "lantern ALL", `{"op":2,"d":{"user_id":"ALL"}}`)
	for _, w := range []*wsFrames{lyIDs, lyAll, ltList, ltAll} {
		if f := w.next(); !strings.Contains(f, hidden) {
			t.Fatalf("%s: the first state lacks the user: %s", w.name, clip([]byte(f)))
		}
	}
	s := poke(other)
	for _, w := range []*wsFrames{lyIDs, lyAll, ltList, ltAll} {
		w.until(s)
	}

	// .optout in a DM.
	if r := b.dm(".optout"); !strings.HasPrefix(r.Content, "You have opted out.") {
		t.Fatalf(".optout: %+v", r)
	}
	got := restAnswers(t, c, hidden, other, key)
	for name, w := range want {
		if got[name] != w {
			t.Errorf("opted out, %s:\n got %s\nwant %s", name, clip([]byte(got[name])), clip([]byte(w)))
		}
	}
	sameBulk(t, c, hidden, unmon, other, "opted out")
	var detail struct {
		Monitored bool     `json:"monitored"`
		OptedOut  bool     `json:"opted_out"`
		KVKeys    []string `json:"kv_keys"`
		Guilds    []string `json:"guilds"`
	}
	code, body = c.do("GET", "/admin/v1/users/"+hidden, e2eAdmin, nil)
	if code != 200 || json.Unmarshal(body, &detail) != nil || detail.Monitored || !detail.OptedOut ||
		len(detail.KVKeys) != 1 || len(detail.Guilds) != 1 {
		t.Errorf("admin detail: %d %s", code, body)
	}
	if code, body := c.do("GET", "/admin/v1/users?limit=100", e2eAdmin, nil); code != 200 || strings.Contains(string(body), hidden) {
		t.Errorf("admin users list shows the opted-out user: %d %s", code, clip(body))
	}

	// Open sockets: Lantern's list loses the user as a member who left;
	// then neither a presence change nor a KV change of theirs reaches
	// any socket.
	if f := ltList.next(); f != `{"t":"USER_LEFT","op":7,"d":{"user_id":"`+hidden+`"}}` {
		t.Errorf("lantern list after the opt-out: %s", f)
	}
	poke(hidden)
	s = poke(other)
	for _, w := range []*wsFrames{lyIDs, lyAll, ltList, ltAll} {
		w.none(w.until(s), hidden, "after the opt-out")
	}
	// New subscriptions: as for an unmonitored id.
	for _, tc := range []struct{ path, first, want string }{
		{"/lanyard/socket", `{"op":2,"d":{"subscribe_to_id":"` + hidden + `"}}`, `"d":{}`},
		{"/lanyard/socket", `{"op":2,"d":{"subscribe_to_ids":["` + hidden + `"]}}`, `"d":{}`},
		{"/lantern/socket", `{"op":2,"d":{"user_id":"` + hidden + `"}}`, `User ` + hidden + ` not found.`},
		{"/lantern/socket", `{"op":2,"d":{"user_ids":["` + hidden + `","` + other + `"]}}`, `User(s) ` + hidden + ` not found.`},
	} {
		w := dialFrames(t, base, tc.path, tc.path+" "+tc.first, tc.first)
		if f := w.next(); !strings.Contains(f, tc.want) {
			t.Errorf("%s: %s, want %s", w.name, clip([]byte(f)), tc.want)
		}
	}
	for _, tc := range []struct{ path, first, ack string }{
		{"/lanyard/socket", `{"op":2,"d":{"subscribe_to_all":true}}`, "INIT_STATE"},
		{"/lantern/socket", `{"op":2,"d":{"user_id":"ALL"}}`, "INIT_ACK"},
	} {
		w := dialFrames(t, base, tc.path, tc.path+" all", tc.first)
		if f := w.next(); !strings.Contains(f, tc.ack) || !strings.Contains(f, other) || strings.Contains(f, hidden) {
			t.Errorf("%s: %s", w.name, clip([]byte(f)))
		}
	}
	sub := dialFrames(t, base, "/lantern/socket", "lantern subscribe", `{"op":2,"d":{"user_id":"`+other+`"}}`)
	sub.next() // INIT_ACK
	if err := sub.ws.WriteMessage(websocket.TextMessage, []byte(`{"op":12,"d":{"user_id":"`+hidden+`"}}`)); err != nil {
		t.Fatal(err)
	}
	if f := sub.next(); !strings.Contains(f, `User `+hidden+` not found.`) {
		t.Errorf("lantern SUBSCRIBE to the opted-out user: %s", f)
	}

	// .optin: back at once, with the KV and the presence changed meanwhile.
	if r := b.dm(".optin"); !strings.HasPrefix(r.Content, "You have opted back in:") {
		t.Fatalf(".optin: %+v", r)
	}
	for _, w := range []*wsFrames{lyAll, ltAll} {
		w.until(hidden) // Lanyard: PRESENCE_UPDATE; Lantern: USER_JOINED
	}
	code, body = c.do("GET", "/v1/users/"+hidden, "", nil)
	if code != 200 || !strings.Contains(string(body), `"kv":{"k":"v"}`) || !strings.Contains(string(body), "privacy-sentinel-") {
		t.Errorf("lanyard after .optin: %d %s", code, clip(body))
	}
	after := restAnswers(t, c, hidden, other, "")
	for _, name := range []string{"lantern", "lantern bulk alone", "harmy"} {
		if !strings.HasPrefix(after[name], "200 ") {
			t.Errorf("after .optin, %s: %s", name, clip([]byte(after[name])))
		}
	}

	// The slash command, ephemeral in the guild.
	content, flags := privacySlash(t, m, hidden, `[{"name":"optout","type":1}]`)
	if !strings.HasPrefix(content, "You have opted out.") || flags&64 == 0 || !m.Hub.OptedOut(hidden) {
		t.Errorf("/privacy optout: %q flags %d", content, flags)
	}
	content, _ = privacySlash(t, m, hidden, `[{"name":"optin","type":1}]`)
	if !strings.HasPrefix(content, "You have opted back in") || m.Hub.OptedOut(hidden) {
		t.Errorf("/privacy optin: %q", content)
	}
	content, _ = privacySlash(t, m, hidden, `[{"name":"erase","type":1}]`)
	if !strings.HasPrefix(content, "Unknown /privacy command") {
		t.Errorf("/privacy erase: %q", content)
	}

	// Opted out again, then a restart on the same data dir: hidden from
	// the first answer on.
	b.dm(".optout")
	m.Hub.FlushRecords(context.Background())
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m = startDemoIn(t, dataDir, 8, nil)
	base = m.URL()
	c = client{t, base}
	b = botChat{t: t, m: m, c: c, user: hidden}
	eventually(t, "members synced", func() bool { _, member := m.Hub.Member(hidden); return member && m.Hub.IsMonitored(other) })
	got = restAnswers(t, c, hidden, other, key)
	for name, w := range want {
		if got[name] != w {
			t.Errorf("after the restart, %s:\n got %s\nwant %s", name, clip([]byte(got[name])), clip([]byte(w)))
		}
	}
	sameBulk(t, c, hidden, unmon, other, "after the restart")

	// .delete-my-data: nothing goes without the right code.
	stored := readStored(t, m, hidden)
	if stored.kv.Len() != 1 || !stored.token || stored.record == nil {
		t.Fatalf("stored before the deletion: %+v", stored)
	}
	ask := b.dm(".delete-my-data").Content
	match := deleteCode.FindStringSubmatch(ask)
	if match == nil || !strings.Contains(ask, "1 KV pair, your API token, your record") || !strings.Contains(ask, "opt-out is kept") {
		t.Fatalf(".delete-my-data: %q", ask)
	}
	wrong := "AAAAAA"
	if match[1] == wrong {
		wrong = "BBBBBB"
	}
	for _, bad := range []string{".delete-my-data confirm " + wrong, ".delete-my-data confirm", ".delete-my-data yes"} {
		if r := b.dm(bad).Content; !strings.Contains(r, "othing was deleted") {
			t.Errorf("%q: %q", bad, r)
		}
	}
	if s := readStored(t, m, hidden); s.kv.Len() != 1 || !s.token || s.record == nil {
		t.Fatalf("a refused confirmation deleted data: %+v", s)
	}
	if r := b.dm(".delete-my-data confirm " + match[1]).Content; !strings.HasPrefix(r, "Deleted: 1 KV pair, your API token, your record") {
		t.Fatalf("confirmed: %q", r)
	}
	m.Hub.FlushRecords(context.Background())
	if s := readStored(t, m, hidden); s.kv.Len() != 0 || s.token || s.record != nil {
		t.Errorf("stored after the deletion: %+v", s)
	}
	optedOut := false
	if err := m.Store.LoadOptOuts(context.Background(), func(id string, _ time.Time) error {
		optedOut = optedOut || id == hidden
		return nil
	}); err != nil || !optedOut {
		t.Errorf("the opt-out after the deletion: stored %v, %v", optedOut, err)
	}
	if code, _ := c.do("GET", "/v1/users/"+hidden, "", nil); code != 404 {
		t.Errorf("lanyard after the deletion: %d", code)
	}
	if code, _ := c.do("GET", "/v1/users/@me", key, nil); code != 401 {
		t.Errorf("the deleted API key still works: %d", code)
	}
	if s := readStored(t, m, other); s.record == nil {
		t.Errorf("the other member's record went too: %+v", s)
	}
}
