package userpage

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/core"
)

type historyOn map[string]bool

func (h historyOn) Enabled(id string) bool { return h[id] }

// Everything user-controlled (names, custom status, KV) lands escaped, in
// the body and in the <meta> tags; an unknown id is a 404 page.
func TestPageEscapes(t *testing.T) {
	hub := core.NewHub(core.HubOptions{})
	if err := hub.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	const evil = `"><script>alert(1)</script>`
	raw, _ := json.Marshal(map[string]any{"id": "42", "username": "mallory", "global_name": evil})
	hub.UpsertMember("1", core.Member{
		User: core.DiscordUser{ID: "42", Raw: raw, Username: "mallory", GlobalName: evil, Discriminator: "0"},
		Presence: &core.Presence{Status: core.StatusDND, Activities: []core.Activity{
			{Raw: json.RawMessage(`{"type":4}`), Type: 4, Name: "Custom Status", State: evil}}},
		SetPresence: true})
	if err := hub.PutKV(t.Context(), "42", "bio", evil); err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	New(Options{Hub: hub, History: historyOn{"42": true}, ExternalURL: "https://presence.example/", CDNURL: "https://cdn.example"}).Register(e)
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		b, _ := io.ReadAll(rec.Body)
		return rec.Code, string(b)
	}
	code, body := get("/u/42")
	if code != 200 || strings.Contains(body, "<script>alert") {
		t.Fatalf("/u/42: %d, markup from the user unescaped:\n%s", code, body)
	}
	for _, want := range []string{
		`<meta property="og:image" content="https://cdn.example/embed/avatars/`,
		`<meta property="og:url" content="https://presence.example/u/42">`,
		`<meta name="twitter:card" content="summary">`,
		`&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt; is on do not disturb · “&#34;&gt;&lt;script&gt;`,
		`id="timeline-box"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/u/42 lacks %s", want)
		}
	}
	for _, path := range []string{"/u/43", "/u/abc", "/u/%3Cb%3E"} {
		code, body := get(path)
		if code != 404 || !strings.Contains(body, `id="not-found"`) || strings.Contains(body, "<b>") {
			t.Errorf("%s: %d\n%s", path, code, body)
		}
	}
}
