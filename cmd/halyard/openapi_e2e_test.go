package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/docs"
)

// startDemoWith runs the production wiring in demo mode, as startDemo
// does, with extra environment (stand-ins for the Discord CDN and GitHub,
// an invite, a trusted proxy header), closed when the test ends.
func startDemoWith(t *testing.T, users int, env map[string]string) *Main {
	t.Helper()
	m := startDemoIn(t, t.TempDir(), users, env)
	t.Cleanup(func() { m.Close() })
	return m
}

// loadDocument parses the served OpenAPI document with its only server
// pointed at base.
func loadDocument(t *testing.T, base string) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(docs.Document)
	if err != nil {
		t.Fatal(err)
	}
	// Examples are validated by the docs package's tests; here the live
	// answers are.
	if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation()); err != nil {
		t.Fatal(err)
	}
	doc.Servers = openapi3.Servers{{URL: base}}
	return doc
}

func init() {
	// Non-JSON bodies the document describes: decode them as opaque
	// strings so their schemas (type: string) are checked.
	for _, ct := range []string{"image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml", "text/html", "text/javascript"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.FileBodyDecoder)
	}
}

// apiChecker sends requests to the live server and validates every answer
// against the document: the operation must exist, the status must be
// documented, and headers and body must match it.
type apiChecker struct {
	t      *testing.T
	base   string
	doc    *openapi3.T
	router routers.Router
	// seen counts the statuses observed per operation ("GET /v1/users/{id}").
	seen map[string]map[int]int
	ip   atomic.Int64 // distinct X-Forwarded-For addresses for harmy
}

func newAPIChecker(t *testing.T, base string) *apiChecker {
	doc := loadDocument(t, base)
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &apiChecker{t: t, base: base, doc: doc, router: router, seen: map[string]map[int]int{}}
}

// req is one request of the test.
type req struct {
	method, path string
	header       map[string]string
	body         []byte
	// template is the documented path the request must be routed to.
	template string
	// status is the expected status.
	status int
}

// do sends r, validates the answer and returns its body.
func (a *apiChecker) do(r req) []byte {
	a.t.Helper()
	hr, err := http.NewRequest(r.method, a.base+r.path, bytes.NewReader(r.body))
	if err != nil {
		a.t.Fatal(err)
	}
	if r.body == nil {
		hr.Body, hr.ContentLength = http.NoBody, 0
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	if strings.HasPrefix(r.path, "/user/") && hr.Header.Get("X-Forwarded-For") == "" {
		hr.Header.Set("X-Forwarded-For", fmt.Sprintf("10.9.%d.%d", a.ip.Add(1)/250, a.ip.Load()%250+1))
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(hr)
	if err != nil {
		a.t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	at := fmt.Sprintf("%s %s → %d", r.method, r.path, resp.StatusCode)
	if r.status != 0 && resp.StatusCode != r.status {
		a.t.Fatalf("%s, want %d: %s", at, r.status, clip(body))
	}

	// The route the document gives this request. A fresh request without
	// a body: FindRoute only reads the method and URL.
	fr, _ := http.NewRequest(r.method, a.base+r.path, nil)
	route, params, err := a.router.FindRoute(fr)
	if err != nil {
		a.t.Fatalf("%s: no documented operation: %v", at, err)
	}
	if r.template != "" && route.Path != r.template {
		a.t.Fatalf("%s: routed to %s in the document, want %s", at, route.Path, r.template)
	}
	op := r.method + " " + route.Path
	if a.seen[op] == nil {
		a.seen[op] = map[int]int{}
	}
	a.seen[op][resp.StatusCode]++

	ref := route.Operation.Responses.Status(resp.StatusCode)
	if ref == nil {
		a.t.Fatalf("%s: status %d is not documented for %s: %s", at, resp.StatusCode, op, clip(body))
	}
	ct := resp.Header.Get("Content-Type")
	switch {
	case resp.StatusCode == http.StatusNoContent || r.method == http.MethodHead:
		if len(body) != 0 {
			a.t.Fatalf("%s: a body on a %s answer: %s", at, r.method, clip(body))
		}
	case len(ref.Value.Content) == 0 && len(body) > 0 && ct != "":
		a.t.Fatalf("%s: an undocumented %s body: %s", at, ct, clip(body))
	}
	hr.Body = io.NopCloser(bytes.NewReader(r.body))
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: hr, PathParams: params, Route: route},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		a.t.Fatalf("%s: answer does not match the document: %v\nbody: %s", at, err, clip(body))
	}
	return body
}

func clip(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}

// cdnStandIn answers avatar fetches with a tiny PNG, except .webp ones,
// whose connection it drops (the quicklink's 502).
func cdnStandIn(t *testing.T) *httptest.Server {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82")
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".webp") {
			if hj, ok := w.(http.Hijacker); ok {
				conn, _, _ := hj.Hijack()
				conn.Close()
				return
			}
		}
		w.Header().Set("Content-Type", "image/png")
		w.Header().Set("Cache-Control", "public, max-age=86400")
		_, _ = w.Write(png)
	}))
	t.Cleanup(s.Close)
	return s
}

