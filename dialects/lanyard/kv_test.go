package lanyard

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/storage"
)

var discardLogger = slog.New(slog.DiscardHandler)

// openStore starts the real store (embedded FerretDB) in dir.
func openStore(t testing.TB, dir string) *storage.Store {
	t.Helper()
	st, err := storage.Open(context.Background(), storage.Config{DataDir: dir, OpTimeout: 2 * time.Second, Logger: discardLogger})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// kvErr is a Lanyard error body.
func kvErr(code, message string) string {
	return fmt.Sprintf(`{"error":{"code":%q,"message":%q},"success":false}`, code, message)
}

var (
	invalidKVValue = kvErr("invalid_kv_value", "body must be an object")
	keyAlnum       = kvErr("kv_validation_failed", "key must be alphanumeric (a-zA-Z0-9_)")
	keyLength      = kvErr("kv_validation_failed", "key must be 255 characters or less")
	valueLength    = kvErr("kv_validation_failed", "value must be 30000 characters or less")
	valueUTF8      = kvErr("kv_validation_failed", "value must be valid UTF-8")
	putLimit       = kvErr("kv_validation_failed", "request would exceed key limit (512), please delete keys first")
	patchLimit     = kvErr("kv_validation_failed", "request would exceed the key limit (512), please delete some keys first")
	tooLarge       = `{"success":false,"error":{"code":"payload_too_large","message":"request body must be 1048576 bytes or less"}}`
	unavailable    = kvErr("service_unavailable", "the database is unavailable, try again later")
)

// kvCase is one request of a KV sequence and what it must do.
type kvCase struct {
	name, method, path string
	auth               []string // Authorization headers, in order; nil for none
	body               io.Reader
	status             int
	want               string                // exact JSON error body; "" for an empty 204
	events             int                   // KVUpdated events the owner's subscribers get
	check              func(kv core.KV) bool // the owner's KV afterwards
}

// runKV runs cases in order against s, for the KV of owner.
func runKV(t *testing.T, s *lanyardServer, owner string, cases []kvCase) {
	t.Helper()
	sub := s.hub.SubscribeNotify(0, func() {}) // drained after each request
	sub.Add(owner)
	defer sub.Close()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for _, a := range tc.auth {
				h.Add("Authorization", a)
			}
			resp, body := do(t, tc.method, s.base+tc.path, h, tc.body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if tc.want == "" {
				if len(body) != 0 || resp.Header.Get("Content-Type") != "" {
					t.Fatalf("want an empty body without content type, got %q (%q)", body, resp.Header.Get("Content-Type"))
				}
			} else {
				if !sameJSON(body, []byte(tc.want)) {
					t.Fatalf("body %s\nwant %s", body, tc.want)
				}
				// The server's own bodies (not_found, payload_too_large)
				// carry echo's "application/json" without the charset.
				if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Fatalf("content-type %q", ct)
				}
			}
			if got := drainKVEvents(sub); got != tc.events {
				t.Fatalf("%d KVUpdated events, want %d", got, tc.events)
			}
			if tc.check != nil && !tc.check(s.hub.KV(owner)) {
				t.Fatalf("KV after: %v", s.hub.KV(owner))
			}
		})
	}
}

// drainKVEvents counts the KVUpdated events queued so far: the hub
// publishes before the handler answers, so they are all there.
func drainKVEvents(sub *core.Subscription) int {
	if sub.Overflowed() {
		return -1 // never a wanted count
	}
	n := 0
	for _, ev := range sub.Drain(nil) {
		if ev.Type == core.KVUpdated {
			n++
		}
	}
	return n
}

func has(k, v string) func(core.KV) bool {
	return func(kv core.KV) bool { got, ok := kv.Get(k); return ok && got == v }
}

func hasNot(k string) func(core.KV) bool {
	return func(kv core.KV) bool { _, ok := kv.Get(k); return !ok }
}

func text(s string) io.Reader { return strings.NewReader(s) }

// unsized hides a body's length, so it is sent chunked.
type unsized struct{ io.Reader }

