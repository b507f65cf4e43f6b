package lanyard

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

// fakeCDN stands in for cdn.discordapp.com (the real one is unreachable
// from tests): it answers every avatar with its own URL as the body and
// counts the requests per URL.
type fakeCDN struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string]int
}

func newFakeCDN(t *testing.T) *fakeCDN {
	cdn := &fakeCDN{hits: map[string]int{}}
	cdn.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cdn.mu.Lock()
		cdn.hits[r.URL.RequestURI()]++
		cdn.mu.Unlock()
		if r.URL.Path == "/avatars/20/slow.png" {
			time.Sleep(100 * time.Millisecond)
		}
		h := w.Header()
		h.Set("Cache-Control", "public, max-age=31536000")
		h.Set("X-Cdn-Test", "yes")
		h.Set("Access-Control-Allow-Origin", "https://discord.com")
		if r.URL.Path == "/avatars/10/missing.png" {
			h.Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte("404: Not Found"))
			return
		}
		h.Set("Content-Type", "image/png")
		w.Write([]byte("avatar " + r.URL.RequestURI()))
	}))
	t.Cleanup(cdn.Close)
	return cdn
}

func (c *fakeCDN) count(uri string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits[uri]
}

// snowflake is a real-looking user id; (snowflake>>22)%6 is its default avatar.
const snowflake = "80351110224678912"

func TestQuicklinks(t *testing.T) {
	cdn := newFakeCDN(t)
	s := startLanyard(t, Options{CDNURL: cdn.URL + "/"}, nil)
	s.addMember("1", "abc", "0")
	s.addMember("2", "a_def", "0")
	s.addMember(snowflake, "", "0")
	s.addMember("4", "", "0005")
	s.addMember("5", "", "0007")
	s.addMember("6", "", "") // no avatar, no discriminator (docs/compat/lanyard.md §9)
	s.addMember("10", "missing", "0")
	sf, _ := strconv.ParseUint(snowflake, 10, 64)
	def := strconv.FormatUint((sf>>22)%6, 10)
	six := strconv.FormatUint((6>>22)%6, 10)

	tests := []struct {
		name, method, path string
		status             int
		upstream           string // the CDN request, or "" for a JSON error
		want               string // the JSON error
	}{
		{"png", "GET", "/1.png", 200, "/avatars/1/abc.png?size=1024", ""},
		{"webp", "GET", "/1.webp", 200, "/avatars/1/abc.webp?size=1024", ""},
		{"jpg", "GET", "/1.jpg", 200, "/avatars/1/abc.jpg?size=1024", ""},
		{"jpeg", "GET", "/1.jpeg", 200, "/avatars/1/abc.jpeg?size=1024", ""},
		{"gif of a still avatar is jpg", "GET", "/1.gif", 200, "/avatars/1/abc.jpg?size=1024", ""},
		{"gif of an animated avatar", "GET", "/2.gif", 200, "/avatars/2/a_def.gif?size=1024", ""},
		{"png of an animated avatar", "GET", "/2.png", 200, "/avatars/2/a_def.png?size=1024", ""},
		{"default avatar, new username", "GET", "/" + snowflake + ".gif", 200, "/embed/avatars/" + def + ".png", ""},
		{"default avatar, discriminator 0005", "GET", "/4.webp", 200, "/embed/avatars/0.png", ""},
		{"default avatar, discriminator 0007", "GET", "/5.png", 200, "/embed/avatars/2.png", ""},
		{"default avatar, no discriminator", "GET", "/6.png", 200, "/embed/avatars/" + six + ".png", ""},
		{"first segment decides", "GET", "/1.webp/x.png", 200, "/avatars/1/abc.webp?size=1024", ""},
		{"query ignored", "GET", "/1.png?size=16", 200, "/avatars/1/abc.png?size=1024", ""},
		{"CDN 404 relayed", "GET", "/10.png", 404, "/avatars/10/missing.png?size=1024", ""},
		{"unmonitored", "GET", "/999.png", 404, "", notMonitored},
		{"extra dot", "GET", "/1.2.png", 404, "", notFound},
		{"upper-case ext", "GET", "/1.PNG", 404, "", notFound},
		{"trailing slash", "GET", "/1.png/", 404, "", notFound},
		{"other ext", "GET", "/1.txt", 404, "", notFound},
		{"no ext", "GET", "/1", 404, "", notFound},
		{"deep path", "GET", "/a/b.png", 404, "", notFound},
		{"metrics path", "GET", "/metrics/1.png", 404, "", ""},
		{"HEAD", "HEAD", "/1.png", 404, "", ""},
		{"POST", "POST", "/1.png", 404, "", notFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := 0
			if tt.upstream != "" {
				before = cdn.count(tt.upstream)
			}
			resp, body := do(t, tt.method, s.base+tt.path, nil, nil)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.upstream == "" {
				if tt.want != "" && !sameJSON(body, []byte(tt.want)) {
					t.Fatalf("body %s, want %s", body, tt.want)
				}
				return
			}
			if before == 0 && cdn.count(tt.upstream) != 1 {
				t.Fatalf("CDN was not asked for %s: %v", tt.upstream, cdn.hits)
			}
			h := resp.Header
			if tt.status == 404 {
				if string(body) != "404: Not Found" || h.Get("Content-Type") != "text/plain" {
					t.Fatalf("relayed 404: %q %v", body, h)
				}
			} else if string(body) != "avatar "+tt.upstream || h.Get("Content-Type") != "image/png" {
				t.Fatalf("relayed %q (%q)", body, h.Get("Content-Type"))
			}
			if h.Get("X-Cdn-Test") != "yes" || h.Get("Cache-Control") != "public, max-age=31536000" {
				t.Fatalf("CDN headers not relayed: %v", h)
			}
			if h.Get("Access-Control-Allow-Origin") != "*" || len(h.Values("Cache-Control")) != 1 {
				t.Fatalf("headers: %v", h)
			}
			if cl := h.Get("Content-Length"); cl != "" && cl != strconv.Itoa(len(body)) {
				t.Fatalf("content-length %s for %d bytes", cl, len(body))
			}
		})
	}
}

