package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// sseEvent is one thing read from an event stream: an event (its fields)
// or a comment line.
type sseEvent struct {
	event, id, data, retry string
	comment                string
}

// sseClient reads a stream as `curl -N` would: plain net/http, the body
// read line by line as it arrives.
type sseClient struct {
	t      *testing.T
	resp   *http.Response
	events chan sseEvent
	end    chan error // the error that ended the body (io.EOF: a clean end)
}

// openSSE opens path and, for a 200, reads its events in the background.
func openSSE(t *testing.T, base, path string) *sseClient {
	t.Helper()
	resp, err := http.Get(base + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	c := &sseClient{t: t, resp: resp, events: make(chan sseEvent, 64), end: make(chan error, 1)}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode == http.StatusOK {
		go c.read()
	} else {
		close(c.events)
		c.end <- fmt.Errorf("status %d", resp.StatusCode)
	}
	return c
}

func (c *sseClient) read() {
	br := bufio.NewReader(c.resp.Body)
	var ev sseEvent
	var data []string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			c.end <- err
			close(c.events)
			return
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if data != nil || ev.retry != "" {
				ev.data = strings.Join(data, "\n")
				c.events <- ev
			}
			ev, data = sseEvent{}, nil
		case strings.HasPrefix(line, ":"):
			c.events <- sseEvent{comment: strings.TrimSpace(line[1:])}
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "event":
				ev.event = value
			case "id":
				ev.id = value
			case "data":
				data = append(data, value)
			case "retry":
				ev.retry = value
			}
		}
	}
}

// next returns the next event (comments skipped unless comments is true).
func (c *sseClient) next(comments bool) sseEvent {
	c.t.Helper()
	timeout := time.After(30 * time.Second) // a hang guard, not a timing assertion
	for {
		select {
		case ev, ok := <-c.events:
			if !ok {
				c.t.Fatalf("stream ended: %v", <-c.end)
			}
			if ev.comment != "" && !comments {
				continue
			}
			return ev
		case <-timeout:
			c.t.Fatal("no event from the stream")
		}
	}
}

// nextPresence returns the next presence event.
func (c *sseClient) nextPresence() sseEvent {
	c.t.Helper()
	for {
		if ev := c.next(false); ev.event == "presence" {
			return ev
		}
	}
}

// restPresence is GET /v1/users/:id's data, byte for byte.
func restPresence(c client, id string) string {
	c.t.Helper()
	code, body := c.do("GET", "/v1/users/"+id, "", nil)
	if code != 200 {
		c.t.Fatalf("GET /v1/users/%s: %d %s", id, code, body)
	}
	s := strings.TrimPrefix(string(body), `{"data":`)
	return strings.TrimSuffix(s, `,"success":true}`)
}

// waitReady waits for the first member sync: churn is off, so the
// presences change only when the test pushes a change.
func waitReady(c client) {
	c.t.Helper()
	eventually(c.t, "readyz 200", func() bool { code, _ := c.do("GET", "/readyz", "", nil); return code == 200 })
}

func pushCustomStatus(c client, id, status, text string) {
	c.t.Helper()
	presence := fmt.Sprintf(`{"user":{"id":%q},"status":%q,"client_status":{"desktop":%q},
		"activities":[{"id":"custom","name":"Custom Status","type":4,"state":%q,"created_at":1767268800000}]}`, id, status, status, text)
	if code, b := c.do("POST", "/admin/v1/demo/presence", e2eAdmin, []byte(presence)); code != 202 {
		c.t.Fatalf("demo presence %d %s", code, b)
	}
}

