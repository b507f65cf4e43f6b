package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/halyardhq/halyard/core"
)

// adminRun is one `halyard admin …` run's outcome.
type adminRun struct {
	code           int
	stdout, stderr string
}

// runAdminCLI runs `halyard admin args…` against base with the test's
// admin token, as the binary would (runAdmin is main's dispatch target).
func runAdminCLI(t *testing.T, base, stdin string, args ...string) adminRun {
	t.Helper()
	var out, errOut bytes.Buffer
	env := map[string]string{"ADMIN_TOKEN": "test-admin-token", "HALYARD_URL": base}
	code := runAdmin(context.Background(), args, env, strings.NewReader(stdin), &out, &errOut)
	return adminRun{code, out.String(), errOut.String()}
}

// ok fails unless the run exited 0.
func (r adminRun) ok(t *testing.T) adminRun {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	return r
}

// line fails unless stdout has a line matching the pattern (columns
// separated by runs of spaces, as the tables align them).
func (r adminRun) line(t *testing.T, pattern string) {
	t.Helper()
	if !regexp.MustCompile(`(?m)^` + pattern + `$`).MatchString(r.stdout) {
		t.Fatalf("no line matching %q in:\n%s", pattern, r.stdout)
	}
}

// TestAdminCLIUsers: the users table lists every monitored member with the
// simulator's username and the served status, --json is the API's page,
// --search narrows by username or id, and --all follows the pages.
func TestAdminCLIUsers(t *testing.T) {
	m := startDemo(t, t.TempDir(), 12)
	defer m.Close()
	base := m.URL()
	ids := m.Sim.MemberIDs(m.Sim.GuildIDs()[0])
	eventually(t, "every member monitored", func() bool { return m.Hub.Count() >= len(ids) })

	r := runAdminCLI(t, base, "", "users").ok(t)
	r.line(t, `ID +USERNAME +STATUS`)
	for _, id := range ids {
		u, _ := m.Hub.Get(id)
		r.line(t, regexp.QuoteMeta(id)+` +`+regexp.QuoteMeta(u.Discord.Username())+` +`+string(u.Status()))
	}
	r.line(t, fmt.Sprintf(`%d user\(s\)`, m.Hub.Count()))

	var page struct {
		Users []struct{ ID, Username, Status string }
		Next  *string
	}
	js := runAdminCLI(t, base, "", "--json", "users").ok(t)
	if err := json.Unmarshal([]byte(js.stdout), &page); err != nil || len(page.Users) != m.Hub.Count() || page.Next != nil {
		t.Fatalf("--json users: %v %s", err, js.stdout)
	}

	// --search by a username (case-insensitive) finds that user only.
	target, _ := m.Hub.Get(ids[4])
	s := runAdminCLI(t, base, "", "users", "--search", strings.ToUpper(target.Discord.Username()), "--json").ok(t)
	page.Users = nil
	if err := json.Unmarshal([]byte(s.stdout), &page); err != nil || len(page.Users) != 1 || page.Users[0].ID != ids[4] {
		t.Fatalf("--search %s: %s", target.Discord.Username(), s.stdout)
	}
	// …and by an id substring finds every user whose id holds it, in id order.
	sub := ids[7][5:11]
	s = runAdminCLI(t, base, "", "--json", "users", "--search", sub).ok(t)
	page.Users = nil
	_ = json.Unmarshal([]byte(s.stdout), &page)
	want := 0
	for _, u := range m.Hub.All() {
		if strings.Contains(u.ID, sub) {
			want++
		}
	}
	if len(page.Users) != want || want == 0 {
		t.Fatalf("--search %s: %d users, want %d: %s", sub, len(page.Users), want, s.stdout)
	}
	for i := 1; i < len(page.Users); i++ {
		if snowflakeOrder(page.Users[i].ID) <= snowflakeOrder(page.Users[i-1].ID) {
			t.Fatalf("search results out of id order: %s", s.stdout)
		}
	}
	none := runAdminCLI(t, base, "", "users", "--search", "no-such-user-anywhere").ok(t)
	none.line(t, `0 user\(s\) matching "no-such-user-anywhere"`)

	// One page, then every page.
	p := runAdminCLI(t, base, "", "users", "--limit", "5").ok(t)
	p.line(t, `5 user\(s\)`)
	p.line(t, `more: halyard admin users --after [0-9]+ \(or --all\)`)
	all := runAdminCLI(t, base, "", "users", "--limit", "5", "--all", "--json").ok(t)
	page.Users = nil
	if err := json.Unmarshal([]byte(all.stdout), &page); err != nil || len(page.Users) != m.Hub.Count() {
		t.Fatalf("--all: %v %d users: %s", err, len(page.Users), all.stdout)
	}
}