func TestKV(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	s := startLanyard(t, Options{}, st)
	ctx := context.Background()
	s.addMember("100", "", "0")
	s.addMember("200", "", "0")
	tok, _ := s.tokens.Issue(ctx, "100")
	other, _ := s.tokens.Issue(ctx, "200")
	me := []string{tok}
	const u = "/v1/users/100"

	runKV(t, s, "100", []kvCase{
		{name: "put", method: "PUT", path: u + "/kv/location", auth: me, body: text("Los Angeles"), status: 204, events: 1, check: has("location", "Los Angeles")},
		{name: "put keeps body bytes", method: "PUT", path: u + "/kv/quoted", auth: me, body: text(`"hi"`), status: 204, events: 1, check: has("quoted", `"hi"`)},
		{name: "put empty body", method: "PUT", path: u + "/kv/empty", auth: me, status: 204, events: 1, check: has("empty", "")},
		{name: "put @me", method: "PUT", path: "/v1/users/@me/kv/k", auth: me, body: text("v"), status: 204, events: 1, check: has("k", "v")},
		{name: "put trailing slash", method: "PUT", path: u + "/kv/slash/", auth: me, body: text("v"), status: 204, events: 1, check: has("slash", "v")},
		{name: "put percent-decoded key", method: "PUT", path: u + "/kv/a%5Fb", auth: me, body: text("v"), status: 204, events: 1, check: has("a_b", "v")},
		{name: "put chunked", method: "PUT", path: u + "/kv/chunked", auth: me, body: unsized{text("c")}, status: 204, events: 1, check: has("chunked", "c")},
		{name: "put bearer", method: "PUT", path: u + "/kv/x", auth: []string{"Bearer " + tok}, body: text("v"), status: 401, want: noPermission, check: hasNot("x")},
		{name: "put no auth", method: "PUT", path: u + "/kv/x", body: text("v"), status: 401, want: noPermission},
		{name: "put empty auth", method: "PUT", path: u + "/kv/x", auth: []string{""}, body: text("v"), status: 401, want: noPermission},
		{name: "put first header counts", method: "PUT", path: u + "/kv/x", auth: []string{"nope", tok}, body: text("v"), status: 401, want: noPermission},
		{name: "put other user's key", method: "PUT", path: u + "/kv/x", auth: []string{other}, body: text("v"), status: 401, want: noPermission},
		{name: "put other user's path", method: "PUT", path: "/v1/users/200/kv/x", auth: me, body: text("v"), status: 401, want: noPermission},
		{name: "put dash key", method: "PUT", path: u + "/kv/a-b", auth: me, body: text("v"), status: 404, want: keyAlnum},
		{name: "put escaped dash key", method: "PUT", path: u + "/kv/a%2Db", auth: me, body: text("v"), status: 404, want: keyAlnum},
		{name: "put 256-char key", method: "PUT", path: u + "/kv/" + strings.Repeat("k", 256), auth: me, body: text("v"), status: 404, want: keyLength},
		{name: "put 255-char key", method: "PUT", path: u + "/kv/" + strings.Repeat("k", 255), auth: me, body: text("v"), status: 204, events: 1},
		{name: "put underscore key", method: "PUT", path: u + "/kv/under_score", auth: me, body: text("v"), status: 204, events: 1, check: has("under_score", "v")},
		{name: "put 30001 chars", method: "PUT", path: u + "/kv/big", auth: me, body: text(strings.Repeat("a", 30001)), status: 404, want: valueLength, check: hasNot("big")},
		{name: "put 30000 chars", method: "PUT", path: u + "/kv/big", auth: me, body: text(strings.Repeat("a", 30000)), status: 204, events: 1},
		{name: "put 30000 é", method: "PUT", path: u + "/kv/big", auth: me, body: text(strings.Repeat("é", 30000)), status: 204, events: 1, check: has("big", strings.Repeat("é", 30000))},
		{name: "put 30000 graphemes over 120000 bytes", method: "PUT", path: u + "/kv/big", auth: me, body: text(strings.Repeat("e\u0301\u0301\u0301\u0301", 30000)), status: 404, want: valueLength},
		{name: "put not UTF-8", method: "PUT", path: u + "/kv/bin", auth: me, body: text("\xff\xfe"), status: 404, want: valueUTF8, check: hasNot("bin")},
		{name: "put over 1 MiB", method: "PUT", path: u + "/kv/huge", auth: me, body: text(strings.Repeat("a", 1<<20+1)), status: 413, want: tooLarge, check: hasNot("huge")},
		{name: "put over 1 MiB chunked", method: "PUT", path: u + "/kv/huge", auth: me, body: unsized{text(strings.Repeat("a", 1<<20+1))}, status: 413, want: tooLarge, check: hasNot("huge")},
		{name: "put over 1 MiB without auth", method: "PUT", path: u + "/kv/huge", body: text(strings.Repeat("a", 1<<20+1)), status: 413, want: tooLarge},
		{name: "put exactly 1 MiB", method: "PUT", path: u + "/kv/huge", auth: me, body: text(strings.Repeat("a", 1<<20)), status: 404, want: valueLength},
		{name: "put empty key", method: "PUT", path: u + "/kv/", auth: me, body: text("v"), status: 404, want: notFound},

		{name: "patch", method: "PATCH", path: u + "/kv", auth: me, body: text(`{"a":"1","b":"2"}`), status: 204, events: 1, check: func(kv core.KV) bool {
			return kv.Value("a") == "1" && kv.Value("b") == "2" && kv.Value("location") == "Los Angeles"
		}},
		{name: "patch overwrites", method: "PATCH", path: u + "/kv/", auth: me, body: text(` {"a":"x"} `), status: 204, events: 1, check: has("a", "x")},
		{name: "patch @me", method: "PATCH", path: "/v1/users/@me/kv", auth: me, body: text(`{"c":"3"}`), status: 204, events: 1, check: has("c", "3")},
		{name: "patch empty key", method: "PATCH", path: u + "/kv", auth: me, body: text(`{"":"e"}`), status: 204, events: 1, check: has("", "e")},
		{name: "patch {}", method: "PATCH", path: u + "/kv", auth: me, body: text(`{}`), status: 204, events: 1},
		{name: "patch array", method: "PATCH", path: u + "/kv", auth: me, body: text(`[1]`), status: 404, want: invalidKVValue},
		{name: "patch string", method: "PATCH", path: u + "/kv", auth: me, body: text(`"x"`), status: 404, want: invalidKVValue},
		{name: "patch number", method: "PATCH", path: u + "/kv", auth: me, body: text(`1`), status: 404, want: invalidKVValue},
		{name: "patch null", method: "PATCH", path: u + "/kv", auth: me, body: text(`null`), status: 404, want: invalidKVValue},
		{name: "patch not json", method: "PATCH", path: u + "/kv", auth: me, body: text(`not json`), status: 404, want: invalidKVValue},
		{name: "patch empty body", method: "PATCH", path: u + "/kv", auth: me, status: 404, want: invalidKVValue},
		{name: "patch trailing junk", method: "PATCH", path: u + "/kv", auth: me, body: text(`{"z":"1"} x`), status: 404, want: invalidKVValue, check: hasNot("z")},
		{name: "patch number value", method: "PATCH", path: u + "/kv", auth: me, body: text(`{"a":1}`), status: 404, want: invalidKVValue},
		{name: "patch non-string before bad key", method: "PATCH", path: u + "/kv", auth: me, body: text(`{"b-":"x","a":null}`), status: 404, want: invalidKVValue},
		{name: "patch bad key before non-string", method: "PATCH", path: u + "/kv", auth: me, body: text(`{"a-":"x","b":{}}`), status: 404, want: keyAlnum},
		{name: "patch ok and bad key", method: "PATCH", path: u + "/kv", auth: me, body: text(`{"ok":"1","bad-key":"2"}`), status: 404, want: keyAlnum, check: hasNot("ok")},
		{name: "patch long value", method: "PATCH", path: u + "/kv", auth: me, body: text(`{"ok":"1","v":"` + strings.Repeat("a", 30001) + `"}`), status: 404, want: valueLength, check: hasNot("ok")},
		{name: "patch no auth", method: "PATCH", path: u + "/kv", body: text(`{"z":"1"}`), status: 401, want: noPermission, check: hasNot("z")},
		{name: "patch bearer", method: "PATCH", path: u + "/kv", auth: []string{"Bearer " + tok}, body: text(`{"z":"1"}`), status: 401, want: noPermission},
		{name: "patch bad body without auth", method: "PATCH", path: u + "/kv", body: text(`[1]`), status: 401, want: noPermission},
		{name: "patch over 1 MiB", method: "PATCH", path: u + "/kv", auth: me, body: text(`{"a":"` + strings.Repeat("a", 1<<20) + `"}`), status: 413, want: tooLarge},

		{name: "delete", method: "DELETE", path: u + "/kv/location", auth: me, status: 204, events: 1, check: hasNot("location")},
		{name: "delete absent", method: "DELETE", path: u + "/kv/location", auth: me, status: 204, events: 1},
		{name: "delete unvalidated key", method: "DELETE", path: u + "/kv/a-b", auth: me, status: 204, events: 1},
		{name: "delete @me trailing slash", method: "DELETE", path: "/v1/users/@me/kv/a_b/", auth: me, status: 204, events: 1, check: hasNot("a_b")},
		{name: "delete no auth", method: "DELETE", path: u + "/kv/k", status: 401, want: noPermission, check: has("k", "v")},
		{name: "delete other user's key", method: "DELETE", path: u + "/kv/k", auth: []string{other}, status: 401, want: noPermission, check: has("k", "v")},

		{name: "GET kv is no route", method: "GET", path: u + "/kv", status: 404, want: notFound},
		{name: "DELETE kv is no route", method: "DELETE", path: u + "/kv", auth: me, status: 404, want: notFound},
		{name: "POST key is no route", method: "POST", path: u + "/kv/k", auth: me, body: text("v"), status: 404, want: notFound},
		{name: "PUT kv is no route", method: "PUT", path: u + "/kv", auth: me, body: text("v"), status: 404, want: notFound},
	})

	// The presence object shows the KV.
	_, got := do(t, "GET", s.base+u, nil, nil)
	if !strings.Contains(string(got), `"k":"v"`) || !strings.Contains(string(got), `"a":"x"`) {
		t.Fatalf("GET after writes: %s", got)
	}
}

