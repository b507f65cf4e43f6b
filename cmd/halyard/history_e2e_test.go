package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Presence history end to end: the opt-in through the bot (a DM through
// the simulator), a scripted day of presence changes through the gateway
// with the recorder's clock injected, the history API's intervals and
// totals, its errors, `.history clear` checked in the store, a restart
// that keeps the opt-in, and the admin purge.

// testClock is a clock a test sets.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// startHistoryDemo runs the production wiring in demo mode with the
// history's clock injected.
func startHistoryDemo(t *testing.T, dataDir string, users int, clock *testClock) *Main {
	t.Helper()
	m := NewMain()
	m.Stdout, m.Stderr = io.Discard, io.Discard
	m.Now = clock.Now
	args := []string{"--demo", "--demo-users", fmt.Sprint(users), "--demo-churn", "0",
		"--addr", "127.0.0.1:0", "--data-dir", dataDir, "--log-level", "warn"}
	if err := m.ParseFlags(args, map[string]string{"ADMIN_TOKEN": "test-admin-token"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := m.Run(ctx); err != nil {
		m.Close()
		t.Fatal(err)
	}
	return m
}

// historyBody is GET /v1/users/:id/history's answer.
type historyBody struct {
	Success bool `json:"success"`
	Data    struct {
		UserID string `json:"user_id"`
		From   int64  `json:"from"`
		To     int64  `json:"to"`
		Status []struct {
			Status string `json:"status"`
			Start  int64  `json:"start"`
			End    *int64 `json:"end"`
		} `json:"status"`
		Activities []struct {
			Name          string  `json:"name"`
			Type          int     `json:"type"`
			ApplicationID *string `json:"application_id"`
			Start         int64   `json:"start"`
			End           *int64  `json:"end"`
		} `json:"activities"`
		Totals []struct {
			Name string `json:"name"`
			Type int    `json:"type"`
			MS   int64  `json:"ms"`
		} `json:"totals"`
	} `json:"data"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func getHistory(t *testing.T, c client, id, query string) (int, historyBody, string) {
	t.Helper()
	code, b := c.do("GET", "/v1/users/"+id+"/history"+query, "", nil)
	var h historyBody
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatalf("history of %s%s: %d %s", id, query, code, b)
	}
	return code, h, string(b)
}

// span renders intervals compactly for comparison: name@start-end in
// hours after t0 (end "…" when ongoing).
func span(t0 time.Time, name string, start int64, end *int64) string {
	h := func(ms int64) string { return time.UnixMilli(ms).Sub(t0).String() }
	e := "…"
	if end != nil {
		e = h(*end)
	}
	return name + "@" + h(start) + "-" + e
}

func (h historyBody) spans(t0 time.Time) (status, acts, totals string) {
	var s, a, tt []string
	for _, iv := range h.Data.Status {
		s = append(s, span(t0, iv.Status, iv.Start, iv.End))
	}
	for _, iv := range h.Data.Activities {
		app := "-"
		if iv.ApplicationID != nil {
			app = *iv.ApplicationID
		}
		a = append(a, span(t0, fmt.Sprintf("%s/%d/%s", iv.Name, iv.Type, app), iv.Start, iv.End))
	}
	for _, x := range h.Data.Totals {
		tt = append(tt, fmt.Sprintf("%s/%d=%s", x.Name, x.Type, time.Duration(x.MS)*time.Millisecond))
	}
	return strings.Join(s, " "), strings.Join(a, " "), strings.Join(tt, " ")
}

// storedHistory counts the user's intervals in the store itself.
func storedHistory(t *testing.T, m *Main, id string) int {
	t.Helper()
	ivs, err := m.Store.History(context.Background(), id, time.Unix(0, 0), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return len(ivs)
}

// storedOptIns returns the opt-ins in the store.
func storedOptIns(t *testing.T, m *Main) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	if err := m.Store.LoadHistoryUsers(context.Background(), func(id string) error { out[id] = true; return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// presenceStep is one scripted change: at t0+At the user's presence
// becomes Status with Activities (JSON array).
type presenceStep struct {
	At         time.Duration
	Status     string
	Activities string
}

const (
	vscode  = `{"type":0,"name":"Visual Studio Code","application_id":"383226320970055681","id":"vsc","created_at":1}`
	spotify = `{"type":2,"name":"Spotify","id":"spotify:1","sync_id":"x","created_at":1}`
	factory = `{"type":0,"name":"Factorio","application_id":"1234567890","id":"fac","created_at":1}`
	custom  = `{"type":4,"name":"Custom Status","id":"custom","state":"busy","created_at":1}`
)

// scriptedDay is a day of changes: the expected timeline is in
// TestHistoryEndToEnd.
var scriptedDay = []presenceStep{
	{2 * time.Hour, "idle", `[` + custom + `]`},
	{3 * time.Hour, "online", `[` + custom + `,` + vscode + `]`},
	{5 * time.Hour, "dnd", `[` + vscode + `,` + spotify + `]`},
	{5*time.Hour + 30*time.Minute, "dnd", `[` + vscode + `]`},
	{8 * time.Hour, "online", `[]`},
	{12 * time.Hour, "offline", `[]`},
	{20 * time.Hour, "online", `[` + factory + `]`},
	{23 * time.Hour, "online", `[]`},
}

// pushPresence sends a presence through the simulator's gateway.
func pushDemoPresence(t *testing.T, c client, id, status, activities string) {
	t.Helper()
	p := fmt.Sprintf(`{"user":{"id":%q},"status":%q,"client_status":{"desktop":%q},"activities":%s}`, id, status, status, activities)
	if status == "offline" {
		p = fmt.Sprintf(`{"user":{"id":%q},"status":"offline","client_status":{},"activities":[]}`, id)
	}
	if code, body := c.do("POST", "/admin/v1/demo/presence", e2eAdmin, []byte(p)); code != 202 {
		t.Fatalf("demo presence: %d %s", code, body)
	}
}

// waitRecorded waits until the history shows an interval starting or
// ending at at (the recorder has taken the change).
func waitRecorded(t *testing.T, c client, id string, at time.Time) {
	t.Helper()
	ms := at.UnixMilli()
	eventually(t, "the change at "+at.String()+" recorded", func() bool {
		_, h, _ := getHistory(t, c, id, "")
		for _, iv := range h.Data.Status {
			if iv.Start == ms || iv.End != nil && *iv.End == ms {
				return true
			}
		}
		for _, iv := range h.Data.Activities {
			if iv.Start == ms || iv.End != nil && *iv.End == ms {
				return true
			}
		}
		return false
	})
}

// playDay opts nobody in; it plays the scripted day for id from t0.
func playDay(t *testing.T, c client, clock *testClock, id string, t0 time.Time) {
	t.Helper()
	for _, s := range scriptedDay {
		clock.Set(t0.Add(s.At))
		pushDemoPresence(t, c, id, s.Status, s.Activities)
		waitRecorded(t, c, id, t0.Add(s.At))
	}
}

func TestHistoryEndToEnd(t *testing.T) {
	dataDir := t.TempDir()
	// The day ends about now, so a store with a TTL would keep it.
	t0 := time.Now().UTC().Truncate(time.Hour).Add(-24 * time.Hour)
	clock := &testClock{t: t0}
	m := startHistoryDemo(t, dataDir, 10, clock)
	defer func() { m.Close() }()
	c := client{t, m.URL()}
	ids := m.Sim.MemberIDs(m.Sim.GuildIDs()[0])
	alice, bob := ids[1], ids[2]
	for _, id := range []string{alice, bob} {
		pushDemoPresence(t, c, id, "online", `[`+custom+`]`)
	}
	eventually(t, "both online", func() bool {
		for _, id := range []string{alice, bob} {
			_, b := c.do("GET", "/v1/users/"+id, "", nil)
			if !strings.Contains(string(b), `"discord_status":"online"`) {
				return false
			}
		}
		return true
	})

	// Private by default: a monitored user without history.
	code, h, raw := getHistory(t, c, alice, "")
	if code != 404 || h.Success || h.Error == nil || h.Error.Code != "history_disabled" || h.Error.Message == "" {
		t.Fatalf("history before opting in: %d %s", code, raw)
	}
	if want := `{"success":false,"error":{"code":"history_disabled","message":`; !strings.HasPrefix(raw, want) {
		t.Fatalf("history_disabled body %s, want Lanyard's error envelope %s…", raw, want)
	}

	// The opt-in travels the simulator's gateway to the bot and back.
	chat := botChat{t, m, c, alice}
	if r := chat.dm(".history"); !strings.Contains(r.Content, "**off**") {
		t.Fatalf(".history (no argument) reply: %q", r.Content)
	}
	if r := chat.dm(".history on"); !strings.Contains(r.Content, "**on**") || !strings.Contains(r.Content, "/u/"+alice) {
		t.Fatalf(".history on reply: %q", r.Content)
	}
	if !storedOptIns(t, m)[alice] {
		t.Fatal("the opt-in is not in the store")
	}
	code, h, raw = getHistory(t, c, alice, "")
	if st, _, _ := h.spans(t0); code != 200 || !h.Success || h.Data.UserID != alice || st != "online@0s-…" {
		t.Fatalf("history right after opting in: %d %s", code, raw)
	}

	playDay(t, c, clock, alice, t0)
	end := t0.Add(24 * time.Hour)
	clock.Set(end)

	wantStatus := "online@0s-2h0m0s idle@2h0m0s-3h0m0s online@3h0m0s-5h0m0s dnd@5h0m0s-8h0m0s online@8h0m0s-12h0m0s " +
		"offline@12h0m0s-20h0m0s online@20h0m0s-…"
	wantActs := "Visual Studio Code/0/383226320970055681@3h0m0s-8h0m0s Spotify/2/-@5h0m0s-5h30m0s Factorio/0/1234567890@20h0m0s-23h0m0s"
	wantTotals := "Visual Studio Code/0=5h0m0s Factorio/0=3h0m0s Spotify/2=30m0s"
	check := func(what, query, status, acts, totals string, from, to time.Time) {
		t.Helper()
		code, h, raw := getHistory(t, c, alice, query)
		st, ac, tt := h.spans(t0)
		if code != 200 || st != status || ac != acts || tt != totals || h.Data.From != from.UnixMilli() || h.Data.To != to.UnixMilli() {
			t.Fatalf("%s: %d\n got status %s\nwant        %s\n got activities %s\nwant            %s\n got totals %s\nwant        %s\nbody %s",
				what, code, st, status, ac, acts, tt, totals, raw)
		}
	}
	// The default window (the last 7 days) holds the whole day.
	check("default window", "", wantStatus, wantActs, wantTotals, end.Add(-7*24*time.Hour), end)
	check("trailing slash", "/", wantStatus, wantActs, wantTotals, end.Add(-7*24*time.Hour), end)
	check("explicit day", fmt.Sprintf("?from=%d&to=%d", t0.UnixMilli(), end.UnixMilli()), wantStatus, wantActs, wantTotals, t0, end)
	// A window inside the day: intervals clipped to it, an interval
	// ongoing past its end ends with it.
	check("4h to 6h", fmt.Sprintf("?from=%d&to=%d", t0.Add(4*time.Hour).UnixMilli(), t0.Add(6*time.Hour).UnixMilli()),
		"online@4h0m0s-5h0m0s dnd@5h0m0s-6h0m0s",
		"Visual Studio Code/0/383226320970055681@4h0m0s-6h0m0s Spotify/2/-@5h0m0s-5h30m0s",
		"Visual Studio Code/0=2h0m0s Spotify/2=30m0s", t0.Add(4*time.Hour), t0.Add(6*time.Hour))
	check("21h to now", fmt.Sprintf("?from=%d", t0.Add(21*time.Hour).UnixMilli()),
		"online@21h0m0s-…", "Factorio/0/1234567890@21h0m0s-23h0m0s", "Factorio/0=2h0m0s", t0.Add(21*time.Hour), end)

	// Bad windows and users: Lanyard's error envelope, never a 5xx.
	for _, q := range []string{"?from=abc", "?from=-1", "?to=1.5", "?from=", "?from=1&from=2",
		"?to=99999999999999999999", "?to=253402300800000",
		fmt.Sprintf("?from=%d&to=%d", t0.UnixMilli(), t0.UnixMilli()),
		fmt.Sprintf("?from=%d&to=%d", end.UnixMilli(), t0.UnixMilli())} {
		code, h, raw := getHistory(t, c, alice, q)
		if code != 400 || h.Success || h.Error == nil || h.Error.Code != "bad_request" || h.Error.Message == "" {
			t.Errorf("history%s: %d %s, want 400 bad_request", q, code, raw)
		}
	}
	for _, id := range []string{"1", "abc", url.PathEscape("<script>"), strings.Repeat("9", 40)} {
		code, h, raw := getHistory(t, c, id, "")
		if code != 404 || h.Error == nil || h.Error.Code != "user_not_monitored" {
			t.Errorf("history of %q: %d %s", id, code, raw)
		}
	}
	if code, h, raw := getHistory(t, c, bob, ""); code != 404 || h.Error == nil || h.Error.Code != "history_disabled" {
		t.Fatalf("bob (not opted in): %d %s", code, raw)
	}

	// The recorded intervals are in the store once written.
	if err := m.History.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	n := storedHistory(t, m, alice)
	if n < 9 {
		t.Fatalf("%d intervals stored for the day, want at least 9", n)
	}
	// /metrics: one user, at least what is stored written (the loop may
	// have written a split since), nothing dropped.
	_, metrics := c.do("GET", "/metrics", "", nil)
	var written int
	if m := regexp.MustCompile(`(?m)^halyard_history_intervals_written_total (\d+)$`).FindSubmatch(metrics); m != nil {
		written, _ = strconv.Atoi(string(m[1]))
	}
	if !strings.Contains(string(metrics), "halyard_history_users 1\n") || written < n ||
		!strings.Contains(string(metrics), "halyard_history_intervals_dropped_total 0\n") ||
		!strings.Contains(string(metrics), "halyard_history_intervals_pending ") {
		t.Errorf("/metrics: %d written (stored %d):\n%s", written, n, metrics)
	}

	// A restart keeps the opt-in and the history; the interval open at the
	// stop ends there and a new one starts when the user is seen again.
	m.Close()
	m = startHistoryDemo(t, dataDir, 10, clock)
	c = client{t, m.URL()}
	eventually(t, "alice served again", func() bool { code, _ := c.do("GET", "/v1/users/"+alice, "", nil); return code == 200 })
	code, h, raw = getHistory(t, c, alice, fmt.Sprintf("?from=%d&to=%d", t0.UnixMilli(), end.UnixMilli()))
	if st, ac, _ := h.spans(t0); code != 200 || !strings.HasPrefix(st, "online@0s-2h0m0s idle@2h0m0s-3h0m0s") || ac != wantActs {
		t.Fatalf("history after a restart: %d %s", code, raw)
	}
	if code, _, raw := getHistory(t, c, bob, ""); code != 404 || !strings.Contains(raw, "history_disabled") {
		t.Fatalf("bob after a restart: %d %s", code, raw)
	}

	// .history clear deletes every record at once, in the store too.
	chat = botChat{t, m, c, alice}
	if r := chat.dm(".history clear"); !strings.Contains(r.Content, "Deleted your presence history") {
		t.Fatalf(".history clear reply: %q", r.Content)
	}
	if n := storedHistory(t, m, alice); n != 0 {
		t.Fatalf("%d intervals stored after .history clear", n)
	}
	code, h, raw = getHistory(t, c, alice, fmt.Sprintf("?from=%d&to=%d", t0.UnixMilli(), end.UnixMilli()))
	if code != 200 || len(h.Data.Activities) != 0 || len(h.Data.Totals) != 0 || len(h.Data.Status) > 1 {
		t.Fatalf("history after .history clear: %d %s", code, raw)
	}

	// .history off: nothing more is recorded, the API says disabled.
	if r := chat.dm(".history off"); !strings.Contains(r.Content, "**off**") {
		t.Fatalf(".history off reply: %q", r.Content)
	}
	if code, _, raw := getHistory(t, c, alice, ""); code != 404 || !strings.Contains(raw, "history_disabled") {
		t.Fatalf("alice after .history off: %d %s", code, raw)
	}
	if storedOptIns(t, m)[alice] {
		t.Fatal("the opt-in is still stored after .history off")
	}

	// The admin purge removes the history and the opt-in.
	pushDemoPresence(t, c, bob, "online", `[]`)
	eventually(t, "bob online", func() bool {
		_, b := c.do("GET", "/v1/users/"+bob, "", nil)
		return strings.Contains(string(b), `"discord_status":"online"`)
	})
	bobChat := botChat{t, m, c, bob}
	if r := bobChat.dm(".history on"); !strings.Contains(r.Content, "**on**") {
		t.Fatalf("bob's .history on: %q", r.Content)
	}
	clock.Set(end.Add(time.Hour))
	pushDemoPresence(t, c, bob, "dnd", `[]`)
	waitRecorded(t, c, bob, end.Add(time.Hour))
	clock.Set(end.Add(2 * time.Hour))
	pushDemoPresence(t, c, bob, "idle", `[`+vscode+`]`)
	waitRecorded(t, c, bob, end.Add(2*time.Hour))
	if err := m.History.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := storedHistory(t, m, bob); n == 0 {
		t.Fatal("bob's history was not stored")
	}
	runAdminCLI(t, m.URL(), "", "purge", bob, "--yes").ok(t)
	if n := storedHistory(t, m, bob); n != 0 {
		t.Fatalf("%d of bob's intervals stored after the purge", n)
	}
	if storedOptIns(t, m)[bob] {
		t.Fatal("bob's opt-in is stored after the purge")
	}
	if code, _, raw := getHistory(t, c, bob, ""); code != 404 || !strings.Contains(raw, "history_disabled") {
		t.Fatalf("bob after the purge: %d %s", code, raw)
	}
}

// historySlash runs /history <sub> as user in guild and returns the
// reply's content and flags.
func historySlash(t *testing.T, m *Main, guild, user, sub string) (string, int) {
	t.Helper()
	return slashCommand(t, m, guild, user, "history", `[{"name":"`+sub+`","type":1}]`)
}

// TestHistorySlashCommand: /history on|clear|off through the simulator's
// interactions, answered ephemerally in the guild, with the same effect
// as the prefix command.
func TestHistorySlashCommand(t *testing.T) {
	m := startDemo(t, t.TempDir(), 5)
	defer m.Close()
	c := client{t, m.URL()}
	guild := m.Sim.GuildIDs()[0]
	user := m.Sim.MemberIDs(guild)[1]
	eventually(t, "member served", func() bool { code, _ := c.do("GET", "/v1/users/"+user, "", nil); return code == 200 })

	const ephemeral = 1 << 6
	if content, flags := historySlash(t, m, guild, user, "on"); !strings.Contains(content, "**on**") ||
		!strings.Contains(content, "`/history off`") || flags&ephemeral == 0 {
		t.Fatalf("/history on: %q flags %d", content, flags)
	}
	if code, _, raw := getHistory(t, c, user, ""); code != 200 {
		t.Fatalf("history after /history on: %d %s", code, raw)
	}
	if content, _ := historySlash(t, m, guild, user, "clear"); !strings.Contains(content, "Deleted your presence history") {
		t.Fatalf("/history clear: %q", content)
	}
	if content, _ := historySlash(t, m, guild, user, "off"); !strings.Contains(content, "**off**") {
		t.Fatalf("/history off: %q", content)
	}
	if code, _, raw := getHistory(t, c, user, ""); code != 404 || !strings.Contains(raw, "history_disabled") {
		t.Fatalf("history after /history off: %d %s", code, raw)
	}
	if storedOptIns(t, m)[user] {
		t.Fatal("the opt-in is stored after /history off")
	}
}

// TestHistoryStoreOutage: while the embedded store is stopped, changes
// are still recorded (in memory) and the history API answers from
// memory, the commands say the database is unavailable; once it is back
// the waiting intervals are written.
func TestHistoryStoreOutage(t *testing.T) {
	t0 := time.Now().UTC().Truncate(time.Hour).Add(-2 * time.Hour)
	clock := &testClock{t: t0}
	m := startHistoryDemo(t, t.TempDir(), 5, clock)
	defer m.Close()
	c := client{t, m.URL()}
	user := m.Sim.MemberIDs(m.Sim.GuildIDs()[0])[1]
	pushDemoPresence(t, c, user, "online", `[]`)
	eventually(t, "online", func() bool {
		_, b := c.do("GET", "/v1/users/"+user, "", nil)
		return strings.Contains(string(b), `"discord_status":"online"`)
	})
	chat := botChat{t, m, c, user}
	if r := chat.dm(".history on"); !strings.Contains(r.Content, "**on**") {
		t.Fatalf(".history on: %q", r.Content)
	}

	if !m.Store.StopEmbedded() {
		t.Fatal("the embedded store was not running")
	}
	clock.Set(t0.Add(time.Hour))
	pushDemoPresence(t, c, user, "dnd", `[`+vscode+`]`)
	eventually(t, "dnd served", func() bool {
		_, b := c.do("GET", "/v1/users/"+user, "", nil)
		return strings.Contains(string(b), `"discord_status":"dnd"`)
	})
	// Timelines are answered from memory: the outage does not show. The
	// recorder takes the hub's events on its own goroutine, so the change
	// REST already serves reaches the timeline a moment later.
	var (
		code    int
		h       historyBody
		raw, st string
	)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		code, h, raw = getHistory(t, c, user, "")
		if st, _, _ = h.spans(t0); code == 200 && st == "online@0s-1h0m0s dnd@1h0m0s-…" || time.Now().After(deadline) {
			break
		}
	}
	if code != 200 || st != "online@0s-1h0m0s dnd@1h0m0s-…" {
		t.Fatalf("history while the store is down: %d %s", code, raw)
	}
	if r := chat.dm(".history off"); !strings.Contains(r.Content, "Could not turn presence history off") {
		t.Fatalf(".history off while the store is down: %q", r.Content)
	}
	if err := m.History.Flush(context.Background()); err == nil {
		t.Fatal("a flush succeeded while the store is down")
	}
	if st := m.History.Stats(); st.Pending == 0 || st.Dropped != 0 {
		t.Fatalf("while the store is down: %+v, want the online interval pending", st)
	}

	if err := m.Store.StartEmbedded(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the waiting intervals written", func() bool {
		return m.History.Flush(context.Background()) == nil && m.History.Stats().Pending == 0
	})
	code, h, raw = getHistory(t, c, user, "")
	if st, ac, _ := h.spans(t0); code != 200 || st != "online@0s-1h0m0s dnd@1h0m0s-…" ||
		ac != "Visual Studio Code/0/383226320970055681@1h0m0s-…" {
		t.Fatalf("history after the outage: %d %s", code, raw)
	}
	if n := storedHistory(t, m, user); n != 1 {
		t.Fatalf("%d intervals stored after the outage, want 1 (online)", n)
	}
}