// snowflakeOrder makes ids comparable as numbers (shorter is smaller).
func snowflakeOrder(id string) string { return fmt.Sprintf("%020s", id) }

// TestAdminCLIUserAndTokens: `user` shows presence, KV keys, token and
// record; a token issued by the CLI writes KV in Lanyard, and once the
// CLI revokes it, it no longer does.
func TestAdminCLIUserAndTokens(t *testing.T) {
	m := startDemo(t, t.TempDir(), 6)
	defer m.Close()
	base := m.URL()
	c := client{t, base}
	id := m.Sim.MemberIDs(m.Sim.GuildIDs()[0])[1]
	eventually(t, "member monitored", func() bool { return m.Hub.IsMonitored(id) })

	r := runAdminCLI(t, base, "", "user", id).ok(t)
	r.line(t, `KV keys +none`)
	r.line(t, `API token +no`)

	issued := runAdminCLI(t, base, "", "token", "issue", id).ok(t)
	token := strings.TrimSpace(issued.stdout)
	if !core.LooksLikeToken(token) || !strings.Contains(issued.stderr, "shown only now") {
		t.Fatalf("token issue printed %q (stderr %q)", issued.stdout, issued.stderr)
	}
	for _, kv := range [][2]string{{"location", "Paris"}, {"pronouns", "they"}} {
		if code, b := c.do("PUT", "/v1/users/"+id+"/kv/"+kv[0], token, []byte(kv[1])); code != http.StatusNoContent {
			t.Fatalf("PUT with the CLI's token: %d %s", code, b)
		}
	}

	u, _ := m.Hub.Get(id)
	rec, _ := m.Hub.Record(id)
	r = runAdminCLI(t, base, "", "user", id).ok(t)
	r.line(t, `ID +`+id)
	r.line(t, `Username +`+regexp.QuoteMeta(u.Discord.Username()))
	r.line(t, `Monitored +yes, `+string(u.Status())+` \(guilds `+m.Sim.GuildIDs()[0]+`\)`)
	r.line(t, `KV keys +2: location, pronouns`)
	r.line(t, `API token +yes`)
	r.line(t, `Monitoring since +`+rec.MonitoringSince.UTC().Format(time.RFC3339))
	r.line(t, `GitHub +-`)

	var detail struct {
		Monitored bool
		Status    string
		KVKeys    []string `json:"kv_keys"`
		Token     bool
		Record    struct {
			MonitoringSince time.Time `json:"monitoring_since"`
		}
	}
	js := runAdminCLI(t, base, "", "user", id, "--json").ok(t)
	if err := json.Unmarshal([]byte(js.stdout), &detail); err != nil || !detail.Monitored || !detail.Token ||
		strings.Join(detail.KVKeys, ",") != "location,pronouns" || !detail.Record.MonitoringSince.Equal(rec.MonitoringSince.Truncate(time.Millisecond)) {
		t.Fatalf("user --json: %v %s", err, js.stdout)
	}

	// A second issue rotates: the first token stops working.
	second := strings.TrimSpace(runAdminCLI(t, base, "", "--json", "token", "issue", id).ok(t).stdout)
	var tok struct{ Token string }
	if json.Unmarshal([]byte(second), &tok) != nil || !core.LooksLikeToken(tok.Token) || tok.Token == token {
		t.Fatalf("token issue --json: %s", second)
	}
	if code, _ := c.do("PUT", "/v1/users/"+id+"/kv/x", token, []byte("y")); code != http.StatusUnauthorized {
		t.Fatalf("the rotated-out token still writes: %d", code)
	}
	runAdminCLI(t, base, "", "token", "revoke", id).ok(t).line(t, `revoked the API token of `+id+` \(if it had one\)`)
	if code, _ := c.do("PUT", "/v1/users/"+id+"/kv/x", tok.Token, []byte("y")); code != http.StatusUnauthorized {
		t.Fatalf("a revoked token still writes: %d", code)
	}
	runAdminCLI(t, base, "", "user", id).ok(t).line(t, `API token +no`)
	rv := runAdminCLI(t, base, "", "token", "revoke", id, "--json").ok(t)
	if !strings.Contains(rv.stdout, `"token": "revoked"`) {
		t.Fatalf("token revoke --json: %s", rv.stdout)
	}
}