func TestKVPairLimit(t *testing.T) {
	s := startLanyard(t, Options{}, nil)
	s.addMember("100", "", "0")
	tok, _ := s.tokens.Issue(context.Background(), "100")
	me := []string{tok}
	const u = "/v1/users/100/kv"
	keys := func(from, to int) string {
		var b strings.Builder
		b.WriteString("{")
		for i := from; i < to; i++ {
			if i > from {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `"k%d":"v"`, i)
		}
		b.WriteString("}")
		return b.String()
	}
	count := func(n int) func(core.KV) bool { return func(kv core.KV) bool { return kv.Len() == n } }
	runKV(t, s, "100", []kvCase{
		{name: "patch 513 at once", method: "PATCH", path: u, auth: me, body: text(keys(0, 513)), status: 404, want: patchLimit, check: count(0)},
		{name: "patch 511", method: "PATCH", path: u, auth: me, body: text(keys(0, 511)), status: 204, events: 1, check: count(511)},
		{name: "put 512th", method: "PUT", path: u + "/k511", auth: me, body: text("v"), status: 204, events: 1, check: count(512)},
		{name: "put 513th", method: "PUT", path: u + "/k512", auth: me, body: text("v"), status: 404, want: putLimit, check: count(512)},
		{name: "put 513th with a bad key: count first", method: "PUT", path: u + "/bad-key", auth: me, body: text("v"), status: 404, want: putLimit},
		{name: "overwrite at 512", method: "PUT", path: u + "/k0", auth: me, body: text("w"), status: 204, events: 1, check: has("k0", "w")},
		{name: "patch 513th", method: "PATCH", path: u, auth: me, body: text(`{"k0":"x","new":"1"}`), status: 404, want: patchLimit, check: has("k0", "w")},
		{name: "patch overwrite at 512", method: "PATCH", path: u, auth: me, body: text(`{"k0":"x","k1":"y"}`), status: 204, events: 1, check: has("k0", "x")},
		{name: "delete one", method: "DELETE", path: u + "/k0", auth: me, status: 204, events: 1, check: count(511)},
		{name: "patch back to 512", method: "PATCH", path: u, auth: me, body: text(`{"new":"1"}`), status: 204, events: 1, check: count(512)},
	})
}