// githubStandIn answers GET /users/{login} for one login.
func githubStandIn(t *testing.T, login string) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/users/"+login {
			http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("ETag", `W/"1"`)
		fmt.Fprintf(w, `{"login":%q,"id":583231,"avatar_url":"https://avatars.githubusercontent.com/u/583231?v=4","html_url":"https://github.com/%s","company":null,"blog":"https://example.com","bio":"a test account","public_repos":8}`, login, login)
	}))
	t.Cleanup(s.Close)
	return s
}

// TestOpenAPILiveResponses drives every documented operation against the
// real server (demo mode: simulator → bot → hub → dialects), with success
// and error cases, and validates each answer against the document served
// at /docs/swagger.json: an undocumented status, a missing or extra field
// (schemas are closed where the dialect's shape is exact) or an answer from
// an undocumented route fails the test.
func TestOpenAPILiveResponses(t *testing.T) {
	start := time.Now()
	cdn := cdnStandIn(t)
	gh := githubStandIn(t, "octocat")
	m := startDemoWith(t, 30, map[string]string{
		"DISCORD_CDN_URL":       cdn.URL,
		"GITHUB_API_URL":        gh.URL,
		"DISCORD_INVITE":        "https://discord.gg/halyard",
		"TRUSTED_PROXY_HEADER":  "X-Forwarded-For",
		"HARMY_RATE_PER_SECOND": "2",
	})
	a := newAPIChecker(t, m.URL())
	admin := map[string]string{"Authorization": "Bearer test-admin-token"}
	c := client{t, m.URL()}
	eventually(t, "readyz 200", func() bool { code, _ := c.do("GET", "/readyz", "", nil); return code == 200 })

	guild := m.Sim.GuildIDs()[0]
	ids := m.Sim.MemberIDs(guild)
	var withAvatar string
	for _, id := range ids {
		var u struct {
			Avatar *string `json:"avatar"`
		}
		truth, _ := m.Sim.Truth(id)
		if json.Unmarshal(truth.User, &u) == nil && u.Avatar != nil && withAvatar == "" {
			withAvatar = id
		}
	}
	if withAvatar == "" {
		t.Fatal("no simulated member has an avatar")
	}
	rich, plain, lone := ids[0], ids[1], ids[2] // rich: every activity kind; plain: token and KV; lone: never written
	const unmonitored = "123456789012345678"

	// Give one user Spotify, a game with assets and timestamps and a custom
	// status with a custom emoji, through the real gateway path.
	presence := fmt.Sprintf(`{"user":{"id":%q},"status":"online","client_status":{"desktop":"online","mobile":"idle"},"activities":[
		{"id":"custom","name":"Custom Status","type":4,"state":"shipping docs","emoji":{"name":"pepe","id":"123456789012345678","animated":true},"created_at":1767268800000},
		{"id":"spotify:1","name":"Spotify","type":2,"details":"Let Go","state":"Ark Patrol; Veronika Redd","sync_id":"3kdlVcMVsSkbsUy8eQcBjI","flags":48,
		 "party":{"id":"spotify:1"},"assets":{"large_image":"spotify:ab67616d0000b27364840995fe43bb2ec73a241d","large_text":"Let Go"},
		 "timestamps":{"start":1767268800000,"end":1767269000000},"created_at":1767268800000},
		{"id":"game","name":"Visual Studio Code","type":0,"application_id":"383226320970055681","details":"Editing docs.go","state":"Workspace: halyard",
		 "assets":{"large_image":"565944799235276820","large_text":"Go","small_image":"mp:external/abc/https/example.com/x.png","small_text":"VS Code"},
		 "timestamps":{"start":1767268000000},"created_at":1767268000000}]}`, rich)
	a.do(req{method: "POST", path: "/admin/v1/demo/presence", header: admin, body: []byte(presence), status: 202})
	eventually(t, "rich presence served", func() bool {
		_, body := c.do("GET", "/v1/users/"+rich, "", nil)
		return bytes.Contains(body, []byte(`"listening_to_spotify":true`)) && bytes.Contains(body, []byte("shipping docs"))
	})

	// Service routes.
	a.do(req{method: "GET", path: "/", template: "/", status: 200})
	a.do(req{method: "GET", path: "/", header: map[string]string{"Accept": "text/html,*/*;q=0.8"}, status: 200})
	a.do(req{method: "GET", path: "/widget.js", template: "/widget.js", status: 200})
	widgetTag := `"` + m.Widget.Hash() + `-gzip"` // Go's client asks for gzip
	a.do(req{method: "GET", path: "/widget.js?v=" + m.Widget.Hash(), status: 200})
	a.do(req{method: "GET", path: "/widget.js?v=%zz", status: 200})
	a.do(req{method: "GET", path: "/widget.js", header: map[string]string{"If-None-Match": widgetTag}, status: 304})
	a.do(req{method: "GET", path: "/healthz", status: 200})
	a.do(req{method: "GET", path: "/readyz", status: 200})
	a.do(req{method: "GET", path: "/metrics", status: 200})
	if b := a.do(req{method: "GET", path: "/docs/swagger.json", status: 200}); !bytes.Equal(b, docs.Document) {
		t.Fatal("/docs/swagger.json is not the embedded document")
	}

	// Admin API.
	tokens := map[string]string{}
	for _, id := range []string{plain, rich, unmonitored} {
		var tok struct{ Token string }
		_ = json.Unmarshal(a.do(req{method: "POST", path: "/admin/v1/users/" + id + "/token", header: admin, status: 200}), &tok)
		tokens[id] = tok.Token
	}
	a.do(req{method: "POST", path: "/admin/v1/users/abc/token", header: admin, status: 400})
	a.do(req{method: "POST", path: "/admin/v1/users/" + plain + "/token", status: 401})
	a.do(req{method: "DELETE", path: "/admin/v1/users/" + lone + "/token", header: admin, status: 204})
	a.do(req{method: "DELETE", path: "/admin/v1/users/x/token", header: admin, status: 400})
	a.do(req{method: "DELETE", path: "/admin/v1/users/" + lone + "/token", header: map[string]string{"Authorization": "Bearer nope"}, status: 401})
	var page struct{ Next *string }
	_ = json.Unmarshal(a.do(req{method: "GET", path: "/admin/v1/users?limit=5", header: admin, status: 200}), &page)
	if page.Next == nil {
		t.Fatal("admin users: no next page")
	}
	a.do(req{method: "GET", path: "/admin/v1/users?limit=1000&after=" + *page.Next, header: admin, status: 200})
	a.do(req{method: "GET", path: "/admin/v1/users?limit=0", header: admin, status: 400})
	a.do(req{method: "GET", path: "/admin/v1/users?after=abc", header: admin, status: 400})
	a.do(req{method: "GET", path: "/admin/v1/users", status: 401})

	// Demo routes.
	const newcomer = "223456789012345678"
	member := fmt.Sprintf(`{"user":{"id":%q,"username":"newcomer","discriminator":"0","global_name":"New","avatar":null},"joined_at":"2026-01-01T00:00:00Z"}`, newcomer)
	a.do(req{method: "POST", path: "/admin/v1/demo/members", header: admin, body: []byte(member), status: 202})
	a.do(req{method: "POST", path: "/admin/v1/demo/members", header: admin, body: []byte(`[]`), status: 400})
	a.do(req{method: "POST", path: "/admin/v1/demo/members", body: []byte(member), status: 401})
	a.do(req{method: "POST", path: "/admin/v1/demo/members", header: admin, body: bytes.Repeat([]byte(" "), 2<<20), status: 413})
	a.do(req{method: "POST", path: "/admin/v1/demo/presence", header: admin, body: []byte(`{"user":{"id":"1"},"status":"asleep"}`), status: 400})
	a.do(req{method: "POST", path: "/admin/v1/demo/presence", body: []byte(presence), status: 401})
	a.do(req{method: "POST", path: "/admin/v1/demo/presence", header: admin, body: bytes.Repeat([]byte(" "), 2<<20), status: 413})
	a.do(req{method: "POST", path: "/admin/v1/demo/messages", header: admin,
		body: []byte(fmt.Sprintf(`{"user_id":%q,"content":".github octocat"}`, plain)), status: 202})
	a.do(req{method: "POST", path: "/admin/v1/demo/messages", header: admin, body: []byte(`{"user_id":"x","content":""}`), status: 400})
	a.do(req{method: "POST", path: "/admin/v1/demo/messages", body: []byte(`{}`), status: 401})
	a.do(req{method: "POST", path: "/admin/v1/demo/messages", header: admin, body: bytes.Repeat([]byte(" "), 2<<20), status: 413})
	eventually(t, "the bot's .github reply", func() bool {
		_, body := c.do("GET", "/admin/v1/demo/messages?user_id="+plain, "Bearer test-admin-token", nil)
		return bytes.Contains(body, []byte("octocat"))
	})
	a.do(req{method: "GET", path: "/admin/v1/demo/messages?user_id=" + plain, header: admin, status: 200})
	a.do(req{method: "GET", path: "/admin/v1/demo/messages?user_id=" + lone, header: admin, status: 200})
	a.do(req{method: "GET", path: "/admin/v1/demo/messages", header: admin, status: 400})
	a.do(req{method: "GET", path: "/admin/v1/demo/messages?user_id=" + plain, status: 401})
	eventually(t, "the new member served", func() bool { code, _ := c.do("GET", "/v1/users/"+newcomer, "", nil); return code == 200 })

	// Lanyard.
	for _, id := range append(slices.Clone(ids), newcomer) {
		a.do(req{method: "GET", path: "/v1/users/" + id, template: "/v1/users/{id}", status: 200})
	}
	for _, id := range []string{unmonitored, "abc", "123.png"} {
		a.do(req{method: "GET", path: "/v1/users/" + id, template: "/v1/users/{id}", status: 404})
	}
	me := func(id string) map[string]string { return map[string]string{"Authorization": tokens[id]} }
	a.do(req{method: "GET", path: "/v1/users/@me", header: me(rich), template: "/v1/users/@me", status: 200})
	a.do(req{method: "GET", path: "/v1/users/@me", template: "/v1/users/@me", status: 401})
	a.do(req{method: "GET", path: "/v1/users/@me", header: map[string]string{"Authorization": "lnyd_00000000000000000000000000000000"}, status: 401})
	a.do(req{method: "GET", path: "/v1/users/@me", header: me(unmonitored), status: 404})
	a.do(req{method: "PUT", path: "/v1/users/" + plain + "/kv/location", header: me(plain), body: []byte("Los Angeles, CA"), status: 204})
	a.do(req{method: "PUT", path: "/v1/users/@me/kv/mood", header: me(plain), body: []byte("calm"), status: 204})
	a.do(req{method: "PUT", path: "/v1/users/" + plain + "/kv/location", header: me(rich), body: []byte("x"), status: 401})
	a.do(req{method: "PUT", path: "/v1/users/" + plain + "/kv/bad-key", header: me(plain), body: []byte("x"), status: 404})
	a.do(req{method: "PUT", path: "/v1/users/@me/kv/x", header: me(unmonitored), body: []byte("x"), status: 404})
	a.do(req{method: "PUT", path: "/v1/users/" + plain + "/kv/big", header: me(plain), body: bytes.Repeat([]byte("x"), 2<<20), status: 413})
	a.do(req{method: "PATCH", path: "/v1/users/" + plain + "/kv", header: me(plain), body: []byte(`{"a":"1","b":"2"}`), status: 204})
	a.do(req{method: "PATCH", path: "/v1/users/" + plain + "/kv", header: me(plain), body: []byte(`[1]`), status: 404})
	a.do(req{method: "PATCH", path: "/v1/users/" + plain + "/kv", header: me(plain), body: []byte(`{"no way":"x"}`), status: 404})
	a.do(req{method: "PATCH", path: "/v1/users/" + plain + "/kv", body: []byte(`{}`), status: 401})
	a.do(req{method: "PATCH", path: "/v1/users/@me/kv", header: me(plain), body: bytes.Repeat([]byte(" "), 2<<20), status: 413})
	a.do(req{method: "DELETE", path: "/v1/users/" + plain + "/kv/b", header: me(plain), status: 204})
	a.do(req{method: "DELETE", path: "/v1/users/" + plain + "/kv/b", status: 401})
	a.do(req{method: "DELETE", path: "/v1/users/@me/kv/b", header: me(unmonitored), status: 404})
	a.do(req{method: "DELETE", path: "/v1/users/@me/kv/b", header: me(plain), body: bytes.Repeat([]byte(" "), 2<<20), status: 413})
	a.do(req{method: "GET", path: "/v1/users/" + plain, status: 200})

	// Presence history and the user page (Web): plain turns history on
	// through the bot.
	a.do(req{method: "GET", path: "/v1/users/" + plain + "/history", template: "/v1/users/{id}/history", status: 404})
	a.do(req{method: "POST", path: "/admin/v1/demo/messages", header: admin,
		body: []byte(fmt.Sprintf(`{"user_id":%q,"content":".history on"}`, plain)), status: 202})
	eventually(t, "history on for plain", func() bool {
		code, _ := c.do("GET", "/v1/users/"+plain+"/history", "", nil)
		return code == 200
	})
	a.do(req{method: "GET", path: "/v1/users/" + plain + "/history", status: 200})
	a.do(req{method: "GET", path: "/v1/users/" + plain + "/history?from=0&to=" + fmt.Sprint(time.Now().Add(time.Hour).UnixMilli()), status: 200})
	a.do(req{method: "GET", path: "/v1/users/" + plain + "/history?from=abc", status: 400})
	a.do(req{method: "GET", path: "/v1/users/" + plain + "/history?from=5&to=5", status: 400})
	a.do(req{method: "GET", path: "/v1/users/" + unmonitored + "/history", status: 404})
	a.do(req{method: "GET", path: "/u/" + plain, template: "/u/{id}", status: 200})
	a.do(req{method: "GET", path: "/u/" + lone, status: 200})
	a.do(req{method: "GET", path: "/u/" + unmonitored, status: 404})
	a.do(req{method: "GET", path: "/u/abc", status: 404})

	a.do(req{method: "GET", path: "/" + plain + ".png", template: "/{user_id}.{ext}", status: 200})
	a.do(req{method: "GET", path: "/" + withAvatar + ".gif", template: "/{user_id}.{ext}", status: 200})
	a.do(req{method: "GET", path: "/" + withAvatar + ".webp", template: "/{user_id}.{ext}", status: 502})
	a.do(req{method: "GET", path: "/" + unmonitored + ".png", template: "/{user_id}.{ext}", status: 404})
	a.do(req{method: "GET", path: "/discord", status: 302})

	// Lantern.
	for i := 0; i < len(ids); i += 7 {
		q := "user_ids=" + strings.Join(ids[i:min(i+7, len(ids))], "&user_ids=")
		a.do(req{method: "GET", path: "/api/v1/users?" + q + "&user_ids=" + unmonitored, template: "/api/v1/users", status: 200})
	}
	a.do(req{method: "GET", path: "/api/v1/users?user_ids[]=" + rich, template: "/api/v1/users", status: 200})
	a.do(req{method: "HEAD", path: "/api/v1/users?user_ids=" + rich, template: "/api/v1/users", status: 200})
	a.do(req{method: "GET", path: "/api/v1/users", status: 400})
	a.do(req{method: "HEAD", path: "/api/v1/users", status: 400})
	a.do(req{method: "GET", path: "/api/v1/users?user_ids=short", status: 400})
	a.do(req{method: "GET", path: "/api/v1/users?user_ids=" + rich + "&user_ids=" + rich, status: 400})
	many := make([]string, 51)
	for i := range many {
		many[i] = fmt.Sprintf("1%017d", i)
	}
	a.do(req{method: "GET", path: "/api/v1/users?user_ids=" + strings.Join(many, "&user_ids="), status: 400})
	a.do(req{method: "GET", path: "/api/v1/users?user_ids=" + unmonitored, status: 404})
	a.do(req{method: "HEAD", path: "/api/v1/users?user_ids=" + unmonitored, status: 404})
	for _, id := range append(slices.Clone(ids), newcomer) {
		a.do(req{method: "GET", path: "/api/v1/users/" + id, template: "/api/v1/users/{user_id}", status: 200})
	}
	a.do(req{method: "GET", path: "/api/v1/users/" + rich + "?svg=1", status: 200})
	a.do(req{method: "GET", path: "/api/v1/users/" + plain + "?svg=1&theme=light&borderRadius=0&hideStatus=1", status: 200})
	a.do(req{method: "HEAD", path: "/api/v1/users/" + rich, status: 200})
	a.do(req{method: "GET", path: "/api/v1/users/abc", status: 400})
	a.do(req{method: "GET", path: "/api/v1/users/" + rich + "?theme=blue", status: 400})
	a.do(req{method: "GET", path: "/api/v1/users/" + rich + "?svg=1&hideBadges=2", status: 400})
	a.do(req{method: "HEAD", path: "/api/v1/users/abc", status: 400})
	a.do(req{method: "GET", path: "/api/v1/users/" + unmonitored, status: 404})
	a.do(req{method: "HEAD", path: "/api/v1/users/" + unmonitored, status: 404})

	bearer := func(id string) map[string]string {
		return map[string]string{"Authorization": "Bearer " + tokens[id], "Content-Type": "application/json"}
	}
	bare := func(id string) map[string]string {
		return map[string]string{"Authorization": tokens[id], "Content-Type": "application/json"}
	}
	storage := "/api/v1/users/" + plain + "/storage"
	a.do(req{method: "GET", path: storage, template: "/api/v1/users/{user_id}/storage", status: 200})
	a.do(req{method: "HEAD", path: storage, status: 200})
	a.do(req{method: "GET", path: "/api/v1/users/" + lone + "/storage", status: 404})
	a.do(req{method: "HEAD", path: "/api/v1/users/" + lone + "/storage", status: 404})
	a.do(req{method: "GET", path: "/api/v1/users/" + unmonitored + "/storage", status: 404})
	a.do(req{method: "GET", path: "/api/v1/users/12/storage", status: 400})
	a.do(req{method: "HEAD", path: "/api/v1/users/12/storage", status: 400})
	a.do(req{method: "PUT", path: storage + "/city", header: bearer(plain), body: []byte(`{"value":"Berlin"}`), template: "/api/v1/users/{user_id}/storage/{key}", status: 200})
	a.do(req{method: "PUT", path: storage + "/empty", header: bare(plain), body: []byte(`{"value":""}`), status: 200})
	a.do(req{method: "PUT", path: storage + "/city", header: bearer(rich), body: []byte(`{"value":"x"}`), status: 401})
	a.do(req{method: "PUT", path: storage + "/city", header: map[string]string{"Content-Type": "application/json"}, body: []byte(`{"value":"x"}`), status: 401})
	a.do(req{method: "PUT", path: storage + "/bad_key", header: bearer(plain), body: []byte(`{"value":"x"}`), status: 400})
	a.do(req{method: "PUT", path: storage + "/city", header: bearer(plain), body: []byte(`{"value":1}`), status: 400})
	a.do(req{method: "PUT", path: storage + "/city", header: map[string]string{"Authorization": tokens[plain]}, body: []byte(`{"value":"x"}`), status: 400})
	a.do(req{method: "PUT", path: "/api/v1/users/" + lone + "/storage/city", header: bearer(plain), body: []byte(`{"value":"x"}`), status: 404})
	a.do(req{method: "PUT", path: storage + "/city", header: bearer(plain), body: bytes.Repeat([]byte(" "), 2<<20), status: 413})
	a.do(req{method: "PATCH", path: storage + "/city", header: bearer(plain), body: []byte(`{"value":"Paris"}`), status: 200})
	a.do(req{method: "PATCH", path: storage + "/nothere", header: bearer(plain), body: []byte(`{"value":"Paris"}`), status: 404})
	a.do(req{method: "PATCH", path: storage + "/city", body: []byte(`{"value":"Paris"}`), header: map[string]string{"Content-Type": "application/json"}, status: 401})
	a.do(req{method: "PATCH", path: storage + "/city", header: bearer(plain), body: []byte(`{}`), status: 400})
	a.do(req{method: "PATCH", path: storage + "/city", header: bearer(plain), body: bytes.Repeat([]byte(" "), 2<<20), status: 413})
	a.do(req{method: "GET", path: storage + "/city", status: 200})
	a.do(req{method: "GET", path: storage + "/empty", status: 200})
	a.do(req{method: "HEAD", path: storage + "/city", status: 200})
	a.do(req{method: "GET", path: storage + "/nothere", status: 404})
	a.do(req{method: "HEAD", path: storage + "/nothere", status: 404})
	a.do(req{method: "GET", path: storage + "/bad_key", status: 400})
	a.do(req{method: "HEAD", path: storage + "/bad_key", status: 400})
	a.do(req{method: "DELETE", path: storage + "/city", header: bearer(plain), status: 200})
	a.do(req{method: "DELETE", path: storage + "/city", header: bearer(plain), status: 404})
	a.do(req{method: "DELETE", path: storage + "/empty", status: 401})
	a.do(req{method: "DELETE", path: storage + "/bad_key", header: bearer(plain), status: 400})
	a.do(req{method: "GET", path: "/api/v1/users/" + plain, status: 200})
	a.do(req{method: "DELETE", path: "/api/v1/users/" + rich + "/storage", header: bare(rich), status: 200})
	a.do(req{method: "DELETE", path: storage, header: bare(rich), status: 401})
	a.do(req{method: "DELETE", path: "/api/v1/users/" + lone + "/storage", header: bare(rich), status: 404})
	a.do(req{method: "DELETE", path: "/api/v1/users/abc/storage", header: bare(rich), status: 400})

	driveBackupRoutes(a, admin) // backup_openapi_e2e_test.go

	// harmy.
	eventually(t, "the linked GitHub profile in harmy", func() bool {
		_, body := c.do("GET", "/user/"+plain, "", nil)
		return bytes.Contains(body, []byte(`"username":"octocat"`))
	})
	for _, id := range append(slices.Clone(ids), newcomer) {
		a.do(req{method: "GET", path: "/user/" + id, template: "/user/{id}", status: 200})
	}
	a.do(req{method: "GET", path: "/user/" + plain, header: map[string]string{"Authorization": tokens[plain]}, status: 200})
	a.do(req{method: "GET", path: "/user/" + plain, header: map[string]string{"Authorization": "Bearer " + tokens[plain]}, status: 200})
	a.do(req{method: "GET", path: "/user/" + plain, header: map[string]string{"Authorization": tokens[rich]}, status: 401})
	a.do(req{method: "GET", path: "/user/abc", status: 400})
	a.do(req{method: "GET", path: "/user/" + unmonitored, status: 404})
	burst := map[string]string{"X-Forwarded-For": "10.99.0.1"}
	for i := 0; i < 2; i++ {
		a.do(req{method: "GET", path: "/user/" + rich, header: burst})
	}
	a.do(req{method: "GET", path: "/user/" + rich, header: burst, status: 429})

	// Demo member removal last: it changes the monitored set.
	a.do(req{method: "DELETE", path: "/admin/v1/demo/members/" + newcomer, header: admin, status: 202})
	a.do(req{method: "DELETE", path: "/admin/v1/demo/members/" + newcomer, header: admin, status: 404})
	a.do(req{method: "DELETE", path: "/admin/v1/demo/members/abc", header: admin, status: 400})
	a.do(req{method: "DELETE", path: "/admin/v1/demo/members/" + newcomer, status: 401})

	// Demo flood (the load tool's ingest scenario) after everything else:
	// it rewrites the presences of the first members.
	a.do(req{method: "POST", path: "/admin/v1/demo/flood", header: admin, body: []byte(`{"events":30,"users":3}`), status: 202})
	a.do(req{method: "POST", path: "/admin/v1/demo/flood", header: admin, body: []byte(`{"events":0,"users":3}`), status: 400})
	a.do(req{method: "POST", path: "/admin/v1/demo/flood", body: []byte(`{"events":1,"users":1}`), status: 401})
	a.do(req{method: "POST", path: "/admin/v1/demo/flood", header: admin, body: bytes.Repeat([]byte(" "), 2<<20), status: 413})

	// halyard admin's routes: one user, search, stats, and purge last
	// (it empties plain's KV and drops unmonitored's token).
	const stranger = "323456789012345678"
	for _, id := range []string{plain, unmonitored, lone} {
		a.do(req{method: "GET", path: "/admin/v1/users/" + id, header: admin, status: 200})
	}
	a.do(req{method: "GET", path: "/admin/v1/users/" + stranger, header: admin, status: 404})
	a.do(req{method: "GET", path: "/admin/v1/users/abc", header: admin, status: 400})
	a.do(req{method: "GET", path: "/admin/v1/users/" + plain, status: 401})
	a.do(req{method: "GET", path: "/admin/v1/users?search=" + plain[3:9], header: admin, status: 200})
	a.do(req{method: "GET", path: "/admin/v1/users?search=" + strings.Repeat("x", 101), header: admin, status: 400})
	a.do(req{method: "GET", path: "/admin/v1/stats", header: admin, status: 200})
	a.do(req{method: "GET", path: "/admin/v1/stats", status: 401})
	a.do(req{method: "GET", path: "/admin/v1/cluster", header: admin, status: 200})
	a.do(req{method: "GET", path: "/admin/v1/cluster", status: 401})
	a.do(req{method: "DELETE", path: "/admin/v1/users/" + plain, header: admin, status: 200})
	a.do(req{method: "DELETE", path: "/admin/v1/users/" + unmonitored, header: admin, status: 200})
	a.do(req{method: "DELETE", path: "/admin/v1/users/" + unmonitored, header: admin, status: 404})
	a.do(req{method: "DELETE", path: "/admin/v1/users/x", header: admin, status: 400})
	a.do(req{method: "DELETE", path: "/admin/v1/users/" + plain, status: 401})

	driveBadgeRoutes(a, rich, unmonitored)
	driveStreamRoutes(a, rich, lone, unmonitored)

	a.assertCoverage()
	t.Logf("%d operations driven in %v", len(a.seen), time.Since(start).Round(time.Millisecond))
}

