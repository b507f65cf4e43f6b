package lantern

import (
	"context"
	"image/color"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// slowAndOdd answers the stand-in's extra paths: /slow never answers in
// time, /big is over any small limit, /html is not an image.
func slowAndOdd(release <-chan struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow":
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case "/big":
			w.Write(append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 4096)...))
		case "/big-chunked":
			w.(http.Flusher).Flush() // no Content-Length: the limit must hold while reading
			w.Write(append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 4096)...))
		case "/html":
			w.Write([]byte("<!doctype html><title>nope</title>"))
		case "/svg":
			w.Write([]byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`))
		default:
			http.NotFound(w, r)
		}
	}
}

func TestImageFetchFailuresFallBack(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	srv := newImageServer(t, slowAndOdd(release))
	f := newImageFetcher(CardImageOptions{Timeout: 300 * time.Millisecond, MaxBytes: 1024})
	ctx := context.Background()
	for _, path := range []string{"/missing", "/big", "/big-chunked", "/html", "/svg", "/slow"} {
		start := time.Now()
		uri, err := f.dataURI(ctx, srv.URL+path)
		if err == nil || uri != "" {
			t.Errorf("%s: got %.30q, %v; want an error", path, uri, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: took %v, beyond the timeout", path, d)
		}
	}
	if _, err := f.dataURI(ctx, "http://127.0.0.1:1/refused"); err == nil {
		t.Error("a refused connection gave no error")
	}
}

// TestCardFallbacks: a card whose every image fails still draws: the drawn
// default avatar, the placeholder glyph, no small image or tag icon.
func TestCardFallbacks(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	srv := newImageServer(t, slowAndOdd(release))
	hosts := imageHosts{CDN: srv.URL + "/nothing", Media: srv.URL + "/nothing", Spotify: srv.URL + "/nothing"}
	r := newCardRenderer(hosts, CardImageOptions{Now: func() time.Time { return cardNow }}, nil)
	for _, u := range []*cardUser{newCardUser(cardUserDNDGame(), r.hosts), newCardUser(cardUserOnlineSpotify(), r.hosts)} {
		img := r.fetchImages(context.Background(), u, parseCardOptions(nil))
		if img != (cardImages{}) {
			t.Fatalf("images from a CDN that has none: %+v", img)
		}
		svg := string(writeCardSVG(u, parseCardOptions(nil), img, cardNow))
		wellFormed(t, u.Username, svg)
		if !strings.Contains(svg, svgDataURI(fallbackAvatarSVG(u.DefaultAvatar))) {
			t.Errorf("%s: no fallback avatar", u.Username)
		}
		if !strings.Contains(svg, placeholderGlyph(cardThemes["dark"].TextSecondary)) {
			t.Errorf("%s: no placeholder glyph", u.Username)
		}
		for _, bad := range []string{"base64,null", "base64,undefined", `alt="Small image"`, `alt="Server tag icon"`} {
			if strings.Contains(svg, bad) {
				t.Errorf("%s: card has %q", u.Username, bad)
			}
		}
	}
}

// TestImageCacheHit: a second card, and concurrent cards, fetch nothing
// again within the TTL; after it the image is fetched anew.
func TestImageCacheHit(t *testing.T) {
	srv := newImageServer(t, nil)
	now := cardNow
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	r := srv.renderer(CardImageOptions{Now: clock})
	u := cardUserDNDGame()
	opts := parseCardOptions(nil)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.render(context.Background(), u, opts)
		}()
	}
	wg.Wait()
	r.render(context.Background(), u, opts)
	paths := []string{
		"/avatars/333333333333333333/a_fedcba9876543210fedcba9876543210.gif",
		"/app-assets/383226320970055681/565944799235276820.webp",
		"/external/abc/https/example.com/x.png",
	}
	for _, p := range paths {
		if n := srv.count(p); n != 1 {
			t.Errorf("%s fetched %d times, want 1", p, n)
		}
	}
	mu.Lock()
	now = now.Add(11 * time.Minute)
	mu.Unlock()
	r.render(context.Background(), u, opts)
	for _, p := range paths {
		if n := srv.count(p); n != 2 {
			t.Errorf("%s fetched %d times after the TTL, want 2", p, n)
		}
	}
}

// TestImageFailureRemembered: a failing URL is tried once per FailureTTL,
// not once per card.
func TestImageFailureRemembered(t *testing.T) {
	srv := newImageServer(t, nil)
	now := cardNow
	f := newImageFetcher(CardImageOptions{Now: func() time.Time { return now }})
	for range 3 {
		f.dataURI(context.Background(), srv.URL+"/gone")
	}
	if n := srv.count("/gone"); n != 1 {
		t.Errorf("failing URL fetched %d times, want 1", n)
	}
	now = now.Add(2 * time.Minute)
	f.dataURI(context.Background(), srv.URL+"/gone")
	if n := srv.count("/gone"); n != 2 {
		t.Errorf("failing URL fetched %d times after FailureTTL, want 2", n)
	}
}

// TestImageTimeoutBounded: a host that never answers delays a card by the
// timeout, not more, and a caller whose request ends stops waiting at once.
func TestImageTimeoutBounded(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	srv := newImageServer(t, slowAndOdd(release))
	hosts := srv.hosts()
	hosts.CDN = srv.URL + "/slow?" // every CDN URL lands on /slow
	r := newCardRenderer(hosts, CardImageOptions{Timeout: 200 * time.Millisecond}, nil)
	start := time.Now()
	svg := r.render(context.Background(), cardUserDNDGame(), parseCardOptions(nil))
	if d := time.Since(start); d < 150*time.Millisecond || d > 2*time.Second {
		t.Errorf("card took %v with a 200 ms timeout", d)
	}
	wellFormed(t, "slow CDN", string(svg))

	slow := newImageFetcher(CardImageOptions{Timeout: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start = time.Now()
	if _, err := slow.dataURI(ctx, srv.URL+"/slow"); err == nil {
		t.Error("no error when the caller gave up")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("caller waited %v after its context ended", d)
	}
}

// TestImageMIME: the data URI says what the bytes are, whatever the URL.
func TestImageMIME(t *testing.T) {
	srv := newImageServer(t, nil)
	f := newImageFetcher(CardImageOptions{})
	for path, want := range map[string]string{
		"/avatars/1/x.webp":      "data:image/png;base64,",
		"/image/ab67616d":        "data:image/jpeg;base64,",
		"/embed/avatars/0.png":   "data:image/png;base64,",
		"/guild-tag-badges/1/x.": "data:image/png;base64,",
	} {
		uri, err := f.dataURI(context.Background(), srv.URL+path)
		if err != nil || !strings.HasPrefix(uri, want) {
			t.Errorf("%s: %.40q, %v; want prefix %q", path, uri, err, want)
		}
	}
	gif := []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;")
	webp := []byte("RIFF\x1a\x00\x00\x00WEBPVP8 ")
	for _, tc := range []struct {
		body []byte
		want string
	}{{gif, "data:image/gif;base64,"}, {webp, "data:image/webp;base64,"}} {
		if uri, err := imageDataURI(tc.body); err != nil || !strings.HasPrefix(uri, tc.want) {
			t.Errorf("%q: %q, %v", tc.body[:4], uri, err)
		}
	}
}

// TestImageCacheBounded: the cache evicts least recently used entries to
// stay within its byte bound.
func TestImageCacheBounded(t *testing.T) {
	c := newImageCache(1200, func() time.Time { return cardNow })
	big := strings.Repeat("x", 300)
	for _, k := range []string{"a", "b", "c"} {
		c.put(k, big, nil, time.Minute)
	}
	c.get("a") // a is now the most recent; b the least
	c.put("d", big, nil, time.Minute)
	if _, ok, _ := c.get("b"); ok {
		t.Error("b survived; it was least recently used")
	}
	for _, k := range []string{"a", "c", "d"} {
		if _, ok, _ := c.get(k); !ok {
			t.Errorf("%s evicted", k)
		}
	}
	if n, b := c.stats(); n != 3 || b > 1200 {
		t.Errorf("%d entries, %d bytes", n, b)
	}
	c.put("huge", strings.Repeat("x", 2000), nil, time.Minute)
	if _, ok, _ := c.get("huge"); ok {
		t.Error("an entry over the whole bound was kept")
	}
}

// TestImageHostsAllowed: only the configured hosts are ever fetched.
func TestImageHostsAllowed(t *testing.T) {
	h := defaultImageHosts.withDefaults()
	for raw, want := range map[string]bool{
		"https://cdn.discordapp.com/avatars/1/a.webp":           true,
		"https://media.discordapp.net/external/x/https/e.com/i": true,
		"https://i.scdn.co/image/ab":                            true,
		"https://evil.example/x.png":                            false,
		"https://cdn.discordapp.com@evil.example/x":             false,
		"ftp://cdn.discordapp.com/x":                            false,
		h.Media + "/" + "//evil.example/x":                      true, // a path on the media host, not another host
		h.CDN + "/app-assets/1/" + "x/../../../@evil.example/a": true,
	} {
		if got := h.allows(raw); got != want {
			t.Errorf("allows(%q) = %v, want %v", raw, got, want)
		}
	}
	for asset, want := range map[string]string{
		"spotify:abc":                 "https://i.scdn.co/image/abc",
		"mp:external/abc/https/x.png": "https://media.discordapp.net/external/abc/https/x.png",
		"youtube:v1":                  "https://i.ytimg.com/vi/v1/hqdefault_live.jpg",
		"twitch:someone":              "https://static-cdn.jtvnw.net/previews-ttv/live_user_someone.png",
		"other:x":                     "",
		"565944799235276820":          "https://cdn.discordapp.com/app-assets/383226320970055681/565944799235276820.webp",
	} {
		if got := h.largeImageURL(asset, "383226320970055681"); got != want {
			t.Errorf("large %q = %q, want %q", asset, got, want)
		}
	}
	if got := h.smallImageURL("spotify:abc", ""); got != "" {
		t.Errorf("small spotify: = %q, want none", got)
	}
	if got := h.largeImageURL("565944799235276820", ""); got != "" {
		t.Errorf("app asset without an application: %q", got)
	}
}

// TestAnimatedAvatarTooLarge: a GIF avatar over the limit is replaced by
// its still WebP, not by the drawn fallback.
func TestAnimatedAvatarTooLarge(t *testing.T) {
	still := encodePNG(drawDisc(16, color.RGBA{0x58, 0x65, 0xf2, 255}))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".gif") {
			w.Write(append([]byte("GIF89a"), make([]byte, 8192)...))
			return
		}
		w.Write(still)
	}))
	defer srv.Close()
	r := newCardRenderer(imageHosts{CDN: srv.URL}, CardImageOptions{MaxBytes: 4096}, nil)
	cu := newCardUser(cardUserDNDGame(), r.hosts)
	img := r.fetchImages(context.Background(), cu, parseCardOptions(parseQuery("hideActivity=1")))
	if !strings.HasPrefix(img.Avatar, "data:image/png;base64,") {
		t.Errorf("avatar %.40q, want the still image", img.Avatar)
	}
}