// TestKVUnmonitoredOwner: a valid key whose owner is in no watched guild
// writes nothing (docs/compat/lanyard.md §4.7).
func TestKVUnmonitoredOwner(t *testing.T) {
	s := startLanyard(t, Options{}, nil)
	s.addMember("100", "", "0")
	tok, _ := s.tokens.Issue(context.Background(), "100")
	do(t, "PUT", s.base+"/v1/users/100/kv/keep", http.Header{"Authorization": {tok}}, text("v"))
	s.hub.RemoveMember("g", "100")
	me := []string{tok}
	kept := func(kv core.KV) bool { return kv.Len() == 1 && kv.Value("keep") == "v" }
	runKV(t, s, "100", []kvCase{
		{name: "put", method: "PUT", path: "/v1/users/100/kv/k", auth: me, body: text("v"), status: 404, want: notMonitored, check: kept},
		{name: "put @me", method: "PUT", path: "/v1/users/@me/kv/k", auth: me, body: text("v"), status: 404, want: notMonitored, check: kept},
		{name: "patch", method: "PATCH", path: "/v1/users/100/kv", auth: me, body: text(`{"k":"v"}`), status: 404, want: notMonitored, check: kept},
		{name: "delete", method: "DELETE", path: "/v1/users/100/kv/keep", auth: me, status: 404, want: notMonitored, check: kept},
		{name: "get @me", method: "GET", path: "/v1/users/@me", auth: me, status: 404, want: notMonitored},
	})
}