// coverageExceptions are the documented operations whose error statuses
// this test cannot provoke against a healthy server, with the reason.
var coverageExceptions = map[string]string{
	"GET /":                  "no error answer",
	"GET /widget.js":         "no error answer: any query gets the script",
	"GET /healthz":           "no error answer",
	"GET /readyz":            "503 needs a server that is not ready",
	"GET /metrics":           "no error answer",
	"GET /docs/swagger.json": "no error answer",
	"GET /discord":           "404 needs a server without DISCORD_INVITE",
}

// assertCoverage fails unless every documented operation was driven to a
// success and (unless excepted) to an error; it logs the documented
// statuses never seen.
func (a *apiChecker) assertCoverage() {
	a.t.Helper()
	var unseen []string
	for path, item := range a.doc.Paths.Map() {
		for method, op := range item.Operations() {
			key := method + " " + path
			statuses := a.seen[key]
			ok, failed := false, false
			for s := range statuses {
				ok = ok || s < 400
				failed = failed || s >= 400
			}
			if !ok {
				a.t.Errorf("%s: never answered with a success", key)
			}
			if _, excepted := coverageExceptions[key]; !failed && !excepted {
				a.t.Errorf("%s: never answered with an error", key)
			}
			for code := range op.Responses.Map() {
				var n int
				fmt.Sscan(code, &n)
				if statuses[n] == 0 {
					unseen = append(unseen, key+" "+code)
				}
			}
		}
	}
	sort.Strings(unseen)
	a.t.Logf("documented statuses not provoked live (%d): %s", len(unseen), strings.Join(unseen, ", "))
}

