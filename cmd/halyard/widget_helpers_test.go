package main

import (
	"context"
	"fmt"
	"hash/fnv"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// startDemoAt runs the production wiring in demo mode on dataDir and addr
// ("127.0.0.1:0" for any port), so a test can restart it on the same port.
func startDemoAt(t *testing.T, dataDir, addr string, users int, env map[string]string) *Main {
	t.Helper()
	m := NewMain()
	m.Stdout, m.Stderr = io.Discard, io.Discard
	args := []string{"--demo", "--demo-users", fmt.Sprint(users), "--demo-churn", "0",
		"--addr", addr, "--data-dir", dataDir, "--log-level", "warn"}
	full := map[string]string{"ADMIN_TOKEN": "test-admin-token"}
	for k, v := range env {
		full[k] = v
	}
	if err := m.ParseFlags(args, full); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := m.Run(ctx); err != nil {
		m.Close()
		t.Fatal(err)
	}
	return m
}

// artStandIn stands in for the Discord CDN: every image path gets a PNG of
// its own colour (a ring with a transparent middle for avatar
// decorations), so screenshots show where each image goes.
func artStandIn(t *testing.T) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := fnv.New32a()
		h.Write([]byte(r.URL.Path))
		v := h.Sum32()
		c := color.NRGBA{R: uint8(v>>16) | 0x40, G: uint8(v >> 8), B: uint8(v) | 0x40, A: 255}
		const n = 96
		img := image.NewNRGBA(image.Rect(0, 0, n, n))
		ring := strings.Contains(r.URL.Path, "avatar-decoration-presets")
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				d := math.Hypot(float64(x)-n/2+0.5, float64(y)-n/2+0.5)
				switch {
				case ring && (d < 40 || d > 47):
				case ring:
					img.Set(x, y, color.NRGBA{R: 0xe0, G: 0x60, B: 0xf0, A: 255})
				default:
					img.Set(x, y, color.NRGBA{R: c.R/2 + uint8(y), G: c.G / 2, B: c.B/2 + uint8(x), A: 255})
				}
			}
		}
		w.Header().Set("Content-Type", "image/png")
		_ = png.Encode(w, img)
	}))
	t.Cleanup(s.Close)
	return s
}

// widgetPage serves a test page from its own origin (not Halyard's) that
// loads the widget from base and holds the given elements.
func widgetPage(t *testing.T, base, elements string) *httptest.Server {
	page := `<!doctype html><html><head><meta charset="utf-8"><title>widget test</title>
<style>body{margin:0;padding:24px;background:#8a8f98;display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start;font-family:sans-serif}</style>
<script>
// The repaint probe: a MutationObserver on each widget's shadow root stamps
// the first frame painted after window.__want appears in it.
window.__painted = 0; window.__want = "";
function watch(el) {
  if (!el.shadowRoot || el.__watched) return;
  el.__watched = true;
  new MutationObserver(() => {
    if (window.__want && !window.__painted && el.shadowRoot.textContent.includes(window.__want)) {
      const seen = window.__want;
      requestAnimationFrame(() => { if (window.__want === seen && !window.__painted) window.__painted = performance.timeOrigin + performance.now(); });
    }
  }).observe(el.shadowRoot, {subtree: true, childList: true, characterData: true});
}
customElements.whenDefined("halyard-presence").then(() => document.querySelectorAll("halyard-presence").forEach(watch));
</script>
<script src="` + base + `/widget.js" async></script></head><body>` + elements + `</body></html>`
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(page))
	}))
	t.Cleanup(s.Close)
	return s
}

// widgetView is what one element shows, read from its shadow DOM.
type widgetView struct {
	Name      string  `json:"name"`
	Status    string  `json:"status"`
	Custom    string  `json:"custom"`
	Activity  string  `json:"activity"`
	Listening string  `json:"listening"`
	Progress  float64 `json:"progress"` // width of the first progress bar, percent; -1 without one
	Text      string  `json:"text"`
	LiveRegs  int     `json:"live"`    // aria-live="polite" regions
	NoAlt     int     `json:"noalt"`   // images without an alt attribute
	Fallbacks int     `json:"fallbck"` // art fallbacks shown
}

func readWidget(t *testing.T, ctx context.Context, id string) widgetView {
	t.Helper()
	js := fmt.Sprintf(`(() => {
		const el = document.getElementById(%q);
		const r = el && el.shadowRoot;
		if (!r) return {progress: -1};
		const txt = s => { const e = r.querySelector(s); return e ? e.textContent : ""; };
		const bar = r.querySelector(".bar > i");
		return {name: txt(".name"), status: txt(".status"), custom: txt(".custom"), activity: txt(".activity"),
			listening: [...r.querySelectorAll(".listening")].map(e => e.textContent).join(" | "),
			progress: bar ? parseFloat(bar.style.width) : -1, text: r.textContent,
			live: r.querySelectorAll('[aria-live="polite"]').length,
			noalt: [...r.querySelectorAll("img")].filter(i => !i.hasAttribute("alt")).length,
			fallbck: r.querySelectorAll(".art.fb").length};
	})()`, id)
	v, err := chromedp.Run(ctx, chromedp.Evaluate[widgetView](js))
	if err != nil {
		t.Fatalf("reading widget %s: %v", id, err)
	}
	return v
}

// waitWidget polls an element until cond holds, up to a deadline.
func waitWidget(t *testing.T, ctx context.Context, id, what string, cond func(widgetView) bool) widgetView {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		v := readWidget(t, ctx, id)
		if cond(v) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("widget %s never showed %s; it shows: %+v", id, what, v)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// pushPresence sends a PRESENCE_UPDATE through the demo admin API.
func pushPresence(t *testing.T, base, userID, status, activities string) {
	t.Helper()
	body := fmt.Sprintf(`{"user":{"id":%q},"status":%q,"client_status":{"desktop":%q,"mobile":%q},"activities":%s}`,
		userID, status, status, status, activities)
	req, _ := http.NewRequest("POST", base+"/admin/v1/demo/presence", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer test-admin-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("demo presence for %s: %d", userID, resp.StatusCode)
	}
}

// artifactDir is where screenshots go: $HALYARD_ARTIFACTS, else a temp dir.
func artifactDir(t *testing.T) string {
	dir := os.Getenv("HALYARD_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// waitFor polls cond up to a minute (a restart and the widget's backoff).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