// TestAdminCLIStats: the counters match the node's own, and an open
// Lanyard socket is counted.
func TestAdminCLIStats(t *testing.T) {
	m := startDemo(t, t.TempDir(), 7)
	defer m.Close()
	base := m.URL()
	eventually(t, "members monitored", func() bool { return m.Hub.Count() >= 7 })
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/lanyard/socket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	var st struct {
		Version        string
		UptimeSeconds  int64 `json:"uptime_seconds"`
		MonitoredUsers int   `json:"monitored_users"`
		Sockets        map[string]int64
		RecordsPending *int `json:"records_pending"`
		Ready          bool
	}
	eventually(t, "the socket counted", func() bool {
		r := runAdminCLI(t, base, "", "stats", "--json").ok(t)
		return json.Unmarshal([]byte(r.stdout), &st) == nil && st.Sockets["lanyard"] == 1
	})
	if st.MonitoredUsers != m.Hub.Count() || st.Version == "" || st.RecordsPending == nil || st.Sockets["lantern"] != 0 {
		t.Fatalf("stats: %+v", st)
	}
	eventually(t, "ready", func() bool {
		r := runAdminCLI(t, base, "", "stats", "--json").ok(t)
		return json.Unmarshal([]byte(r.stdout), &st) == nil && st.Ready
	})
	r := runAdminCLI(t, base, "", "stats").ok(t)
	r.line(t, `Node +`+regexp.QuoteMeta(base))
	r.line(t, `Version +`+regexp.QuoteMeta(st.Version))
	r.line(t, `Ready +yes`)
	r.line(t, fmt.Sprintf(`Monitored users +%d`, m.Hub.Count()))
	r.line(t, `Open sockets +1 \(lantern 0, lanyard 1\)`)
	r.line(t, `Records pending +[0-9]+`)
	r.line(t, `Up since +\S+ \([0-9hms]+\)`)
}

