package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/halyardhq/halyard/core"
)

// storedUser is what the database holds about one user, read from the
// store itself rather than through the hub.
type storedUser struct {
	kv     core.KV
	token  bool
	record *core.UserRecord
}

func readStored(t *testing.T, m *Main, id string) storedUser {
	t.Helper()
	ctx := context.Background()
	var s storedUser
	if err := m.Store.LoadKV(ctx, func(uid string, kv core.KV) error {
		if uid == id {
			s.kv = kv
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := m.Store.LoadTokenHashes(ctx, func(uid string, _ []byte) error {
		s.token = s.token || uid == id
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := m.Store.LoadUsers(ctx, func(r core.UserRecord) error {
		if r.ID == id {
			s.record = &r
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return s
}

// dialectView is what the three dialects serve about a monitored user.
type dialectView struct {
	lanyardKV, lanternStorage, lanternKV string // JSON objects; lanternKV "none" for Lantern's 404
	lanternSince                         int64  // monitoring_since.unix
	harmyGitHub                          string // the "github" value's JSON
}

var (
	monitoringSinceUnix = regexp.MustCompile(`"monitoring_since":\{"unix":(-?[0-9]+)`)
	lanternStorageField = regexp.MustCompile(`"storage":(\{[^}]*\})`)
)

func viewDialects(t *testing.T, c client, id string) dialectView {
	t.Helper()
	var v dialectView
	var lanyard struct {
		Data struct {
			KV json.RawMessage `json:"kv"`
		} `json:"data"`
	}
	code, b := c.do("GET", "/v1/users/"+id, "", nil)
	if code != 200 || json.Unmarshal(b, &lanyard) != nil {
		t.Fatalf("lanyard: %d %s", code, b)
	}
	v.lanyardKV = string(lanyard.Data.KV)
	code, b = c.do("GET", "/api/v1/users/"+id, "", nil)
	since, storage := monitoringSinceUnix.FindSubmatch(b), lanternStorageField.FindSubmatch(b)
	if code != 200 || since == nil || storage == nil {
		t.Fatalf("lantern: %d %s", code, b)
	}
	v.lanternSince, _ = strconv.ParseInt(string(since[1]), 10, 64)
	v.lanternStorage = string(storage[1])
	code, b = c.do("GET", "/api/v1/users/"+id+"/storage", "", nil)
	switch {
	case code == 200:
		v.lanternKV = string(b)
	case code == 404 && strings.Contains(string(b), "does not have any storage"):
		v.lanternKV = "none" // Lantern's answer for an empty storage
	default:
		t.Fatalf("lantern storage: %d %s", code, b)
	}
	var harmy struct {
		GitHub json.RawMessage `json:"github"`
	}
	code, b = harmyGet(c, "/user/"+id, "")
	if code != 200 || json.Unmarshal(b, &harmy) != nil {
		t.Fatalf("harmy: %d %s", code, b)
	}
	v.harmyGitHub = string(harmy.GitHub)
	return v
}

// TestAdminCLIPurge: `halyard admin purge` removes KV, token and record
// of a member (who stays monitored, with an empty KV and a fresh record)
// and of a user who left (of whom nothing stays): gone from the store
// itself, from every dialect's REST, from the hub's memory (a returning
// member gets nothing back), and after a restart on the same store.
func TestAdminCLIPurge(t *testing.T) {
	gh := githubStandIn(t, "octocat")
	env := map[string]string{"GITHUB_API_URL": gh.URL}
	dataDir := t.TempDir()
	m := startDemoIn(t, dataDir, 8, env)
	defer func() { m.Close() }()
	base := m.URL()
	c := client{t, base}
	ids := m.Sim.MemberIDs(m.Sim.GuildIDs()[0])
	member, leaver, bystander := ids[2], ids[3], ids[4]
	eventually(t, "members monitored", func() bool {
		return m.Hub.IsMonitored(member) && m.Hub.IsMonitored(leaver) && m.Hub.IsMonitored(bystander)
	})

	// Each of the three gets a token (issued by the CLI), two KV pairs and
	// a GitHub link (harmy's bot command).
	tokens := map[string]string{}
	for _, id := range []string{member, leaver, bystander} {
		tokens[id] = strings.TrimSpace(runAdminCLI(t, base, "", "token", "issue", id).ok(t).stdout)
		for _, kv := range [][2]string{{"a", "1"}, {"b", "2"}} {
			if code, b := c.do("PUT", "/v1/users/"+id+"/kv/"+kv[0], tokens[id], []byte(kv[1])); code != http.StatusNoContent {
				t.Fatalf("PUT: %d %s", code, b)
			}
		}
		botChat{t: t, m: m, c: c, user: id}.dm(".github octocat")
		eventually(t, "GitHub linked", func() bool { r, _ := m.Hub.Record(id); return r.GitHubLogin == "octocat" })
	}
	eventually(t, "harmy serves the GitHub profile", func() bool {
		return strings.Contains(viewDialects(t, c, member).harmyGitHub, "octocat")
	})
	before := viewDialects(t, c, member)
	if before.lanyardKV != `{"a":"1","b":"2"}` || before.lanternKV != `{"a":"1","b":"2"}` {
		t.Fatalf("before the purge: %+v", before)
	}
	// The leaver leaves the guild: not monitored, data kept.
	var leaverUser struct {
		Username string `json:"username"`
	}
	truth, _ := m.Sim.Truth(leaver)
	_ = json.Unmarshal(truth.User, &leaverUser)
	if code, b := c.do("DELETE", "/admin/v1/demo/members/"+leaver, e2eAdmin, nil); code != http.StatusAccepted {
		t.Fatalf("removing the leaver: %d %s", code, b)
	}
	eventually(t, "leaver not monitored", func() bool { return !m.Hub.IsMonitored(leaver) })
	m.Hub.FlushRecords(context.Background())
	for _, id := range []string{member, leaver} {
		s := readStored(t, m, id)
		if s.kv.Len() != 2 || !s.token || s.record == nil || s.record.GitHubLogin != "octocat" {
			t.Fatalf("stored before the purge for %s: %+v", id, s)
		}
	}
	runAdminCLI(t, base, "", "user", leaver).ok(t).line(t, `Monitored +no \(in no watched guild\)`)

	// A Lanyard socket following the member sees the purge as it happens.
	ws := subscribeLanyard(t, base, member)
	defer ws.Close()

	purgeStart := time.Now()
	r := runAdminCLI(t, base, "", "purge", member, "--yes").ok(t)
	r.line(t, `purged `+member+`: 2 KV key\(s\), token revoked, record deleted`)
	r.line(t, `note: the user is still a member of a watched guild: they stay monitored, with an empty KV and a fresh record \(monitoring since now\)`)
	if kv := nextLanyardKV(t, ws); kv != "{}" {
		t.Errorf("the socket's next update after the purge carries kv %s, want {}", kv)
	}
	var pj struct {
		Removed struct {
			KVKeys int  `json:"kv_keys"`
			Token  bool `json:"token"`
			Record bool `json:"record"`
		}
		Monitored bool
	}
	js := runAdminCLI(t, base, "", "--json", "purge", "--yes", leaver).ok(t)
	if err := json.Unmarshal([]byte(js.stdout), &pj); err != nil || pj.Removed.KVKeys != 2 || !pj.Removed.Token || !pj.Removed.Record || pj.Monitored {
		t.Fatalf("purge --json of the leaver: %v %s", err, js.stdout)
	}

	// The store itself, after a flush of pending records (which must not
	// write the purged records back).
	m.Hub.FlushRecords(context.Background())
	if s := readStored(t, m, leaver); s.kv.Len() != 0 || s.token || s.record != nil {
		t.Errorf("stored after purging the leaver: kv %v token %v record %+v", s.kv, s.token, s.record)
	}
	s := readStored(t, m, member)
	if s.kv.Len() != 0 || s.token {
		t.Errorf("stored after purging the member: kv %v token %v", s.kv, s.token)
	}
	if s.record == nil || s.record.GitHubLogin != "" || s.record.MonitoringSince.Before(purgeStart.Truncate(time.Millisecond)) {
		t.Errorf("the member's stored record is not a fresh one: %+v", s.record)
	}
	if s := readStored(t, m, bystander); s.kv.Len() != 2 || !s.token || s.record == nil || s.record.GitHubLogin != "octocat" {
		t.Errorf("the bystander lost data: %+v", s)
	}

	// Every dialect: the member is served with no KV, no GitHub profile,
	// monitored since the purge; the old token writes nowhere.
	after := viewDialects(t, c, member)
	if after.lanyardKV != "{}" || after.lanternKV != "none" || after.lanternStorage != "{}" || after.harmyGitHub != "null" ||
		after.lanternSince < purgeStart.Unix() {
		t.Errorf("served after the purge: %+v (before %+v)", after, before)
	}
	if code, _ := c.do("PUT", "/v1/users/"+member+"/kv/x", tokens[member], []byte("y")); code != http.StatusUnauthorized {
		t.Errorf("lanyard took the purged token: %d", code)
	}
	if code, _ := harmyGet(c, "/user/"+member, tokens[member]); code != http.StatusUnauthorized {
		t.Errorf("harmy took the purged token: %d", code)
	}
	if b := viewDialects(t, c, bystander); b.lanyardKV != `{"a":"1","b":"2"}` || !strings.Contains(b.harmyGitHub, "octocat") {
		t.Errorf("the bystander's served data changed: %+v", b)
	}
	u := runAdminCLI(t, base, "", "user", member).ok(t)
	u.line(t, `KV keys +none`)
	u.line(t, `API token +no`)
	u.line(t, `GitHub +-`)

	// The hub forgot the leaver: nothing about them is held, and when they
	// return they get no KV, no link and no old monitoring start back.
	if code := runAdminCLI(t, base, "", "user", leaver).code; code != adminExitNotFound {
		t.Errorf("user after purging the leaver: exit %d, want %d", code, adminExitNotFound)
	}
	rejoin := fmt.Sprintf(`{"user":{"id":%q,"username":%q,"discriminator":"0","global_name":null,"avatar":null}}`, leaver, leaverUser.Username)
	if code, b := c.do("POST", "/admin/v1/demo/members", e2eAdmin, []byte(rejoin)); code != http.StatusAccepted {
		t.Fatalf("rejoin: %d %s", code, b)
	}
	eventually(t, "leaver back", func() bool { return m.Hub.IsMonitored(leaver) })
	back := viewDialects(t, c, leaver)
	if back.lanyardKV != "{}" || back.lanternKV != "none" || back.harmyGitHub != "null" || back.lanternSince < purgeStart.Unix() {
		t.Errorf("the returning leaver got data back: %+v", back)
	}

	// A restart on the same store brings nothing back either.
	m.Close()
	m = startDemoIn(t, dataDir, 8, env)
	c = client{t, m.URL()}
	eventually(t, "members monitored after the restart", func() bool { return m.Hub.IsMonitored(member) && m.Hub.IsMonitored(leaver) })
	for _, id := range []string{member, leaver} {
		v := viewDialects(t, c, id)
		if v.lanyardKV != "{}" || v.lanternKV != "none" || v.harmyGitHub != "null" {
			t.Errorf("after the restart %s is served %+v", id, v)
		}
		if r, _ := m.Hub.Record(id); r.GitHubLogin != "" || m.Tokens.HasToken(id) {
			t.Errorf("after the restart %s has record %+v, token %v", id, r, m.Tokens.HasToken(id))
		}
	}
	if v := viewDialects(t, c, bystander); v.lanyardKV != `{"a":"1","b":"2"}` {
		t.Errorf("the bystander after the restart: %+v", v)
	}
}

// subscribeLanyard opens a Lanyard socket following id and reads its
// INIT_STATE, which must carry the user's KV.
func subscribeLanyard(t *testing.T, base, id string) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/lanyard/socket", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ws.WriteJSON(map[string]any{"op": 2, "d": map[string]string{"subscribe_to_id": id}}); err != nil {
		t.Fatal(err)
	}
	if kv := nextLanyardKV(t, ws); kv != `{"a":"1","b":"2"}` {
		t.Fatalf("INIT_STATE kv %s", kv)
	}
	return ws
}

// nextLanyardKV reads the socket up to its next INIT_STATE or
// PRESENCE_UPDATE and returns that presence's kv.
func nextLanyardKV(t *testing.T, ws *websocket.Conn) string {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var msg struct {
			Op int    `json:"op"`
			T  string `json:"t"`
			D  struct {
				KV json.RawMessage `json:"kv"`
			} `json:"d"`
		}
		if err := ws.ReadJSON(&msg); err != nil {
			t.Fatalf("lanyard socket: %v", err)
		}
		if msg.Op == 0 && (msg.T == "INIT_STATE" || msg.T == "PRESENCE_UPDATE") {
			return string(msg.D.KV)
		}
	}
}
