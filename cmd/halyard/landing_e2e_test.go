package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/halyardhq/halyard/web/landing"
)

// getWith sends GET path with the given headers and returns the answer and its body.
func getWith(t *testing.T, base, path string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultTransport.RoundTrip(req) // no transparent gzip: the bytes as sent
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// TestLandingNegotiation: GET / answers the landing page to a browser that
// asks for HTML first, and the same JSON as before to everyone else (no
// Accept, */*, application/json, JSON before HTML); HEAD / stays a 404.
func TestLandingNegotiation(t *testing.T) {
	m := startDemoWith(t, 55, nil)
	base := m.URL()
	c := client{t, base}
	eventually(t, "readyz 200 (members synced)", func() bool { code, _ := c.do("GET", "/readyz", "", nil); return code == 200 })

	resp, want := getWith(t, base, "/", nil)
	var info struct {
		Success bool `json:"success"`
		Data    struct {
			Info  string `json:"info"`
			Count int    `json:"monitored_user_count"`
		} `json:"data"`
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" || json.Unmarshal(want, &info) != nil || !info.Success || info.Data.Count != m.Hub.Count() {
		t.Fatalf("GET / without Accept: %d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), want)
	}
	for _, accept := range []string{"*/*", "application/json", "application/json, text/html", "text/html;q=0.5, application/json", "text/*"} {
		resp, body := getWith(t, base, "/", map[string]string{"Accept": accept})
		if resp.StatusCode != 200 || !bytes.Equal(body, want) || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Errorf("Accept %q: %d %q %s, want the JSON service info", accept, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	const chromium = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8"
	if resp, _ := getWith(t, base, "/", map[string]string{"Accept": chromium}); resp.Header.Get("Vary") != "Accept" {
		t.Errorf("GET /: Vary %q, want Accept", resp.Header.Get("Vary"))
	}
	req, _ := http.NewRequest("HEAD", base+"/", nil)
	req.Header.Set("Accept", chromium)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 404 {
		t.Errorf("HEAD / with a browser's Accept: %v %v, want Lanyard's 404", err, resp)
	}

	resp, page := getWith(t, base, "/", map[string]string{"Accept": chromium})
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET / as a browser: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var snippet string
	users := map[string]bool{}
	var docs bool
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			for _, a := range n.Attr {
				if n.Data == "pre" && a.Key == "id" && a.Val == "snippet" && n.FirstChild != nil {
					snippet = n.FirstChild.Data
				}
				if n.Data == "a" && a.Key == "href" {
					if id, ok := strings.CutPrefix(a.Val, "/u/"); ok {
						users[id] = true
					}
					docs = docs || a.Val == "/docs/"
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	wantScript := `<script src="` + m.Config.HTTP.ExternalURL + `/widget.js" async></script>`
	if !strings.Contains(snippet, wantScript) || !strings.Contains(snippet, `<halyard-presence user="`) {
		t.Errorf("the snippet %q lacks %q and an element", snippet, wantScript)
	}
	if !docs {
		t.Error("the landing page does not link /docs/")
	}
	if len(users) != landing.DefaultMaxUsers {
		t.Errorf("the landing page links %d users, want the first %d of %d", len(users), landing.DefaultMaxUsers, m.Hub.Count())
	}
	for id := range users {
		if !m.Hub.IsMonitored(id) {
			t.Errorf("the landing page links /u/%s, who is not monitored", id)
		}
	}
}

// TestWidgetScriptServed: /widget.js from the real server, with CORS, an
// ETag and a 304 on revalidation; odd queries still get the script.
func TestWidgetScriptServed(t *testing.T) {
	m := startDemoWith(t, 3, nil)
	base := m.URL()
	resp, body := getWith(t, base, "/widget.js", map[string]string{"Origin": "https://blog.example"})
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != 200 || etag == "" || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		resp.Header.Get("Content-Type") != "text/javascript; charset=utf-8" || !bytes.Contains(body, []byte("halyard-presence")) {
		t.Fatalf("GET /widget.js: %d %v", resp.StatusCode, resp.Header)
	}
	if resp, body := getWith(t, base, "/widget.js", map[string]string{"If-None-Match": etag}); resp.StatusCode != 304 || len(body) != 0 || resp.Header.Get("ETag") != etag {
		t.Errorf("revalidation: %d, %d bytes, ETag %q", resp.StatusCode, len(body), resp.Header.Get("ETag"))
	}
	if resp, _ := getWith(t, base, m.Widget.VersionedPath(), nil); !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("%s: Cache-Control %q", m.Widget.VersionedPath(), resp.Header.Get("Cache-Control"))
	}
	for _, q := range []string{"?v=", "?v=%zz", "?%00", "?v=" + strings.Repeat("9", 4000), "?callback=x&v[]=1"} {
		if resp, got := getWith(t, base, "/widget.js"+q, nil); resp.StatusCode != 200 || !bytes.Equal(got, body) {
			t.Errorf("/widget.js%.30s: %d, %d bytes", q, resp.StatusCode, len(got))
		}
	}
	if resp, _ := getWith(t, base, "/widget.js/", nil); resp.StatusCode != 404 {
		t.Errorf("/widget.js/: %d, want the 404 of unknown routes", resp.StatusCode)
	}
}
