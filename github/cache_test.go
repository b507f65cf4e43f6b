package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeGitHub is an httptest stand-in for GitHub's GET /users/{login}.
// Its answer is whatever mode says; it counts requests and remembers the
// last If-None-Match and Authorization it saw.
type fakeGitHub struct {
	*httptest.Server
	mu          sync.Mutex
	mode        string // "ok", "5xx", "403", "429", "slow", "404", "403plain"
	etag        string
	reset       time.Time
	requests    atomic.Int64
	lastIfNone  string
	lastAuth    string
	lastUA      string
	slowRelease chan struct{}
}

func newFakeGitHub(t *testing.T) *fakeGitHub {
	f := &fakeGitHub{mode: "ok", etag: `W/"v1"`, slowRelease: make(chan struct{})}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() { close(f.slowRelease); f.Close() })
	return f
}

func (f *fakeGitHub) set(mode string) { f.mu.Lock(); f.mode = mode; f.mu.Unlock() }

func (f *fakeGitHub) serve(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	f.mu.Lock()
	mode, etag, reset := f.mode, f.etag, f.reset
	f.lastIfNone, f.lastAuth, f.lastUA = r.Header.Get("If-None-Match"), r.Header.Get("Authorization"), r.Header.Get("User-Agent")
	f.mu.Unlock()
	login := r.URL.Path[len("/users/"):]
	switch mode {
	case "5xx":
		http.Error(w, `{"message":"Server Error"}`, http.StatusBadGateway)
	case "403":
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
		http.Error(w, `{"message":"API rate limit exceeded"}`, http.StatusForbidden)
	case "403plain":
		http.Error(w, `{"message":"Forbidden"}`, http.StatusForbidden)
	case "429":
		w.Header().Set("Retry-After", "120")
		http.Error(w, `{"message":"secondary rate limit"}`, http.StatusTooManyRequests)
	case "slow":
		select {
		case <-f.slowRelease:
		case <-r.Context().Done():
		}
	case "404":
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
	default:
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"login":%q,"id":111227553,"avatar_url":"https://avatars.githubusercontent.com/u/111227553?v=4",
			"html_url":"https://github.com/%s","company":null,"blog":"https://harmy.gg","bio":"casual coder","public_repos":1,"type":"User"}`, login, login)
	}
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func newClock() *clock                   { return &clock{t: time.Unix(1_800_000_000, 0)} }
func newCache(f *fakeGitHub, clk *clock, timeout time.Duration) *Cache {
	return NewCache(CacheConfig{
		Client: NewClient(Config{BaseURL: f.URL, Token: "ghp_test", Timeout: timeout, Now: clk.Now}),
		Now:    clk.Now,
	})
}

func lookup(t *testing.T, c *Cache, login string, force bool) (*Profile, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.Lookup(ctx, login, force)
}

// settle waits for every background fetch to end.
func settle(t *testing.T, c *Cache) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		busy := false
		for _, e := range c.entries {
			busy = busy || e.done != nil
		}
		c.mu.Unlock()
		if !busy {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("fetches did not settle")
}

func TestCacheFreshThenETagRevalidation(t *testing.T) {
	f, clk := newFakeGitHub(t), newClock()
	c := newCache(f, clk, time.Second)
	defer c.Close()

	p, err := lookup(t, c, "vaqqq", false)
	if err != nil || p.Login != "vaqqq" || p.ID != 111227553 || p.Company != nil || *p.Blog != "https://harmy.gg" || p.PublicRepos != 1 {
		t.Fatalf("first lookup: %+v %v", p, err)
	}
	if f.lastAuth != "Bearer ghp_test" || f.lastUA == "" || f.lastIfNone != "" {
		t.Fatalf("request headers: auth %q ua %q if-none-match %q", f.lastAuth, f.lastUA, f.lastIfNone)
	}
	// Fresh for 10 minutes: no request at all, case-insensitive login.
	clk.Advance(9 * time.Minute)
	if got := c.Get("VAQQQ"); got != p || f.requests.Load() != 1 {
		t.Fatalf("fresh read: %p vs %p, %d requests", got, p, f.requests.Load())
	}
	// Stale: served at once, revalidated in the background with the ETag.
	clk.Advance(2 * time.Minute)
	if got := c.Get("vaqqq"); got != p {
		t.Fatal("stale profile not served")
	}
	settle(t, c)
	if f.requests.Load() != 2 || f.lastIfNone != `W/"v1"` {
		t.Fatalf("revalidation: %d requests, If-None-Match %q", f.requests.Load(), f.lastIfNone)
	}
	// The 304 made it fresh again.
	clk.Advance(time.Minute)
	if got := c.Get("vaqqq"); got != p || f.requests.Load() != 2 {
		t.Fatalf("after 304: %d requests", f.requests.Load())
	}
	// A changed profile (new ETag) replaces it at the next revalidation.
	f.mu.Lock()
	f.etag = `W/"v2"`
	f.mu.Unlock()
	clk.Advance(10 * time.Minute)
	c.Get("vaqqq")
	settle(t, c)
	if got := c.Get("vaqqq"); got == p || got.Login != "vaqqq" {
		t.Fatal("changed profile not picked up")
	}
}

func TestCacheServerErrorServesStale(t *testing.T) {
	f, clk := newFakeGitHub(t), newClock()
	c := newCache(f, clk, time.Second)
	defer c.Close()

	// Nothing cached and GitHub failing: an error, no profile.
	f.set("5xx")
	if p, err := lookup(t, c, "octocat", false); p != nil || err == nil {
		t.Fatalf("5xx with nothing cached: %v %v", p, err)
	}
	var se *StatusError
	if _, err := lookup(t, c, "octocat", false); !errors.As(err, &se) || se.Code != 502 {
		t.Fatalf("want the last failure, got %v", err)
	}
	// The failure is waited out before the next try.
	clk.Advance(10 * time.Second)
	c.Get("octocat")
	if n := f.requests.Load(); n != 1 {
		t.Fatalf("retried during the pause: %d requests", n)
	}
	f.set("ok")
	clk.Advance(DefaultRetryFailedAfter)
	c.Get("octocat")
	settle(t, c)
	p := c.Get("octocat")
	if p == nil {
		t.Fatal("profile not fetched after the pause")
	}
	// Cached, then GitHub fails: the stale profile is served throughout.
	f.set("5xx")
	clk.Advance(11 * time.Minute)
	if got := c.Get("octocat"); got != p {
		t.Fatal("stale not served")
	}
	settle(t, c)
	if got, err := lookup(t, c, "octocat", false); got != p || err != nil {
		t.Fatalf("stale after failure: %v %v", got, err)
	}
}

func TestCacheRateLimit(t *testing.T) {
	for _, mode := range []string{"403", "429", "403plain"} {
		t.Run(mode, func(t *testing.T) {
			f, clk := newFakeGitHub(t), newClock()
			c := newCache(f, clk, time.Second)
			defer c.Close()
			if _, err := lookup(t, c, "cached", false); err != nil {
				t.Fatal(err)
			}
			f.mu.Lock()
			f.reset = clk.Now().Add(30 * time.Minute)
			f.mu.Unlock()
			f.set(mode)

			_, err := lookup(t, c, "newcomer", true)
			var rl *RateLimitError
			if mode == "403plain" {
				var se *StatusError
				if !errors.As(err, &se) || se.Code != 403 {
					t.Fatalf("a plain 403 is no rate limit: %v", err)
				}
				return
			}
			if !errors.As(err, &rl) {
				t.Fatalf("want a rate-limit error, got %v", err)
			}
			want := map[string]time.Duration{"403": 30 * time.Minute, "429": 2 * time.Minute}[mode]
			if got := c.BlockedUntil().Sub(clk.Now()); got != want {
				t.Fatalf("backing off %v, want %v", got, want)
			}
			// While blocked: nothing is sent, even forced or stale; cached profiles are served.
			n := f.requests.Load()
			clk.Advance(want - time.Second)
			if p := c.Get("cached"); p == nil {
				t.Fatal("cached profile not served while rate limited")
			}
			if _, err := lookup(t, c, "other", true); !errors.As(err, &rl) {
				t.Fatalf("forced lookup while blocked: %v", err)
			}
			settle(t, c)
			if f.requests.Load() != n {
				t.Fatalf("%d requests sent while rate limited", f.requests.Load()-n)
			}
			// After the reset, requests resume.
			f.set("ok")
			clk.Advance(time.Second)
			if p, err := lookup(t, c, "other", true); err != nil || p.Login != "other" {
				t.Fatalf("after reset: %v %v", p, err)
			}
		})
	}
}

func TestCacheRemainingZeroBlocksAhead(t *testing.T) {
	f, clk := newFakeGitHub(t), newClock()
	f.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(clk.Now().Add(5*time.Minute).Unix(), 10))
		f.serve(w, r)
	})
	c := newCache(f, clk, time.Second)
	defer c.Close()
	if _, err := lookup(t, c, "last", false); err != nil {
		t.Fatal(err)
	}
	if got := c.BlockedUntil().Sub(clk.Now()); got != 5*time.Minute {
		t.Fatalf("the last allowed request must block until reset, got %v", got)
	}
}

func TestCacheTimeout(t *testing.T) {
	f, clk := newFakeGitHub(t), newClock()
	c := newCache(f, clk, 150*time.Millisecond)
	defer c.Close()
	if _, err := lookup(t, c, "slowpoke", false); err != nil {
		t.Fatal(err)
	}
	f.set("slow")
	clk.Advance(11 * time.Minute)
	start := time.Now()
	p := c.Get("slowpoke")
	if p == nil || time.Since(start) > 50*time.Millisecond {
		t.Fatalf("Get waited on GitHub or lost the stale profile (%v)", time.Since(start))
	}
	// A first lookup of an unknown login waits only as long as its context.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start = time.Now()
	if _, err := c.Lookup(ctx, "unknown", false); !errors.Is(err, ErrPending) || time.Since(start) > 100*time.Millisecond {
		t.Fatalf("bounded first wait: %v after %v", err, time.Since(start))
	}
	// The client's timeout ends the fetch: the failure is recorded, stale still served.
	settle(t, c)
	if _, err := lookup(t, c, "unknown", false); err == nil || errors.Is(err, ErrPending) {
		t.Fatalf("timeout not recorded: %v", err)
	}
	if got := c.Get("slowpoke"); got != p {
		t.Fatal("stale lost after timeout")
	}
}

func TestCacheDeletedAccount(t *testing.T) {
	f, clk := newFakeGitHub(t), newClock()
	c := newCache(f, clk, time.Second)
	defer c.Close()
	if _, err := lookup(t, c, "ghost", false); err != nil {
		t.Fatal(err)
	}
	f.set("404")
	clk.Advance(11 * time.Minute)
	c.Get("ghost")
	settle(t, c)
	if p, err := lookup(t, c, "ghost", false); p != nil || !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted account: %v %v", p, err)
	}
	// Known gone: not asked again while fresh.
	n := f.requests.Load()
	c.Get("ghost")
	if f.requests.Load() != n {
		t.Fatal("a fresh 404 was asked again")
	}
	// The login reappears later: served again after the next check.
	f.set("ok")
	clk.Advance(11 * time.Minute)
	c.Get("ghost")
	settle(t, c)
	if c.Get("ghost") == nil {
		t.Fatal("reappeared account not served")
	}
}

func TestCacheCloseStopsFetches(t *testing.T) {
	f, clk := newFakeGitHub(t), newClock()
	f.set("slow")
	c := newCache(f, clk, time.Minute)
	c.Get("a")
	c.Get("b")
	done := make(chan struct{})
	go func() { c.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not stop running fetches")
	}
	if c.Get("c") != nil {
		t.Fatal("closed cache fetched")
	}
}

func TestValidLogin(t *testing.T) {
	for _, tt := range []struct {
		login string
		ok    bool
	}{
		{"vaqqq", true}, {"a", true}, {"Octo-Cat9", true}, {"a-b-c", true}, {"\x00", false},
		{"abcdefghijabcdefghijabcdefghijabcdefghi", true}, {"abcdefghijabcdefghijabcdefghijabcdefghij", false},
		{"", false}, {"-a", false}, {"a-", false}, {"a--b", false}, {"a_b", false}, {"a.b", false},
		{"a b", false}, {"ä", false}, {"../x", false},
	} {
		if got := ValidLogin(tt.login); got != tt.ok {
			t.Errorf("ValidLogin(%q) = %v", tt.login, got)
		}
	}
}