// TestAdminCLIErrors: each failure has its message and exit status, and a
// purge nobody confirmed deletes nothing.
func TestAdminCLIErrors(t *testing.T) {
	m := startDemo(t, t.TempDir(), 4)
	defer m.Close()
	base := m.URL()
	c := client{t, base}
	id := m.Sim.MemberIDs(m.Sim.GuildIDs()[0])[0]
	eventually(t, "member monitored", func() bool { return m.Hub.IsMonitored(id) })

	// A port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()

	for _, tc := range []struct {
		name   string
		env    map[string]string
		args   []string
		code   int
		stderr string
	}{
		{"unreachable", nil, []string{"--url", dead, "stats"}, adminExitUnreachable, "cannot reach the node at " + dead},
		{"wrong token", nil, []string{"--token", "nope", "users"}, adminExitUnauthorized, "refused the admin token (401)"},
		{"unknown user", nil, []string{"user", "323456789012345678"}, adminExitNotFound, "Halyard holds nothing about this user (404)"},
		{"purge unknown user", nil, []string{"purge", "--yes", "323456789012345678"}, adminExitNotFound, "Halyard holds nothing about this user (404)"},
		{"not Halyard", nil, []string{"--url", base + "/v1", "stats"}, adminExitNotFound, "no such admin route (404)"},
		{"bad id", nil, []string{"user", "abc"}, adminExitUsage, `"abc" is not a Discord user id`},
		{"no id", nil, []string{"purge"}, adminExitUsage, "purge needs one user id"},
		{"unknown command", nil, []string{"frobnicate"}, adminExitUsage, `unknown command "frobnicate"`},
		{"token without verb", nil, []string{"token", "123"}, adminExitUsage, "token needs issue or revoke"},
		{"misplaced flag", nil, []string{"stats", "--yes"}, adminExitUsage, "stats does not take --yes"},
		{"bad url", nil, []string{"--url", "localhost:4001", "stats"}, adminExitUsage, "is not an http(s) URL"},
		{"no token", map[string]string{"HALYARD_URL": base}, []string{"stats"}, adminExitUsage, "no admin token: set ADMIN_TOKEN or pass --token"},
	} {
		env := tc.env
		if env == nil {
			env = map[string]string{"ADMIN_TOKEN": "test-admin-token", "HALYARD_URL": base}
		}
		var out, errOut bytes.Buffer
		code := runAdmin(context.Background(), tc.args, env, strings.NewReader(""), &out, &errOut)
		if code != tc.code || !strings.Contains(errOut.String(), tc.stderr) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d and %q", tc.name, code, errOut.String(), tc.code, tc.stderr)
		}
	}

	// The whole binary's dispatch reaches it too.
	var out, errOut bytes.Buffer
	if code := run([]string{"admin", "--url", dead, "stats"}, map[string]string{"ADMIN_TOKEN": "x"}, &out, &errOut); code != adminExitUnreachable {
		t.Errorf("halyard admin through run: exit %d, %s", code, errOut.String())
	}

	// A purge answered with anything but the id deletes nothing.
	token := strings.TrimSpace(runAdminCLI(t, base, "", "token", "issue", id).ok(t).stdout)
	if code, _ := c.do("PUT", "/v1/users/"+id+"/kv/keep", token, []byte("me")); code != http.StatusNoContent {
		t.Fatal("PUT failed")
	}
	for _, answer := range []string{"", "y\n", "yes\n", id[:5] + "\n"} {
		r := runAdminCLI(t, base, answer, "purge", id)
		if r.code != adminExitFailed || !strings.Contains(r.stderr, "not confirmed: nothing deleted") || !strings.Contains(r.stderr, "Type the user id to confirm") {
			t.Errorf("purge answered %q: exit %d, %s", answer, r.code, r.stderr)
		}
	}
	if !m.Hub.HasKV(id) || !m.Tokens.HasToken(id) {
		t.Fatal("an unconfirmed purge deleted something")
	}
	// Typing the id confirms.
	r := runAdminCLI(t, base, id+"\n", "purge", id).ok(t)
	r.line(t, `purged `+id+`: 1 KV key\(s\), token revoked, record deleted`)
	if m.Hub.HasKV(id) || m.Tokens.HasToken(id) {
		t.Fatal("a confirmed purge left data")
	}

	// Help is not an error.
	h := runAdminCLI(t, base, "", "--help")
	if h.code != 0 || !strings.Contains(h.stdout, "usage: halyard admin") {
		t.Errorf("--help: exit %d %s", h.code, h.stderr)
	}
	_ = io.Discard
}
