package lantern

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
)

// TestCardChromiumScreenshots renders cards in headless Chromium (Debian's
// chromium package) and checks each is a real picture: many colours, the
// theme's card background where the card is empty, the page around it. It is skipped without chromium, except in CI (CI=true), where
// .ci/run installs it. Set HALYARD_CARD_SCREENSHOTS to a directory to keep
// the PNGs (docs/card/ holds two of them for reviewers).
func TestCardChromiumScreenshots(t *testing.T) {
	browser, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not on PATH; .ci/run installs it")
		}
		t.Skip("chromium is not on PATH")
	}
	srv := newImageServer(t, nil)
	r := srv.renderer(CardImageOptions{})
	// A CDN that answers nothing useful: every image falls back.
	dead := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(dead.Close)
	broken := newCardRenderer(imageHosts{CDN: dead.URL, Media: dead.URL, Spotify: dead.URL},
		CardImageOptions{Now: func() time.Time { return cardNow }}, nil)
	cases := []struct {
		name   string
		user   *core.User
		query  string
		broken bool
	}{
		{"online-spotify-dark", cardUserOnlineSpotify(), "", false},
		{"online-spotify-light", cardUserOnlineSpotify(), "theme=light", false},
		{"offline-dark", cardUserOffline(), "", false},
		{"offline-light", cardUserOffline(), "theme=light&noActivityTitle=Nothing%20here&borderRadius=0.5", false},
		{"dnd-game-dark", cardUserDNDGame(), "", false},
		{"dnd-game-light", cardUserDNDGame(), "theme=light", false},
		{"idle-hostile-dark", cardUserHostile(), "", false},
		{"fallbacks-dark", cardUserDNDGame(), "", true},
		{"fallbacks-light", cardUserOnlineSpotify(), "theme=light&hideGlobalName=1&hideBadges=1", true},
	}
	keep := os.Getenv("HALYARD_CARD_SCREENSHOTS")
	dir := t.TempDir()

	// One page shows every card as an <img>, the way READMEs embed it;
	// one Chromium run screenshots them all, each card 1000 × 300.
	page := `<!doctype html><html><body style="margin:0;background:#ffffff">`
	themes := make([]string, len(cases))
	for i, tc := range cases {
		opts := parseCardOptions(parseQuery(tc.query))
		themes[i] = opts.Theme
		cards := r
		if tc.broken {
			cards = broken
		}
		svg := cards.render(context.Background(), tc.user, opts)
		if err := os.WriteFile(filepath.Join(dir, tc.name+".svg"), svg, 0o644); err != nil {
			t.Fatal(err)
		}
		page += `<img src="` + tc.name + `.svg" width="1000" height="300" style="display:block">`
	}
	page += `</body></html>`
	pagePath := filepath.Join(dir, "cards.html")
	if err := os.WriteFile(pagePath, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "cards.png")
	screenshot(t, browser, pagePath, shot, 1000, 300*len(cases))
	all := decodeScreenshot(t, shot)
	if b := all.Bounds(); b.Dx() != 1000 || b.Dy() != 300*len(cases) {
		t.Fatalf("screenshot is %v, want 1000 × %d", b, 300*len(cases))
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			img := all.(interface {
				SubImage(image.Rectangle) image.Image
			}).SubImage(image.Rect(0, 300*i, 1000, 300*(i+1)))
			if n := colourCount(img); n < 200 {
				t.Errorf("card has %d colours; looks blank", n)
			}
			// The right half of the activity row is always empty card.
			want := cardThemes[themes[i]].Background
			if got := img.At(560, 300*i+175); !near(got, want) {
				t.Errorf("card background at (560,175) = %v, want %s", got, want)
			}
			if got := img.At(800, 300*i+150); !near(got, "#ffffff") {
				t.Errorf("outside the card at (800,150) = %v, want the page's white", got)
			}
			if keep != "" {
				f, err := os.Create(filepath.Join(keep, tc.name+".png"))
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				if err := png.Encode(f, img); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// screenshot runs headless Chromium on one SVG file, offline and with a
// throwaway profile.
func screenshot(t *testing.T, browser, pagePath, pngPath string, width, height int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
		"--force-device-scale-factor=1", "--user-data-dir="+t.TempDir(),
		"--screenshot="+pngPath, fmt.Sprintf("--window-size=%d,%d", width, height), "file://"+pagePath)
	cmd.WaitDelay = 5 * time.Second
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
}

func decodeScreenshot(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	return img
}

func colourCount(img image.Image) int {
	seen := map[color.RGBA]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), uint8(a >> 8)}] = true
		}
	}
	return len(seen)
}

// near reports whether c is within a few levels of the #rrggbb colour.
func near(c color.Color, hex string) bool {
	var want [3]int
	for i := range want {
		var v int
		for _, ch := range hex[1+2*i : 3+2*i] {
			v *= 16
			switch {
			case ch >= '0' && ch <= '9':
				v += int(ch - '0')
			default:
				v += int(ch-'a') + 10
			}
		}
		want[i] = v
	}
	r, g, b, _ := c.RGBA()
	got := [3]int{int(r >> 8), int(g >> 8), int(b >> 8)}
	for i := range got {
		if d := got[i] - want[i]; d < -3 || d > 3 {
			return false
		}
	}
	return true
}