// TestSSEStreamsPresence: a curl -N–style client of the single-user
// stream gets retry:, the current state (byte for byte what REST serves),
// then each change pushed through the gateway, in order, and pings; the
// multi-user stream deduplicates ids, skips absent users and streams them
// once they join.
func TestSSEStreamsPresence(t *testing.T) {
	m := startDemoWith(t, 5, map[string]string{"SSE_PING_INTERVAL": "200ms"})
	c := client{t, m.URL()}
	waitReady(c)
	ids := m.Sim.MemberIDs(m.Sim.GuildIDs()[0])
	target, other := ids[0], ids[1]

	s := openSSE(t, m.URL(), "/v1/users/"+target+"/events")
	if s.resp.StatusCode != 200 {
		t.Fatalf("status %d", s.resp.StatusCode)
	}
	for k, want := range map[string]string{"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache",
		"X-Accel-Buffering": "no", "Access-Control-Allow-Origin": "*"} {
		if got := s.resp.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if ev := s.next(false); ev.retry != "3000" {
		t.Fatalf("first event %+v, want retry: 3000", ev)
	}
	first := s.nextPresence()
	if first.id != target || first.data != restPresence(c, target) {
		t.Fatalf("initial state id %s data\n%s\nREST serves\n%s", first.id, first.data, restPresence(c, target))
	}

	steps := []string{"dnd", "idle", "online"}
	for i, st := range steps {
		pushCustomStatus(c, target, st, fmt.Sprintf("sse step %d", i))
	}
	for i, st := range steps {
		ev := s.nextPresence()
		var p struct {
			Status     string `json:"discord_status"`
			Activities []struct {
				State string `json:"state"`
			} `json:"activities"`
		}
		if err := json.Unmarshal([]byte(ev.data), &p); err != nil {
			t.Fatalf("event data is not JSON: %v\n%s", err, ev.data)
		}
		want := fmt.Sprintf("sse step %d", i)
		if ev.id != target || p.Status != st || len(p.Activities) != 1 || p.Activities[0].State != want {
			t.Fatalf("change %d: id %s %+v, want %s %q", i, ev.id, p, st, want)
		}
	}
	for {
		if ev := s.next(true); ev.comment == "ping" {
			break
		}
	}

	// The multi-user stream: duplicates dropped, the absent id skipped…
	const newcomer = "223456789012345679"
	multi := openSSE(t, m.URL(), "/v1/events?ids="+target+","+other+","+target+","+newcomer)
	if multi.resp.StatusCode != 200 {
		t.Fatalf("multi status %d", multi.resp.StatusCode)
	}
	got := map[string]string{}
	for range 2 {
		ev := multi.nextPresence()
		got[ev.id] = ev.data
	}
	for _, id := range []string{target, other} {
		if got[id] != restPresence(c, id) {
			t.Fatalf("multi initial state of %s:\n%s\nREST:\n%s", id, got[id], restPresence(c, id))
		}
	}
	pushCustomStatus(c, other, "dnd", "multi change")
	if ev := multi.nextPresence(); ev.id != other || !strings.Contains(ev.data, "multi change") {
		t.Fatalf("multi change: %+v", ev)
	}
	// …and streamed once the user appears.
	member := fmt.Sprintf(`{"user":{"id":%q,"username":"sse","discriminator":"0","global_name":"SSE","avatar":null},"joined_at":"2026-01-01T00:00:00Z"}`, newcomer)
	if code, b := c.do("POST", "/admin/v1/demo/members", e2eAdmin, []byte(member)); code != 202 {
		t.Fatalf("demo member %d %s", code, b)
	}
	if ev := multi.nextPresence(); ev.id != newcomer || !strings.Contains(ev.data, `"username":"sse"`) {
		t.Fatalf("the newcomer's event: %+v", ev)
	}
	if n := m.Lanyard.StreamStats().Open; n != 2 {
		t.Errorf("%d streams open, want 2", n)
	}
}

// TestSSEShutdownEndsStreams: Main.Close ends every stream cleanly (the
// body's last chunk: a clean EOF, not a cut) and has counted them by the
// time it returns.
func TestSSEShutdownEndsStreams(t *testing.T) {
	m := startDemoIn(t, t.TempDir(), 3, nil)
	closed := false
	t.Cleanup(func() {
		if !closed {
			m.Close()
		}
	})
	waitReady(client{t, m.URL()})
	ids := m.Sim.MemberIDs(m.Sim.GuildIDs()[0])
	streams := []*sseClient{
		openSSE(t, m.URL(), "/v1/users/"+ids[0]+"/events"),
		openSSE(t, m.URL(), "/v1/events?ids="+ids[0]+","+ids[1]),
	}
	for _, s := range streams {
		s.nextPresence() // started
	}
	if err := m.Close(); err != nil {
		t.Logf("Close: %v", err)
	}
	closed = true
	if st := m.Lanyard.StreamStats(); st.Open != 0 || st.Closes["going_away"] != 2 {
		t.Errorf("after Close: %d open, closes %v; want 0 open, 2 going_away", st.Open, st.Closes)
	}
	for i, s := range streams {
		for range s.events {
		}
		if err := <-s.end; !errors.Is(err, io.EOF) {
			t.Errorf("stream %d ended with %v, want a clean EOF", i, err)
		}
	}
}

// TestSSECapsAndBadInput: bad ids and unknown users are answered in
// Lanyard's error envelope before any stream starts, and streams count
// against the per-address cap together with WebSockets.
func TestSSECapsAndBadInput(t *testing.T) {
	m := startDemoWith(t, 3, map[string]string{"SOCKET_MAX_PER_IP": "2"})
	c := client{t, m.URL()}
	waitReady(c)
	ids := m.Sim.MemberIDs(m.Sim.GuildIDs()[0])
	many := make([]string, 51)
	for i := range many {
		many[i] = fmt.Sprint(100000000000000000 + i)
	}
	cases := []struct {
		path, code string
		status     int
	}{
		{"/v1/users/abc/events", "invalid_user_id", 400},
		{"/v1/users/99999999999999999999/events", "invalid_user_id", 400},
		{"/v1/users/323456789012345678/events", "user_not_monitored", 404},
		{"/v1/events", "invalid_ids", 400},
		{"/v1/events?ids=", "invalid_ids", 400},
		{"/v1/events?ids=" + ids[0] + ",,", "invalid_ids", 400},
		{"/v1/events?ids=" + ids[0] + ",abc", "invalid_ids", 400},
		{"/v1/events?ids=" + ids[0] + "&ids=" + ids[1], "invalid_ids", 400},
		{"/v1/events?ids=" + strings.Join(many, ","), "invalid_ids", 400},
		{"/v1/events?ids=%00", "invalid_ids", 400},
	}
	for _, tc := range cases {
		code, body := c.do("GET", tc.path, "", nil)
		var env struct {
			Success *bool `json:"success"`
			Error   struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if code != tc.status || json.Unmarshal(body, &env) != nil || env.Success == nil || *env.Success ||
			env.Error.Code != tc.code || env.Error.Message == "" {
			t.Errorf("GET %s: %d %s, want %d %s", clip([]byte(tc.path)), code, body, tc.status, tc.code)
		}
	}
	// 50 distinct ids (duplicates beyond them do not count) are fine.
	fifty := append(append([]string{}, many[:50]...), many[0])
	openedBefore := m.Lanyard.StreamStats().Opened
	if s := openSSE(t, m.URL(), "/v1/events?ids="+strings.Join(fifty, ",")); s.resp.StatusCode != 200 {
		t.Fatalf("50 ids: %d", s.resp.StatusCode)
	} else {
		s.resp.Body.Close()
	}

	// The cap: two connections per address, streams and sockets alike.
	// The client sees the stream's headers before the stream joins its
	// group (and counts as open): wait until it was counted, then gone.
	eventually(t, "the 50-id stream closed", func() bool {
		st := m.Lanyard.StreamStats()
		return st.Opened > openedBefore && st.Open == 0
	})
	a := openSSE(t, m.URL(), "/v1/users/"+ids[0]+"/events")
	a.nextPresence()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(m.URL(), "http")+"/lanyard/socket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	// The socket counts once it is admitted, after the upgrade the dial
	// returns on; its Hello comes after that.
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, hello, err := ws.ReadMessage(); err != nil || !bytes.Contains(hello, []byte(`"op":1`)) {
		t.Fatalf("the socket's Hello: %v %s", err, hello)
	}
	third := openSSE(t, m.URL(), "/v1/users/"+ids[1]+"/events")
	if third.resp.StatusCode == http.StatusOK { // a stream: reading it to the end would never return
		third.resp.Body.Close()
		t.Fatal("third connection: 200, want 429 too_many_connections")
	}
	body, _ := io.ReadAll(third.resp.Body)
	if third.resp.StatusCode != http.StatusTooManyRequests || !bytes.Contains(body, []byte(`"code":"too_many_connections"`)) {
		t.Fatalf("third connection: %d %s, want 429 too_many_connections", third.resp.StatusCode, body)
	}
	a.resp.Body.Close() // the client leaves: its slot is free again
	eventually(t, "a stream admitted again", func() bool {
		s := openSSE(t, m.URL(), "/v1/users/"+ids[1]+"/events")
		defer s.resp.Body.Close()
		return s.resp.StatusCode == 200
	})
	if n := m.Lanyard.StreamStats().Closes["client_closed"]; n == 0 {
		t.Errorf("no client_closed counted: %v", m.Lanyard.StreamStats().Closes)
	}
}