// routesNotInDocument are registered routes the document does not list as
// operations, with the reason.
var routesNotInDocument = map[string]string{
	"/docs":           "Swagger UI (HTML)",
	"/docs/":          "Swagger UI (HTML)",
	"/docs/*":         "Swagger UI assets",
	"/socket":         "WebSocket: described in the Lanyard and Lantern tags",
	"/lanyard/socket": "WebSocket: described in the Lanyard tag",
	"/lantern/socket": "WebSocket: described in the Lantern tag",
	"/*":              "catch-all: Lanyard's quicklinks, documented as /{user_id}.{ext}, else the prefix's 404",
	"/api":            "catch-all: Lantern's 404",
	"/api/*":          "catch-all: Lantern's 404",
	"/metrics/*":      "catch-all: the plain-text 404 under /metrics",
	"/badge/*":        "catch-all: the badge-shaped 404 under /badge/",
}

// templateShape reduces a path to its shape: parameters become {}, a
// trailing slash is dropped (every trailing-slash route is an alias).
var paramPattern = regexp.MustCompile(`:[^/]+|\{[^}]+\}`)

func templateShape(path string) string {
	if len(path) > 1 {
		path = strings.TrimSuffix(path, "/")
	}
	return paramPattern.ReplaceAllString(path, "{}")
}