// TestKVMalformedPercentEncoding: never a 5xx (Go answers 400 before any
// route runs; docs/compat/cross-dialect.md §1.4 accepts that, docs/compat/lanyard.md §9 prefers 404).
func TestKVMalformedPercentEncoding(t *testing.T) {
	s := startLanyard(t, Options{}, nil)
	for _, path := range []string{"/v1/users/100/kv/%zz", "/v1/users/%zz/kv/k", "/%zz.png"} {
		conn, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nConnection: close\r\n\r\nv", path)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		conn.Close()
		if resp.StatusCode != 400 && resp.StatusCode != 404 {
			t.Errorf("%s: status %d, want 400 or 404", path, resp.StatusCode)
		}
	}
}

// TestKVSurvivesRestart: acknowledged writes are in the database, and a new
// hub over a reopened store serves them.
func TestKVSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	s := startLanyard(t, Options{}, st)
	s.addMember("100", "", "0")
	tok, _ := s.tokens.Issue(context.Background(), "100")
	auth := http.Header{"Authorization": {tok}}
	for _, r := range []struct{ method, path, body string }{
		{"PUT", "/v1/users/100/kv/location", "Los Angeles"},
		{"PATCH", "/v1/users/100/kv", `{"a":"1","b":"2"}`},
		{"DELETE", "/v1/users/100/kv/b", ""},
	} {
		if resp, b := do(t, r.method, s.base+r.path, auth, text(r.body)); resp.StatusCode != 204 {
			t.Fatalf("%s %s: %d %s", r.method, r.path, resp.StatusCode, b)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st = openStore(t, dir)
	defer st.Close()
	hub := core.NewHub(core.HubOptions{Store: st})
	if err := hub.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	kv := hub.KV("100")
	if kv.Len() != 2 || kv.Value("location") != "Los Angeles" || kv.Value("a") != "1" {
		t.Fatalf("KV after reopening: %v", kv)
	}
}

// TestKVDatabaseOutage: a write while the database is down is 503
// service_unavailable (never 500), and changes nothing.
func TestKVDatabaseOutage(t *testing.T) {
	st := openStore(t, t.TempDir())
	s := startLanyard(t, Options{}, st)
	s.addMember("100", "", "0")
	tok, _ := s.tokens.Issue(context.Background(), "100")
	me := []string{tok}
	do(t, "PUT", s.base+"/v1/users/100/kv/keep", http.Header{"Authorization": me}, text("v"))
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	kept := func(kv core.KV) bool { return kv.Len() == 1 && kv.Value("keep") == "v" }
	runKV(t, s, "100", []kvCase{
		{name: "put", method: "PUT", path: "/v1/users/100/kv/k", auth: me, body: text("v"), status: 503, want: unavailable, check: kept},
		{name: "patch", method: "PATCH", path: "/v1/users/100/kv", auth: me, body: text(`{"k":"v"}`), status: 503, want: unavailable, check: kept},
		{name: "delete", method: "DELETE", path: "/v1/users/100/kv/keep", auth: me, status: 503, want: unavailable, check: kept},
		{name: "validation still 404", method: "PUT", path: "/v1/users/100/kv/a-b", auth: me, body: text("v"), status: 404, want: keyAlnum, check: kept},
	})
}
