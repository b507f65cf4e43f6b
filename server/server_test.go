package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/internal/memstore"
)

// echoBody is a dialect route that reads its body, to test the body cap.
type echoBody struct{}

func (echoBody) Register(e *echo.Echo) {
	e.PUT("/v1/echo", func(c echo.Context) error {
		b, err := io.ReadAll(c.Request().Body)
		if IsTooLarge(err) {
			return TooLarge(c)
		}
		return c.Blob(200, "text/plain", b)
	})
}

// echoBody's declared bodies: Lanyard's shape, as the fallback dialect.
const (
	echoNotFound = `{"success":false,"error":{"code":"not_found","message":"Route does not exist"}}`
	echoTooLarge = `{"success":false,"error":{"code":"payload_too_large","message":"` + TooLargeMessage + `"}}`
)

// ErrorFormat declares echoBody as the fallback dialect.
func (echoBody) ErrorFormat() ErrorFormat {
	return ErrorFormat{Prefixes: []string{"/"}, NotFound: []byte(echoNotFound), TooLarge: []byte(echoTooLarge),
		Error: func(status int, message string) []byte {
			return []byte(`{"success":false,"error":{"code":"` + StatusCode(status) + `","message":"` + message + `"}}`)
		}}
}

// stubDialect owns prefix and answers with bodies naming itself; its one
// route, teapot, fails with an error no handler answered.
type stubDialect struct{ prefix, name string }

func (d stubDialect) Register(e *echo.Echo) {
	e.GET(d.prefix+"teapot", func(echo.Context) error { return echo.NewHTTPError(418, "short and stout") })
}

func (d stubDialect) ErrorFormat() ErrorFormat {
	body := func(status int, message string) []byte {
		b := `{"stub":"` + d.name + `","status":` + strconv.Itoa(status)
		if message != "" {
			b += `,"message":"` + message + `"`
		}
		return []byte(b + "}")
	}
	return ErrorFormat{Prefixes: []string{d.prefix}, NotFound: body(404, ""), TooLarge: body(413, ""), Error: body}
}

// startServer serves on a real loopback listener, with echoBody and the
// given dialects registered.
func startServer(t *testing.T, opts Options, dialects ...Dialect) string {
	t.Helper()
	if opts.Hub == nil {
		opts.Hub = core.NewHub(core.HubOptions{})
	}
	if opts.Tokens == nil {
		opts.Tokens, _ = core.NewTokens(bytes.Repeat([]byte("k"), 32), memstore.New())
	}
	s := New(opts)
	s.Register(append([]Dialect{echoBody{}}, dialects...)...)
	if err := s.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	s.Serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return "http://" + s.Addr()
}

func do(t *testing.T, method, url string, headers map[string]string, body io.Reader) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, body)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestCORS(t *testing.T) {
	base := startServer(t, Options{})
	resp, _ := do(t, "GET", base+"/healthz", map[string]string{"Origin": "https://x.test"}, nil)
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" || resp.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("CORS headers %v", resp.Header)
	}
	resp, _ = do(t, "GET", base+"/nope", nil, nil)
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatal("no ACAO without Origin: docs/compat/cross-dialect.md wants it on every response")
	}
	resp, body := do(t, "OPTIONS", base+"/v1/users/1/kv/x", map[string]string{
		"Origin": "https://x.test", "Access-Control-Request-Method": "PUT",
		"Access-Control-Request-Headers": "Authorization, Content-Type",
	}, nil)
	if resp.StatusCode != 200 || body != "" ||
		resp.Header.Get("Access-Control-Allow-Methods") != "PUT" ||
		resp.Header.Get("Access-Control-Allow-Headers") != "authorization,content-type" ||
		resp.Header.Get("Access-Control-Max-Age") != "600" {
		t.Fatalf("preflight %d %q %v", resp.StatusCode, body, resp.Header)
	}
	resp, body = do(t, "OPTIONS", base+"/anything", nil, nil)
	if resp.StatusCode != 204 || body != "" {
		t.Fatalf("non-preflight OPTIONS %d %q", resp.StatusCode, body)
	}
}

