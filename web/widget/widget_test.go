package widget

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// maxGzipBytes is the widget's size budget, compressed (issue 15).
const maxGzipBytes = 15 << 10

func serve(s *Script, target string, header map[string]string) *httptest.ResponseRecorder {
	e := echo.New()
	s.Register(e)
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.URL.RawQuery = ""
	if path, query, ok := strings.Cut(target, "?"); ok {
		req.URL.Path, req.URL.RawQuery = path, query
	} else {
		req.URL.Path = target
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func TestScriptServedWithHashAndCache(t *testing.T) {
	s := New(Options{})
	rec := serve(s, "/widget.js", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /widget.js: %d", rec.Code)
	}
	h := rec.Header()
	for k, want := range map[string]string{
		"Content-Type":  "text/javascript; charset=utf-8",
		"ETag":          `"` + s.Hash() + `"`,
		"Cache-Control": "public, max-age=86400",
		"Vary":          "Accept-Encoding",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if !bytes.Equal(rec.Body.Bytes(), source) || h.Get("Content-Encoding") != "" {
		t.Errorf("body is not the embedded script as is (%d bytes, encoding %q)", rec.Body.Len(), h.Get("Content-Encoding"))
	}
	if len(s.Hash()) != 16 {
		t.Errorf("hash %q: want 16 hex digits", s.Hash())
	}

	versioned := serve(s, s.VersionedPath(), nil)
	if got := versioned.Header().Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
		t.Errorf("%s: Cache-Control %q, want a year, immutable", s.VersionedPath(), got)
	}
	if !bytes.Equal(versioned.Body.Bytes(), source) {
		t.Error("the versioned URL serves other bytes")
	}
}

func TestScriptGzip(t *testing.T) {
	s := New(Options{})
	rec := serve(s, "/widget.js", map[string]string{"Accept-Encoding": "br, gzip, deflate"})
	if rec.Header().Get("Content-Encoding") != "gzip" || rec.Header().Get("ETag") != `"`+s.Hash()+`-gzip"` {
		t.Fatalf("gzip answer: encoding %q etag %q", rec.Header().Get("Content-Encoding"), rec.Header().Get("ETag"))
	}
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(plain, source) {
		t.Fatalf("gzip body does not inflate to the script: %v", err)
	}
	plainSize, gz := s.Size()
	t.Logf("widget.js: %d bytes, %d gzipped as served (budget %d)", plainSize, gz, maxGzipBytes)
	if gz > maxGzipBytes {
		t.Errorf("widget.js is %d bytes gzipped, over the %d-byte budget", gz, maxGzipBytes)
	}
	for _, ae := range []string{"gzip;q=0", "identity", "*;q=0", "gzip;q=0, *", "gzip;q=bad"} {
		if rec := serve(s, "/widget.js", map[string]string{"Accept-Encoding": ae}); rec.Header().Get("Content-Encoding") != "" {
			t.Errorf("Accept-Encoding %q: answered gzip", ae)
		}
	}
	if rec := serve(s, "/widget.js", map[string]string{"Accept-Encoding": "*"}); rec.Header().Get("Content-Encoding") != "gzip" {
		t.Error(`Accept-Encoding "*": not gzip`)
	}
}

func TestScriptNotModified(t *testing.T) {
	s := New(Options{})
	cases := []struct {
		inm  string
		want int
	}{
		{`"` + s.Hash() + `"`, http.StatusNotModified},
		{`W/"` + s.Hash() + `"`, http.StatusNotModified},
		{`"` + s.Hash() + `-gzip"`, http.StatusNotModified},
		{`"other", "` + s.Hash() + `"`, http.StatusNotModified},
		{`*`, http.StatusNotModified},
		{`"0000000000000000"`, http.StatusOK},
		{`garbage`, http.StatusOK},
		{``, http.StatusOK},
	}
	for _, c := range cases {
		rec := serve(s, "/widget.js", map[string]string{"If-None-Match": c.inm})
		if rec.Code != c.want {
			t.Errorf("If-None-Match %q: %d, want %d", c.inm, rec.Code, c.want)
		}
		if c.want == http.StatusNotModified && (rec.Body.Len() != 0 || rec.Header().Get("ETag") == "" || rec.Header().Get("Cache-Control") == "") {
			t.Errorf("If-None-Match %q: 304 with a body or without ETag/Cache-Control: %v", c.inm, rec.Header())
		}
	}
}

// TestScriptOddQueries: whatever the query, the script, never an error;
// only the current hash earns the immutable cache.
func TestScriptOddQueries(t *testing.T) {
	s := New(Options{})
	for _, q := range []string{"v=", "v=old", "v=" + s.Hash() + "x", "v=%zz", "%zz", "v=1&v=2", "a=b&&&", strings.Repeat("v=x&", 500), "v=" + s.Hash() + "&v=x"} {
		rec := serve(s, "/widget.js?"+q, nil)
		if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), source) {
			t.Errorf("?%.40s: %d, %d bytes", q, rec.Code, rec.Body.Len())
		}
		immutable := strings.Contains(rec.Header().Get("Cache-Control"), "immutable")
		if immutable != strings.HasPrefix(q, "v="+s.Hash()+"&") {
			t.Errorf("?%.40s: Cache-Control %q", q, rec.Header().Get("Cache-Control"))
		}
	}
}

func TestScriptCDN(t *testing.T) {
	def := New(Options{})
	if same := New(Options{CDNURL: "https://cdn.discordapp.com/"}); same.Hash() != def.Hash() {
		t.Error("the default CDN, spelled with a slash, changed the script")
	}
	s := New(Options{CDNURL: "http://127.0.0.1:9/cdn"})
	rec := serve(s, "/widget.js", nil)
	if !bytes.Contains(rec.Body.Bytes(), []byte(`const CDN = "http://127.0.0.1:9/cdn";`)) || s.Hash() == def.Hash() {
		t.Errorf("the configured CDN is not in the script (hash %s)", s.Hash())
	}
	if !bytes.Contains(source, []byte(cdnLine)) {
		t.Fatalf("widget.js lost its CDN line %q", cdnLine)
	}
	if weird := New(Options{CDNURL: `https://x.test/"</script>`}); !bytes.Contains(weird.body, []byte(`const CDN = "https://x.test/\"\u003c/script\u003e";`)) {
		t.Error("a CDN URL with quotes is not escaped as a JS string")
	}
}