// TestOpenAPIRouteTable walks echo's route table of the production wiring
// against the document: every route is documented (catch-alls, sockets
// and the UI excepted above), and every documented operation is served.
func TestOpenAPIRouteTable(t *testing.T) {
	m := startDemoWith(t, 3, nil)
	doc := loadDocument(t, m.URL())
	documented := map[string]bool{} // "GET /v1/users/{}"
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+templateShape(path)] = true
		}
	}
	methods := map[string]map[string]bool{} // path → methods
	for _, r := range m.Server.Echo().Routes() {
		if r.Method == echo.RouteNotFound {
			continue // a group's own 404 (echo adds them for /admin/v1)
		}
		if methods[r.Path] == nil {
			methods[r.Path] = map[string]bool{}
		}
		methods[r.Path][r.Method] = true
	}
	served := map[string]bool{}
	for path, ms := range methods {
		if reason, ok := routesNotInDocument[path]; ok {
			t.Logf("not an operation: %s (%s)", path, reason)
			continue
		}
		anyMethod := len(ms) >= 9 // echo's Any: the document lists GET and says every method answers
		for method := range ms {
			if anyMethod && method != http.MethodGet {
				continue
			}
			key := method + " " + templateShape(path)
			served[key] = true
			if !documented[key] {
				t.Errorf("route %s %s is not in the OpenAPI document", method, path)
			}
		}
	}
	served["GET /{}.{}"] = true // quicklinks, served by the /* catch-all
	for key := range documented {
		if !served[key] {
			t.Errorf("documented operation %s is not served", key)
		}
	}
}
