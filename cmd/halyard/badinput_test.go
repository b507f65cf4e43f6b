package main

import (
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

// The bad-input tables: every dialect over real HTTP and WebSocket on
// loopback against the production wiring (demo mode, the simulator as
// Discord). Each case is bounded by a deadline (a hang fails it), must get
// the documented 4xx body or close code (never a 5xx or a dropped
// connection), and a refused write must leave the KV as it was.

// badClient bounds every request.
var badClient = &http.Client{Timeout: 15 * time.Second}

// badCase is one HTTP request and the answer it must get.
type badCase struct {
	name         string
	method, path string
	auth, ctype  string
	body         []byte
	status       int
	// want is a substring the body must hold (the dialect's code or
	// message), "" to check only the envelope.
	want string
	// goServer marks requests Go's HTTP server refuses before any handler
	// runs (a request line whose path has a malformed escape): a plain
	// "400 Bad Request", not the dialect's envelope.
	goServer bool
}

// goBadRequest is net/http's own answer to a request line it cannot parse.
const goBadRequest = "400 Bad Request"

// badEnv is a running Halyard with user a (token, one pair) monitored.
type badEnv struct {
	t     *testing.T
	m     *Main
	base  string
	a     string
	token string
}

func newBadEnv(t *testing.T) *badEnv {
	m := startDemoWith(t, 6, map[string]string{"HARMY_RATE_PER_SECOND": "0", "HARMY_RATE_PER_MINUTE": "0"})
	e := &badEnv{t: t, m: m, base: m.URL(), a: m.Sim.MemberIDs(m.Sim.GuildIDs()[0])[0]}
	eventually(t, "member monitored", func() bool { return m.Hub.IsMonitored(e.a) })
	e.token = issueToken(client{t, e.base}, e.a)
	if code, _, err := e.do(badCase{method: "PUT", path: "/v1/users/" + e.a + "/kv/keep", auth: e.token, body: []byte("1")}); err != nil || code != 204 {
		t.Fatalf("setup PUT: %d %v", code, err)
	}
	return e
}

func (e *badEnv) do(c badCase) (int, []byte, error) {
	req, err := http.NewRequest(c.method, e.base+"/", bytes.NewReader(c.body))
	if err != nil {
		return 0, nil, err
	}
	// The request line carries the path exactly as written, malformed
	// escapes included (url.Parse would refuse them).
	path, query, _ := strings.Cut(c.path, "?")
	req.URL.Opaque, req.URL.RawQuery = path, query
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	if c.ctype != "" {
		req.Header.Set("Content-Type", c.ctype)
	}
	resp, err := badClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// run plays the table; envelope checks one error body's shape.
func (e *badEnv) run(cases []badCase, envelope func(status int, body []byte) error) {
	e.t.Helper()
	for _, c := range cases {
		before := e.m.Hub.KV(e.a).Clone()
		code, body, err := e.do(c)
		switch {
		case err != nil:
			e.t.Errorf("%s: no answer: %v", c.name, err)
			continue
		case code >= 500:
			e.t.Errorf("%s: %d %s", c.name, code, clip(body))
		case code != c.status:
			e.t.Errorf("%s: status %d, want %d: %s", c.name, code, c.status, clip(body))
		case !bytes.Contains(body, []byte(c.want)):
			e.t.Errorf("%s: body %s lacks %q", c.name, clip(body), c.want)
		}
		if code >= 400 && !c.goServer {
			if err := envelope(code, body); err != nil {
				e.t.Errorf("%s: %v: %s", c.name, err, clip(body))
			}
			if after := e.m.Hub.KV(e.a); !after.Equal(before) {
				e.t.Errorf("%s: refused with %d but the KV changed from %v to %v", c.name, code, before, after)
			}
		}
	}
}

// deepJSON is n nested arrays under key.
func deepJSON(key string, n int) []byte {
	return []byte(`{"` + key + `":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`)
}

// overCap is one byte over the server's 1 MiB body cap.
var overCap = bytes.Repeat([]byte("a"), 1<<20+1)

// wsOutcome is how a socket case ended: the frames the server sent after
// Hello and the close code (0: still open at the end).
type wsOutcome struct {
	frames [][]byte
	code   int
}

// wsCase dials path, reads Hello, sends one message, then reads until the
// server closes or after settles, bounded by a deadline.
func wsCase(t *testing.T, base, path string, typ int, msg []byte, settle time.Duration) (wsOutcome, error) {
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	ws, _, err := d.Dial("ws"+strings.TrimPrefix(base, "http")+path, nil)
	if err != nil {
		return wsOutcome{}, err
	}
	defer ws.Close()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, _, err := ws.ReadMessage(); err != nil { // Hello
		return wsOutcome{}, fmt.Errorf("hello: %v", err)
	}
	_ = ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := ws.WriteMessage(typ, msg); err != nil {
		return wsOutcome{}, fmt.Errorf("write: %v", err)
	}
	var out wsOutcome
	_ = ws.SetReadDeadline(time.Now().Add(settle))
	for {
		_, data, err := ws.ReadMessage()
		if err == nil {
			out.frames = append(out.frames, data)
			continue
		}
		var ce *websocket.CloseError
		var ne interface{ Timeout() bool }
		switch {
		case errors.As(err, &ce):
			out.code = ce.Code
			return out, nil
		case errors.As(err, &ne) && ne.Timeout():
			return out, nil // still open
		}
		return out, fmt.Errorf("socket dropped without a close frame: %v", err)
	}
}

// TestBadInputLanyard: docs/compat/lanyard.md §2.1, §5.3, §5.7 and §9's table.
func TestBadInputLanyard(t *testing.T) {
	e := newBadEnv(t)
	a, tok := e.a, e.token
	other := e.m.Sim.MemberIDs(e.m.Sim.GuildIDs()[0])[1]
	kv := "/v1/users/" + a + "/kv/"
	cases := []badCase{
		{name: "unknown route", method: "GET", path: "/v1/nope", status: 404, want: `"not_found"`},
		{name: "id not a snowflake", method: "GET", path: "/v1/users/abc", status: 404, want: `"user_not_monitored"`},
		{name: "id too long", method: "GET", path: "/v1/users/" + strings.Repeat("9", 30), status: 404, want: `"user_not_monitored"`},
		{name: "PUT no Authorization", method: "PUT", path: kv + "k", body: []byte("v"), status: 401, want: `"no_permission"`},
		{name: "PUT garbage Authorization", method: "PUT", path: kv + "k", auth: "g\xe4rbage\xff", body: []byte("v"), status: 401, want: `"no_permission"`},
		{name: "PUT Bearer (Lanyard wants the bare key)", method: "PUT", path: kv + "k", auth: "Bearer " + tok, body: []byte("v"), status: 401, want: `"no_permission"`},
		{name: "PUT another user's id", method: "PUT", path: "/v1/users/" + other + "/kv/k", auth: tok, body: []byte("v"), status: 401, want: `"no_permission"`},
		{name: "PUT bad id", method: "PUT", path: "/v1/users/abc/kv/k", auth: tok, body: []byte("v"), status: 401, want: `"no_permission"`},
		{name: "PUT invalid UTF-8 value", method: "PUT", path: kv + "k", auth: tok, body: []byte("\xff\xfe\xfd"), status: 404, want: "value must be valid UTF-8"},
		{name: "PUT over 1 MiB", method: "PUT", path: kv + "k", auth: tok, body: overCap, status: 413, want: `"payload_too_large"`},
		{name: "PUT 120001-byte value", method: "PUT", path: kv + "k", auth: tok, body: bytes.Repeat([]byte("\u0915\u094d"), 20001), status: 404, want: "value must be 30000 characters or less"},
		{name: "PUT key with a dash", method: "PUT", path: kv + "a-b", auth: tok, body: []byte("v"), status: 404, want: `"kv_validation_failed"`},
		{name: "PUT 256-character key", method: "PUT", path: kv + strings.Repeat("k", 256), auth: tok, body: []byte("v"), status: 404, want: "key must be 255 characters or less"},
		{name: "PUT malformed percent-encoding", method: "PUT", path: kv + "%zz", auth: tok, body: []byte("v"), status: 400, want: goBadRequest, goServer: true},
		{name: "PUT truncated percent-encoding", method: "PUT", path: kv + "k%2", auth: tok, body: []byte("v"), status: 400, want: goBadRequest, goServer: true},
		{name: "PUT escaped slash in the key", method: "PUT", path: kv + "a%2Fb", auth: tok, body: []byte("v"), status: 404, want: `"kv_validation_failed"`},
		{name: "PUT overlong UTF-8 in the key", method: "PUT", path: kv + "%C0%AF", auth: tok, body: []byte("v"), status: 404, want: `"kv_validation_failed"`},
		{name: "PUT NUL in the key", method: "PUT", path: kv + "a%00b", auth: tok, body: []byte("v"), status: 404, want: `"kv_validation_failed"`},
		{name: "PATCH array", method: "PATCH", path: "/v1/users/" + a + "/kv", auth: tok, body: []byte(`["a"]`), status: 404, want: `"invalid_kv_value"`},
		{name: "PATCH number value", method: "PATCH", path: "/v1/users/" + a + "/kv", auth: tok, body: []byte(`{"a":1}`), status: 404, want: `"invalid_kv_value"`},
		{name: "PATCH null value", method: "PATCH", path: "/v1/users/" + a + "/kv", auth: tok, body: []byte(`{"a":null}`), status: 404, want: `"invalid_kv_value"`},
		{name: "PATCH one bad key of two", method: "PATCH", path: "/v1/users/" + a + "/kv", auth: tok, body: []byte(`{"good":"v","bad key":"v"}`), status: 404, want: `"kv_validation_failed"`},
		{name: "PATCH deep JSON", method: "PATCH", path: "/v1/users/" + a + "/kv", auth: tok, body: deepJSON("a", 100000), status: 404, want: `"invalid_kv_value"`},
		{name: "PATCH truncated JSON", method: "PATCH", path: "/v1/users/" + a + "/kv", auth: tok, body: []byte(`{"a":"b"`), status: 404, want: `"invalid_kv_value"`},
		{name: "PATCH huge number", method: "PATCH", path: "/v1/users/" + a + "/kv", auth: tok, body: []byte(`{"a":1e999999}`), status: 404, want: `"invalid_kv_value"`},
		{name: "PATCH over 1 MiB", method: "PATCH", path: "/v1/users/" + a + "/kv", auth: tok, body: overCap, status: 413, want: `"payload_too_large"`},
		{name: "PATCH no Authorization", method: "PATCH", path: "/v1/users/" + a + "/kv", body: []byte(`{"a":"b"}`), status: 401, want: `"no_permission"`},
		{name: "DELETE no Authorization", method: "DELETE", path: kv + "keep", status: 401, want: `"no_permission"`},
		{name: "DELETE malformed percent-encoding", method: "DELETE", path: kv + "%", auth: tok, status: 400, want: goBadRequest, goServer: true},
	}
	e.run(cases, func(status int, body []byte) error {
		var env struct {
			Success *bool `json:"success"`
			Error   struct{ Code, Message string }
		}
		if json.Unmarshal(body, &env) != nil || env.Success == nil || *env.Success || env.Error.Code == "" || env.Error.Message == "" {
			return errors.New("not Lanyard's error envelope")
		}
		return nil
	})

	// The socket (docs/compat/lanyard.md §5.3, §5.7 and §9): documented close codes, bounded.
	oversize := append([]byte(`{"op":3,"d":"`), bytes.Repeat([]byte("a"), 8_000_001)...)
	sockets := []struct {
		name string
		typ  int
		msg  []byte
		code int
	}{
		{"not JSON", websocket.TextMessage, []byte("not json"), 4006},
		{"array", websocket.TextMessage, []byte(`[1]`), 4006},
		{"binary garbage", websocket.BinaryMessage, []byte{0, 1, 2, 0xff}, 4006},
		{"invalid UTF-8 text", websocket.TextMessage, []byte("{\"op\":3,\"d\":\"\xff\"}"), websocket.CloseInvalidFramePayloadData},
		{"unknown op", websocket.TextMessage, []byte(`{"op":7}`), 4004},
		{"op as a string", websocket.TextMessage, []byte(`{"op":"2","d":{"subscribe_to_all":true}}`), 4004},
		{"huge op", websocket.TextMessage, []byte(`{"op":1e999}`), 4004},
		{"op 2 without d", websocket.TextMessage, []byte(`{"op":2}`), 4005},
		{"op 2 with an array d", websocket.TextMessage, []byte(`{"op":2,"d":[]}`), 4005},
		{"ids not an array", websocket.TextMessage, []byte(`{"op":2,"d":{"subscribe_to_ids":"1"}}`), 4006},
		{"ids of numbers", websocket.TextMessage, []byte(`{"op":2,"d":{"subscribe_to_ids":[1]}}`), 4006},
		{"deep JSON", websocket.TextMessage, deepJSON("op", 100000), 4006},
		{"oversize frame", websocket.TextMessage, oversize, websocket.CloseMessageTooBig},
	}
	for _, s := range sockets {
		for _, path := range []string{"/lanyard/socket", "/socket"} {
			out, err := wsCase(t, e.base, path, s.typ, s.msg, 10*time.Second)
			if err != nil {
				t.Errorf("%s %s: %v", path, s.name, err)
			} else if out.code != s.code {
				t.Errorf("%s %s: close %d, want %d (frames %d)", path, s.name, out.code, s.code, len(out.frames))
			}
		}
	}
	t.Logf("lanyard: %d HTTP cases, %d socket cases on 2 paths", len(cases), len(sockets))
}

// TestBadInputLantern: docs/compat/lantern.md §1.4, §2.3–§2.4, §5.3, §6.4 and
// §6.9: 400 {"errors":…} for validation, {"error":…} for the rest; the
// socket ignores what is not JSON and answers a bad opcode with
// DISCONNECT and a close without status (1005).
func TestBadInputLantern(t *testing.T) {
	e := newBadEnv(t)
	a, tok := e.a, e.token
	st := "/api/v1/users/" + a + "/storage/"
	var fifty []string
	for i := range 51 {
		fifty = append(fifty, fmt.Sprintf("user_ids=1000000000000000%02d", i))
	}
	j := "application/json"
	cases := []badCase{
		{name: "bulk without ids", method: "GET", path: "/api/v1/users", status: 400, want: "user_ids is required."},
		{name: "bulk id too short", method: "GET", path: "/api/v1/users?user_ids=abc", status: 400, want: "17-19 characters"},
		{name: "bulk malformed percent-encoding", method: "GET", path: "/api/v1/users?user_ids=%zz%zz%zz%zz%zz%zz%zz%zz%zz", status: 400, want: `"errors"`},
		{name: "bulk overlong UTF-8", method: "GET", path: "/api/v1/users?user_ids=%C0%AF%C0%AF", status: 400, want: `"errors"`},
		{name: "bulk duplicates", method: "GET", path: "/api/v1/users?user_ids=" + a + "&user_ids=" + a, status: 400, want: "must not contain duplicates"},
		{name: "bulk 51 ids", method: "GET", path: "/api/v1/users?" + strings.Join(fifty, "&"), status: 400, want: "up to 50 users"},
		{name: "user id not a number", method: "GET", path: "/api/v1/users/abc", status: 400, want: "user_id must be a number."},
		{name: "user id too long", method: "GET", path: "/api/v1/users/" + strings.Repeat("1", 25), status: 400, want: "17-19 characters"},
		{name: "svg=2", method: "GET", path: "/api/v1/users/" + a + "?svg=2", status: 400, want: "svg must be either 0 or 1."},
		{name: "theme twice", method: "GET", path: "/api/v1/users/" + a + "?svg=1&theme=dark&theme=light", status: 400, want: "Theme must be a string."},
		{name: "borderRadius text", method: "GET", path: "/api/v1/users/" + a + "?svg=1&borderRadius=1px", status: 400, want: "borderRadius must be a number."},
		{name: "title too long", method: "GET", path: "/api/v1/users/" + a + "?svg=1&noActivityTitle=" + strings.Repeat("x", 65), status: 400, want: "noActivityTitle must be 1-64"},
		{name: "PUT text/plain", method: "PUT", path: st + "k", auth: tok, ctype: "text/plain", body: []byte(`{"value":"v"}`), status: 400, want: "value is required."},
		{name: "PUT number value", method: "PUT", path: st + "k", auth: tok, ctype: j, body: []byte(`{"value":1}`), status: 400, want: "value must be a string."},
		{name: "PUT array body", method: "PUT", path: st + "k", auth: tok, ctype: j, body: []byte(`["v"]`), status: 400, want: "value is required."},
		{name: "PUT deep JSON", method: "PUT", path: st + "k", auth: tok, ctype: j, body: deepJSON("value", 100000), status: 400, want: `"errors"`},
		{name: "PUT value too long", method: "PUT", path: st + "k", auth: tok, ctype: j, body: []byte(`{"value":"` + strings.Repeat("😀", 15001) + `"}`), status: 400, want: "value must not exceed 30,000 characters."},
		{name: "PUT over 1 MiB", method: "PUT", path: st + "k", auth: tok, ctype: j, body: overCap, status: 413, want: `"error"`},
		{name: "PUT key with an underscore", method: "PUT", path: st + "a_b", auth: tok, ctype: j, body: []byte(`{"value":"v"}`), status: 400, want: "key must be alphanumeric."},
		{name: "PUT key malformed percent-encoding", method: "PUT", path: st + "%zz", auth: tok, ctype: j, body: []byte(`{"value":"v"}`), status: 400, want: goBadRequest, goServer: true},
		{name: "PUT key overlong UTF-8", method: "PUT", path: st + "%C0%AF", auth: tok, ctype: j, body: []byte(`{"value":"v"}`), status: 400, want: "key must be alphanumeric."},
		{name: "PUT key 256 characters", method: "PUT", path: st + strings.Repeat("k", 256), auth: tok, ctype: j, body: []byte(`{"value":"v"}`), status: 400, want: "key must be 1-255 characters long."},
		{name: "PUT bad user id", method: "PUT", path: "/api/v1/users/abc/storage/k", auth: tok, ctype: j, body: []byte(`{"value":"v"}`), status: 400, want: "user_id must be a number."},
		{name: "PUT no Authorization", method: "PUT", path: st + "k", ctype: j, body: []byte(`{"value":"v"}`), status: 401, want: `"Unauthorized."`},
		{name: "PUT garbage Authorization", method: "PUT", path: st + "k", auth: "Bearer \xff\xfe", ctype: j, body: []byte(`{"value":"v"}`), status: 401, want: `"Unauthorized."`},
		{name: "PUT invalid UTF-8, no token", method: "PUT", path: st + "k", ctype: j, body: []byte("{\"value\":\"\xff\"}"), status: 401, want: `"Unauthorized."`},
		{name: "DELETE all, wrong token", method: "DELETE", path: "/api/v1/users/" + a + "/storage", auth: tok + "x", status: 401, want: `"Unauthorized."`},
	}
	e.run(cases, func(status int, body []byte) error {
		var env map[string]json.RawMessage
		if json.Unmarshal(body, &env) != nil {
			return errors.New("not JSON")
		}
		if env["errors"] == nil && env["error"] == nil {
			return errors.New("neither errors nor error")
		}
		return nil
	})

	// The socket: a bad opcode is DISCONNECT then a close without status;
	// what is not JSON is ignored; over 1024 bytes is 1009.
	disconnects := []struct {
		name string
		msg  string
		text string
	}{
		{"unknown op", `{"op":99}`, "Invalid opcode."},
		{"op as a string", `{"op":"2"}`, "Invalid opcode."},
		{"fractional op", `{"op":2.5}`, "Invalid opcode."},
		{"huge op", `{"op":1e999}`, "Invalid opcode."},
		{"server-only op", `{"op":1}`, "You are not allowed to send this opcode to the server."},
		{"deep op", string(deepJSON("op", 450)), "Invalid opcode."},
	}
	for _, s := range disconnects {
		out, err := wsCase(t, e.base, "/lantern/socket", websocket.TextMessage, []byte(s.msg), 10*time.Second)
		switch {
		case err != nil:
			t.Errorf("socket %s: %v", s.name, err)
		case out.code != websocket.CloseNoStatusReceived:
			t.Errorf("socket %s: close %d, want 1005", s.name, out.code)
		case len(out.frames) == 0 || !bytes.Contains(out.frames[len(out.frames)-1], []byte(s.text)):
			t.Errorf("socket %s: frames %q lack DISCONNECT %q", s.name, out.frames, s.text)
		}
	}
	ignored := [][]byte{[]byte("not json"), []byte("null"), []byte("\xff\xfe"), []byte(`{"op":` + strings.Repeat("[", 1000))}
	for _, msg := range ignored {
		out, err := wsCase(t, e.base, "/lantern/socket", websocket.TextMessage, msg, time.Second)
		if err != nil || out.code != 0 || len(out.frames) != 0 {
			t.Errorf("socket %q: want it ignored, got %+v, %v", clip(msg), out, err)
		}
	}
	// Binary frames are read as text is (ws hands Lantern a Buffer that
	// JSON.parse reads the same way).
	if out, err := wsCase(t, e.base, "/lantern/socket", websocket.BinaryMessage, []byte{0, 0xff, 0xfe}, time.Second); err != nil || out.code != 0 || len(out.frames) != 0 {
		t.Errorf("socket binary garbage: want it ignored, got %+v, %v", out, err)
	}
	if out, err := wsCase(t, e.base, "/lantern/socket", websocket.BinaryMessage, []byte(`{"op":99}`), 10*time.Second); err != nil ||
		out.code != websocket.CloseNoStatusReceived || len(out.frames) == 0 || !bytes.Contains(out.frames[len(out.frames)-1], []byte("Invalid opcode.")) {
		t.Errorf("socket binary unknown op: got %+v, %v; want DISCONNECT then 1005", out, err)
	}
	out, err := wsCase(t, e.base, "/lantern/socket", websocket.TextMessage, bytes.Repeat([]byte(" "), 1025), 10*time.Second)
	if err != nil || out.code != websocket.CloseMessageTooBig {
		t.Errorf("socket 1025-byte message: %+v, %v; want close 1009", out, err)
	}
	t.Logf("lantern: %d HTTP cases, %d socket cases", len(cases), len(disconnects)+len(ignored)+3)
}

// TestBadInputHarmy: docs/compat/harmy.md §3.1: {"error":{"code":<status>,
// "message":…}}; 400 for a malformed id, 404 unmonitored, 401 for a token
// that is not the user's.
func TestBadInputHarmy(t *testing.T) {
	e := newBadEnv(t)
	a, tok := e.a, e.token
	cases := []badCase{
		{name: "id not a snowflake", method: "GET", path: "/user/abc", status: 400},
		{name: "id with a sign", method: "GET", path: "/user/-1", status: 400},
		{name: "id over 64 bits", method: "GET", path: "/user/" + strings.Repeat("9", 21), status: 400},
		{name: "id malformed percent-encoding", method: "GET", path: "/user/%zz", status: 400, want: goBadRequest, goServer: true},
		{name: "id overlong UTF-8", method: "GET", path: "/user/%C0%AF", status: 400},
		{name: "unmonitored", method: "GET", path: "/user/100000000000000999", status: 404},
		{name: "garbage token", method: "GET", path: "/user/" + a, auth: "garbage\x80", status: 401},
		{name: "token with a suffix", method: "GET", path: "/user/" + a, auth: tok + "x", status: 401},
		{name: "Bearer of garbage", method: "GET", path: "/user/" + a, auth: "Bearer " + strings.Repeat("a", 4096), status: 401},
	}
	e.run(cases, func(status int, body []byte) error {
		var env struct {
			Error struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(body, &env) != nil || env.Error.Code != status || env.Error.Message == "" {
			return errors.New("not harmy's error body")
		}
		return nil
	})
	t.Logf("harmy: %d HTTP cases", len(cases))
}
