package discordsim

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func restDo(t *testing.T, s *Sim, method, path, auth, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, s.RESTURL()+path, strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestREST(t *testing.T) {
	s := newSim(t, Config{Members: 50})
	bot := "Bot " + s.Token()
	gid := s.GuildIDs()[0]
	tests := []struct {
		method, path, auth, body string
		status                   int
		contains                 string
	}{
		{"GET", "/api/v9/users/@me", "", "", 401, `"code":0`},
		{"GET", "/api/v9/users/@me", "Bot wrong", "", 401, `401: Unauthorized`},
		{"GET", "/api/v9/users/@me", bot, "", 200, `"bot":true`},
		{"GET", "/api/v10/users/@me", bot, "", 200, `"bot":true`},
		{"GET", "/api/users/@me", bot, "", 200, `"bot":true`},
		{"GET", "/api/v9//oauth2/applications/@me", bot, "", 200, `"id":"` + s.ApplicationID() + `"`},
		{"GET", "/api/v9/applications/@me", bot, "", 200, `"verify_key"`},
		{"GET", "/api/v9/gateway", "", "", 200, `"url":"` + s.GatewayURL() + `"`},
		{"GET", "/api/v9/gateway/bot", bot, "", 200, `"max_concurrency":1`},
		{"GET", "/api/v9/users/1", bot, "", 404, `10013`},
		{"GET", "/api/v9/guilds/1", bot, "", 404, `10004`},
		{"GET", "/api/v9/guilds/" + gid + "?with_counts=true", bot, "", 200, `"approximate_presence_count"`},
		{"GET", "/api/v9/guilds/" + gid + "/members/1", bot, "", 404, `10007`},
		{"GET", "/api/v9/guilds/" + gid + "/members?limit=1001", bot, "", 400, `50035`},
		{"POST", "/api/v9/channels/1/messages", bot, `{"content":"x"}`, 404, `10003`},
		{"POST", "/api/v9/users/@me/channels", bot, `{"recipient_id":"1"}`, 400, `50007`},
		{"POST", "/api/v9/interactions/1/tok/callback", bot, `{"type":4,"data":{"content":"x"}}`, 404, `10062`},
		{"PUT", "/api/v9/applications/" + s.ApplicationID() + "/guilds/" + gid + "/commands", bot, `[{"name":"g","description":"d"}]`, 200, `"guild_id":"` + gid + `"`},
		{"POST", "/api/v9/applications/" + s.ApplicationID() + "/commands", bot, `{"name":"ping","description":"d"}`, 201, `"version"`},
	}
	for _, tt := range tests {
		status, body := restDo(t, s, tt.method, tt.path, tt.auth, tt.body)
		if status != tt.status || !strings.Contains(body, tt.contains) {
			t.Errorf("%s %s: %d %s, want %d containing %s", tt.method, tt.path, status, body, tt.status, tt.contains)
		}
	}

	// Pagination: ascending, after= excludes.
	ids := s.MemberIDs(gid)
	_, body := restDo(t, s, "GET", "/api/v9/guilds/"+gid+"/members?limit=10&after="+ids[4], bot, "")
	var ms []struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	if err := json.Unmarshal([]byte(body), &ms); err != nil || len(ms) != 10 || ms[0].User.ID != ids[5] {
		t.Fatalf("members page: %v %s", err, body)
	}

	// Interaction callbacks: one answer, then 40060; late answers 10062.
	iid, err := s.Interact(gid, ids[0], "ping", nil)
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	tok := s.inters[mustID(iid)].token
	s.mu.Unlock()
	cb := "/api/v9/interactions/" + iid + "/" + tok + "/callback"
	if st, b := restDo(t, s, "POST", cb, bot, `{"type":99}`); st != 400 {
		t.Fatalf("bad type: %d %s", st, b)
	}
	if st, b := restDo(t, s, "POST", cb, bot, `{"type":5}`); st != 204 {
		t.Fatalf("callback: %d %s", st, b)
	}
	if st, b := restDo(t, s, "POST", cb, bot, `{"type":5}`); st != 400 || !strings.Contains(b, "40060") {
		t.Fatalf("second callback: %d %s", st, b)
	}
	wh := "/api/v9/webhooks/" + s.ApplicationID() + "/" + tok
	if st, b := restDo(t, s, "PATCH", wh+"/messages/@original", bot, `{"content":"done"}`); st != 200 || !strings.Contains(b, `"done"`) {
		t.Fatalf("edit original: %d %s", st, b)
	}
	if r, _ := s.InteractionResponse(iid); !strings.Contains(string(r), `"done"`) {
		t.Fatalf("response after edit: %s", r)
	}
	if st, b := restDo(t, s, "POST", wh+"?", bot, `{"content":"more"}`); st != 200 || !strings.Contains(b, `"more"`) {
		t.Fatalf("follow-up: %d %s", st, b)
	}
	late, _ := s.Interact("", "1300000000000000099", "ping", nil)
	s.mu.Lock()
	in := s.inters[mustID(late)]
	in.created = in.created.Add(-4 * time.Second)
	s.mu.Unlock()
	if st, b := restDo(t, s, "POST", "/api/v9/interactions/"+late+"/"+in.token+"/callback", bot, `{"type":5}`); st != 404 || !strings.Contains(b, "10062") {
		t.Fatalf("late callback: %d %s", st, b)
	}
	if _, err := s.Interact(gid, ids[0], "nope", nil); err == nil {
		t.Fatal("unregistered command accepted")
	}
}

func mustID(s string) uint64 {
	id, _ := parseID(s)
	return id
}
