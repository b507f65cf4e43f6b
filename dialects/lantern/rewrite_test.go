package lantern

import (
	"net/http"
	"strings"
	"testing"
)

// rewriteSeeds are paths around Lantern's literal segments, cases and
// trailing slashes.
var rewriteSeeds = []string{
	"/api/v1/users/111111111111111111", "/API/V1/Users/111111111111111111", "/api/v1/users/111111111111111111/",
	"/api/v1/users/111111111111111111//", "/api/v1/users/1/storage/Key", "/api/v1/users/1/STORAGE/key/",
	"/api/", "/Api/", "/api//", "/api/v2/USERS", "/api/x/Users/", "/api/v1/users?user_ids=1", "/api/v1/us%45rs/1",
	"/api/v1/users/%31%31/", "/api/v1/users/a%2Fb", "/api/v1/users/1/storage/k%zz", "/v1/users/1/", "/",
}

// rewritten returns the path and raw path of path after rewrite.
func rewritten(path string, rewrite func(*http.Request)) (string, string, bool) {
	req, err := http.NewRequest("GET", "http://halyard.test"+path, nil)
	if err != nil {
		return "", "", false
	}
	rewrite(req)
	return req.URL.Path, req.URL.RawPath, true
}

// checkRewrite: RewritePath, which skips paths already in normal form,
// rewrites path exactly as normalizePath does when applied to every path
// under /api/.
func checkRewrite(t *testing.T, d *Dialect, path string) {
	t.Helper()
	got, gotRaw, ok := rewritten(path, d.RewritePath)
	if !ok {
		return
	}
	want, wantRaw, _ := rewritten(path, func(r *http.Request) {
		if p := r.URL.EscapedPath(); len(p) >= 5 && strings.EqualFold(p[:5], "/api/") {
			normalizePath(r, p)
		}
	})
	if got != want || gotRaw != wantRaw {
		t.Fatalf("%q: RewritePath gives %q (raw %q), normalizing every path gives %q (raw %q)", path, got, gotRaw, want, wantRaw)
	}
}

// TestRewritePath: the normal-form shortcut changes no rewrite.
func TestRewritePath(t *testing.T) {
	d := &Dialect{}
	for _, p := range rewriteSeeds {
		checkRewrite(t, d, p)
	}
}

// FuzzRewritePath: the normal-form shortcut changes no rewrite, whatever
// the path.
func FuzzRewritePath(f *testing.F) {
	for _, p := range rewriteSeeds {
		f.Add(p)
	}
	d := &Dialect{}
	f.Fuzz(func(t *testing.T, path string) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "?#") {
			return
		}
		checkRewrite(t, d, path)
	})
}