// TestUnknownRoutesByDeclaredFormat: the server answers an unknown route
// with the declared 404 of the dialect owning the longest matching prefix
// (a path equal to a prefix without its slash included), the fallback
// dialect's elsewhere, and the admin API's under /admin/. The real
// dialects' bodies are checked in cmd/halyard (TestServerAnswersInDialectFormats).
func TestUnknownRoutesByDeclaredFormat(t *testing.T) {
	base := startServer(t, Options{}, stubDialect{"/api/", "api"}, stubDialect{"/api/v9/", "v9"})
	for path, want := range map[string]string{
		"/nope":          echoNotFound,
		"/v1/nope":       echoNotFound,
		"/apis":          echoNotFound,
		"/api":           `{"stub":"api","status":404}`,
		"/api/v1/nope":   `{"stub":"api","status":404}`,
		"/api/v9":        `{"stub":"v9","status":404}`,
		"/api/v9/nope":   `{"stub":"v9","status":404}`,
		"/admin/v1/nope": `{"error":{"code":"not_found","message":"Not Found"}}`,
	} {
		resp, body := do(t, "GET", base+path, nil, nil)
		if resp.StatusCode != 404 || body != want {
			t.Errorf("%s: %d %s, want %s", path, resp.StatusCode, body, want)
		}
	}
	// Other errors no handler answered take the declared Error body.
	resp, body := do(t, "GET", base+"/api/teapot", nil, nil)
	if resp.StatusCode != 418 || body != `{"stub":"api","status":418,"message":"short and stout"}` {
		t.Errorf("418: %d %s", resp.StatusCode, body)
	}
	resp, body = do(t, "GET", base+"/api/v9/teapot", nil, nil)
	if resp.StatusCode != 418 || body != `{"stub":"v9","status":418,"message":"short and stout"}` {
		t.Errorf("418: %d %s", resp.StatusCode, body)
	}
}

// TestTooLargeMessageIsTheCap: the wording of the cap says its size.
func TestTooLargeMessageIsTheCap(t *testing.T) {
	if !strings.Contains(TooLargeMessage, " "+strconv.Itoa(core.MaxRequestBodySize)+" ") {
		t.Fatalf("%q does not say %d", TooLargeMessage, core.MaxRequestBodySize)
	}
}