// TestQuicklinkCache: a popular avatar is fetched once per TTL, and
// concurrent misses share one fetch.
func TestQuicklinkCache(t *testing.T) {
	cdn := newFakeCDN(t)
	s := startLanyard(t, Options{CDNURL: cdn.URL}, nil)
	s.addMember("1", "abc", "0")
	s.addMember("20", "slow", "0")
	for range 5 {
		if resp, body := do(t, "GET", s.base+"/1.png", nil, nil); resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	}
	if n := cdn.count("/avatars/1/abc.png?size=1024"); n != 1 {
		t.Fatalf("5 requests made %d CDN fetches, want 1", n)
	}
	// A gif of a still avatar is the same upstream jpg as .jpg.
	do(t, "GET", s.base+"/1.gif", nil, nil)
	do(t, "GET", s.base+"/1.jpg", nil, nil)
	if n := cdn.count("/avatars/1/abc.jpg?size=1024"); n != 1 {
		t.Fatalf("jpg fetched %d times, want 1", n)
	}

	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			req, _ := http.NewRequest("GET", s.base+"/20.png", nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("status %d", resp.StatusCode)
			}
		})
	}
	wg.Wait()
	if n := cdn.count("/avatars/20/slow.png?size=1024"); n != 1 {
		t.Fatalf("20 concurrent requests made %d CDN fetches, want 1", n)
	}
}

// TestQuicklinkCDNUnreachable: a CDN nobody listens on is a 502
// upstream_error, at once.
func TestQuicklinkCDNUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	s := startLanyard(t, Options{CDNURL: closed}, nil)
	s.addMember("1", "abc", "0")
	for range 2 { // a failure is not cached
		resp, body := do(t, "GET", s.base+"/1.png", nil, nil)
		want := `{"error":{"code":"upstream_error","message":"Failed to fetch avatar from Discord CDN"},"success":false}`
		if resp.StatusCode != 502 || !sameJSON(body, []byte(want)) {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	}
}

// TestAvatarProxyLimits: a CDN that hangs fails within the timeout, an
// oversized body is refused, and the cache stays within its bounds.
func TestAvatarProxyLimits(t *testing.T) {
	release := make(chan struct{})
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/hang":
			<-release
		case "/big":
			w.Write(make([]byte, 2048))
		default:
			w.Write(make([]byte, 100))
		}
	}))
	defer cdn.Close()
	defer close(release)
	now := time.Unix(0, 0)
	p := newAvatarProxy(avatarProxyOptions{Timeout: 200 * time.Millisecond, MaxBody: 1024, MaxEntries: 3, MaxBytes: 250, Now: func() time.Time { return now }})

	start := time.Now()
	if _, err := p.fetch(context.Background(), cdn.URL+"/hang"); err == nil || time.Since(start) > 2*time.Second {
		t.Fatalf("hanging CDN: err %v after %v", err, time.Since(start))
	}
	if _, err := p.fetch(context.Background(), cdn.URL+"/big"); !errors.Is(err, errAvatarTooLarge) {
		t.Fatalf("oversized body: %v", err)
	}
	for i := range 5 {
		if _, err := p.fetch(context.Background(), cdn.URL+"/"+strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
		if p.lru.Len() > 3 || p.bytes > 250 {
			t.Fatalf("cache holds %d entries, %d bytes", p.lru.Len(), p.bytes)
		}
	}
	if p.lookup(cdn.URL+"/4") == nil || p.lookup(cdn.URL+"/0") != nil {
		t.Fatal("LRU kept the wrong entries")
	}
	now = now.Add(time.Minute)
	if p.lookup(cdn.URL+"/4") != nil {
		t.Fatal("entry served after its TTL")
	}
}
