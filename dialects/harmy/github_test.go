package harmy

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/github"
	"github.com/halyardhq/halyard/storage"
)

// gitHubStandIn is a local GitHub: GET /users/{login} answers per mode.
type gitHubStandIn struct {
	*httptest.Server
	mu       sync.Mutex
	mode     string // ok, 5xx, ratelimit, slow, 404
	release  chan struct{}
	requests atomic.Int64
	revalid  atomic.Int64 // 304s sent
}

func newGitHubStandIn(t testing.TB) *gitHubStandIn {
	g := &gitHubStandIn{mode: "ok", release: make(chan struct{})}
	g.Server = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(func() { close(g.release); g.Close() })
	return g
}

func (g *gitHubStandIn) set(mode string) { g.mu.Lock(); g.mode = mode; g.mu.Unlock() }

func (g *gitHubStandIn) serve(w http.ResponseWriter, r *http.Request) {
	g.requests.Add(1)
	g.mu.Lock()
	mode := g.mode
	g.mu.Unlock()
	login := strings.TrimPrefix(r.URL.Path, "/users/")
	switch mode {
	case "5xx":
		http.Error(w, "{}", http.StatusInternalServerError)
	case "ratelimit":
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
		http.Error(w, `{"message":"API rate limit exceeded"}`, http.StatusForbidden)
	case "slow":
		select {
		case <-g.release:
		case <-r.Context().Done():
		}
	case "404":
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
	default:
		etag := `"` + strings.ToLower(login) + `"`
		if r.Header.Get("If-None-Match") == etag {
			g.revalid.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		canonical := strings.ToLower(login)
		fmt.Fprintf(w, `{"login":%q,"id":111227553,"node_id":"x","avatar_url":"https://avatars.githubusercontent.com/u/111227553?v=4",
			"html_url":"https://github.com/%s","company":null,"blog":"https://harmy.gg","bio":"casual coder","public_repos":1,"followers":3}`, canonical, canonical)
	}
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newGitHubCache(t testing.TB, g *gitHubStandIn, now func() time.Time, timeout time.Duration) *github.Cache {
	c := github.NewCache(github.CacheConfig{Client: github.NewClient(github.Config{BaseURL: g.URL, Timeout: timeout, Now: now}), Now: now})
	t.Cleanup(func() { c.Close() })
	return c
}

const vaqqqProfile = `{"id":111227553,"username":"vaqqq","avatar_url":"https://avatars.githubusercontent.com/u/111227553?v=4",` +
	`"url":"https://github.com/vaqqq","company":null,"blog":"https://harmy.gg","bio":"casual coder","public_repos":1}`

// githubField returns the "github" member of GET /user/:id.
func githubField(t *testing.T, s *harmyServer, id string) string {
	t.Helper()
	resp, body := s.get(t, "/user/"+id, nil)
	var r struct{ GitHub json.RawMessage }
	if resp.StatusCode != 200 || json.Unmarshal(body, &r) != nil {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	return string(r.GitHub)
}

func TestGitHubProfile(t *testing.T) {
	g := newGitHubStandIn(t)
	clk := &clock{t: time.Now()}
	s := startHarmy(t, Options{GitHub: newGitHubCache(t, g, clk.Now, time.Second)}, nil)
	s.member("1", "", "", "", nil)

	if got := githubField(t, s, "1"); got != "null" {
		t.Fatalf("nothing linked: %s", got)
	}
	s.hub.SetGitHubLogin("1", "vaqqq")
	// The first request may wait a moment for GitHub; the stand-in answers at once.
	if got := githubField(t, s, "1"); got != vaqqqProfile {
		t.Fatalf("linked profile\n got %s\nwant %s", got, vaqqqProfile)
	}
	// Fresh: no more requests to GitHub.
	n := g.requests.Load()
	for range 5 {
		githubField(t, s, "1")
	}
	if g.requests.Load() != n {
		t.Fatal("a fresh profile was fetched again")
	}
	// Stale: served as is and revalidated with its ETag in the background.
	clk.Advance(11 * time.Minute)
	if got := githubField(t, s, "1"); got != vaqqqProfile {
		t.Fatalf("stale: %s", got)
	}
	waitFor(t, "ETag revalidation", func() bool { return g.revalid.Load() == 1 })

	// GitHub failing: the cached profile is served.
	for _, mode := range []string{"5xx", "ratelimit", "slow"} {
		g.set(mode)
		clk.Advance(11 * time.Minute)
		start := time.Now()
		if got := githubField(t, s, "1"); got != vaqqqProfile {
			t.Fatalf("%s: stale profile not served: %s", mode, got)
		}
		if time.Since(start) > 500*time.Millisecond {
			t.Fatalf("%s: the request waited on GitHub (%v)", mode, time.Since(start))
		}
	}

	// Unlinking: null at once.
	s.hub.SetGitHubLogin("1", "")
	if got := githubField(t, s, "1"); got != "null" {
		t.Fatalf("unlinked: %s", got)
	}
}

func TestGitHubUnreachableNothingCached(t *testing.T) {
	for _, mode := range []string{"5xx", "ratelimit", "slow", "404"} {
		t.Run(mode, func(t *testing.T) {
			g := newGitHubStandIn(t)
			g.set(mode)
			s := startHarmy(t, Options{GitHub: newGitHubCache(t, g, time.Now, 2*time.Second), GitHubFirstWait: 100 * time.Millisecond}, nil)
			s.member("1", "", "", "", nil)
			s.hub.SetGitHubLogin("1", "nobody")
			for range 3 {
				start := time.Now()
				if got := githubField(t, s, "1"); got != "null" {
					t.Fatalf("github %s", got)
				}
				if d := time.Since(start); d > 600*time.Millisecond {
					t.Fatalf("request took %v: it must not wait on GitHub beyond the first-wait bound", d)
				}
			}
			if n := g.requests.Load(); n != 1 {
				t.Fatalf("%d GitHub requests; failures and rate limits must be waited out", n)
			}
		})
	}
}

func TestGitHubDeletedAccountIsNull(t *testing.T) {
	g := newGitHubStandIn(t)
	clk := &clock{t: time.Now()}
	s := startHarmy(t, Options{GitHub: newGitHubCache(t, g, clk.Now, time.Second)}, nil)
	s.member("1", "", "", "", nil)
	s.hub.SetGitHubLogin("1", "vaqqq")
	if got := githubField(t, s, "1"); got != vaqqqProfile {
		t.Fatalf("before: %s", got)
	}
	g.set("404")
	clk.Advance(11 * time.Minute)
	githubField(t, s, "1") // stale served, refresh learns of the deletion
	waitFor(t, "github null", func() bool { return githubField(t, s, "1") == "null" })
	// The link is kept: if the login comes back, so does the profile.
	if rec, _ := s.hub.Record("1"); rec.GitHubLogin != "vaqqq" {
		t.Fatalf("link dropped: %+v", rec)
	}
	g.set("ok")
	clk.Advance(11 * time.Minute)
	githubField(t, s, "1")
	waitFor(t, "profile back", func() bool { return githubField(t, s, "1") == vaqqqProfile })
}

func TestGitHubFirstWaitOff(t *testing.T) {
	g := newGitHubStandIn(t)
	g.set("slow")
	s := startHarmy(t, Options{GitHub: newGitHubCache(t, g, time.Now, 5*time.Second), GitHubFirstWait: -1}, nil)
	s.member("1", "", "", "", nil)
	s.hub.SetGitHubLogin("1", "vaqqq")
	start := time.Now()
	if got := githubField(t, s, "1"); got != "null" || time.Since(start) > 200*time.Millisecond {
		t.Fatalf("with no first wait: %s after %v", got, time.Since(start))
	}
}

// TestGitHubLinkSurvivesRestart links through the bot command on the real
// store and reads the profile after reopening it.
func TestGitHubLinkSurvivesRestart(t *testing.T) {
	g := newGitHubStandIn(t)
	dir := t.TempDir()
	open := func() *storage.Store {
		st, err := storage.Open(context.Background(), storage.Config{DataDir: dir, OpTimeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	st := open()
	s := startHarmy(t, Options{GitHub: newGitHubCache(t, g, time.Now, time.Second)}, st)
	s.member("1", "", "", "", nil)
	r := s.dialect.github(context.Background(), core.CommandRequest{UserID: "1", Args: []string{"VAQQQ"}, Monitored: true})
	if !strings.Contains(r.Messages[0].Content, "Linked GitHub account `vaqqq`") {
		t.Fatalf("link reply: %+v", r)
	}
	if err := s.hub.PutKV(context.Background(), "1", "k", "v"); err != nil {
		t.Fatal(err)
	}
	s.hub.Close() // flushes the user records
	st.Close()

	st2 := open()
	defer st2.Close()
	s2 := startHarmy(t, Options{GitHub: newGitHubCache(t, g, time.Now, time.Second)}, st2)
	s2.member("1", "", "", "", nil)
	if got := githubField(t, s2, "1"); got != vaqqqProfile {
		t.Fatalf("after restart: %s", got)
	}
	tok, _ := s2.tokens.Issue(context.Background(), "1")
	if _, body := s2.get(t, "/user/1", auth(tok)); !strings.Contains(string(body), `"KV":{"k":"v"}`) {
		t.Fatalf("KV after restart: %s", body)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}