func TestBodyCap(t *testing.T) {
	base := startServer(t, Options{})
	resp, body := do(t, "PUT", base+"/v1/echo", nil, strings.NewReader("hello"))
	if resp.StatusCode != 200 || body != "hello" {
		t.Fatalf("small body: %d %s", resp.StatusCode, body)
	}
	big := bytes.Repeat([]byte("a"), core.MaxRequestBodySize+1)
	resp, body = do(t, "PUT", base+"/v1/echo", nil, bytes.NewReader(big))
	if resp.StatusCode != 413 || !strings.Contains(body, `"payload_too_large"`) {
		t.Fatalf("declared large body: %d %s", resp.StatusCode, body)
	}
	// Chunked: no Content-Length, the cap trips while reading.
	resp, body = do(t, "PUT", base+"/v1/echo", nil, io.MultiReader(bytes.NewReader(big)))
	if resp.StatusCode != 413 || !strings.Contains(body, "1048576 bytes or less") {
		t.Fatalf("chunked large body: %d %s", resp.StatusCode, body)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	var reasons []string
	base := startServer(t, Options{Ready: func(context.Context) []string { return reasons }})
	if resp, _ := do(t, "GET", base+"/healthz", nil, nil); resp.StatusCode != 200 {
		t.Fatal("healthz")
	}
	reasons = []string{"gateway session is not ready"}
	resp, body := do(t, "GET", base+"/readyz", nil, nil)
	if resp.StatusCode != 503 || !strings.Contains(body, "gateway session is not ready") {
		t.Fatalf("not ready: %d %s", resp.StatusCode, body)
	}
	reasons = nil
	if resp, _ := do(t, "GET", base+"/readyz", nil, nil); resp.StatusCode != 200 {
		t.Fatal("ready")
	}
}

type fakeDriver struct{ presences []json.RawMessage }

func (f *fakeDriver) UpdatePresence(d json.RawMessage) error {
	if !bytes.Contains(d, []byte(`"user"`)) {
		return errors.New("user.id is required")
	}
	f.presences = append(f.presences, d)
	return nil
}
func (f *fakeDriver) AddMember(json.RawMessage) error { return nil }
func (f *fakeDriver) RemoveMember(string) error       { return errors.New("unknown member") }
func (f *fakeDriver) SendDM(string, string) error     { return nil }
func (f *fakeDriver) DMMessages(string) []DemoMessage { return nil }

func TestAdminAPI(t *testing.T) {
	hub := core.NewHub(core.HubOptions{})
	for _, id := range []string{"30", "10", "20"} {
		hub.UpsertMember("g", core.Member{User: core.DiscordUser{ID: id, Username: "u" + id, Raw: json.RawMessage(`{}`)}})
	}
	tokens, _ := core.NewTokens(bytes.Repeat([]byte("k"), 32), memstore.New())
	drv := &fakeDriver{}
	base := startServer(t, Options{Hub: hub, Tokens: tokens, AdminToken: "adm", Demo: drv})
	auth := map[string]string{"Authorization": "Bearer adm"}

	tests := []struct {
		method, path string
		headers      map[string]string
		body         string
		status       int
		contains     string
	}{
		{"GET", "/admin/v1/users", nil, "", 401, "admin bearer token"},
		{"GET", "/admin/v1/users", map[string]string{"Authorization": "adm"}, "", 401, ""},
		{"GET", "/admin/v1/users?limit=2", auth, "", 200, `"next":"20"`},
		{"GET", "/admin/v1/users?limit=2&after=20", auth, "", 200, `"next":null`},
		{"GET", "/admin/v1/users?limit=0", auth, "", 400, "limit"},
		{"GET", "/admin/v1/users?after=x", auth, "", 400, "after"},
		{"POST", "/admin/v1/users/abc/token", auth, "", 400, "Discord user id"},
		{"POST", "/admin/v1/users/10/token", auth, "", 200, `"token":"lnyd_`},
		{"DELETE", "/admin/v1/users/10/token", auth, "", 204, ""},
		{"POST", "/admin/v1/demo/presence", auth, `{"user":{"id":"10"},"status":"online"}`, 202, ""},
		{"POST", "/admin/v1/demo/presence", auth, `{"status":"online"}`, 400, "user.id"},
		{"POST", "/admin/v1/demo/presence", auth, `not json`, 400, "JSON object"},
		{"DELETE", "/admin/v1/demo/members/99", auth, "", 404, "unknown member"},
		{"POST", "/admin/v1/demo/messages", auth, `{"user_id":"10"}`, 400, "content"},
		{"POST", "/admin/v1/demo/messages", auth, `{"user_id":"10","content":".help"}`, 202, ""},
		{"GET", "/admin/v1/demo/messages?user_id=10", auth, "", 200, `{"messages":[]}`},
		{"GET", "/admin/v1/demo/messages", auth, "", 400, "user_id"},
	}
	for _, tt := range tests {
		var body io.Reader
		if tt.body != "" {
			body = strings.NewReader(tt.body)
		}
		resp, got := do(t, tt.method, base+tt.path, tt.headers, body)
		if resp.StatusCode != tt.status || !strings.Contains(got, tt.contains) {
			t.Errorf("%s %s: %d %s (want %d containing %q)", tt.method, tt.path, resp.StatusCode, got, tt.status, tt.contains)
		}
	}
	if len(drv.presences) != 1 {
		t.Fatalf("driver got %d presences", len(drv.presences))
	}
}

// TestBodyCapDeclaredFormat: a body over the cap on a path a dialect owns
// is answered with that dialect's declared 413.
func TestBodyCapDeclaredFormat(t *testing.T) {
	base := startServer(t, Options{}, stubDialect{"/api/", "api"})
	big := bytes.Repeat([]byte("a"), core.MaxRequestBodySize+1)
	resp, body := do(t, "PUT", base+"/api/v1/users/1/storage/k", nil, bytes.NewReader(big))
	if resp.StatusCode != 413 || body != `{"stub":"api","status":413}` {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

func TestErrorBodiesCarryCharset(t *testing.T) {
	base := startServer(t, Options{}, stubDialect{"/api/", "api"})
	for _, path := range []string{"/nope", "/api/v1/nope", "/admin/x"} {
		resp, _ := do(t, "GET", base+path, nil, nil)
		if ct := resp.Header.Get("Content-Type"); ct != JSONContentType {
			t.Errorf("%s: content-type %q", path, ct)
		}
	}
	big := bytes.Repeat([]byte("a"), core.MaxRequestBodySize+1)
	resp, _ := do(t, "PUT", base+"/v1/echo", nil, bytes.NewReader(big))
	if ct := resp.Header.Get("Content-Type"); ct != JSONContentType {
		t.Errorf("413: content-type %q", ct)
	}
}
