package lantern

import (
	"context"
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
// chromium package) and checks each screenshot is a real picture: the
// expected size, many colours, the theme's card background where the card
// is empty. It is skipped without chromium, except in CI (CI=true), where
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
	defer dead.Close()
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
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := parseCardOptions(parseQuery(tc.query))
			cards := r
			if tc.broken {
				cards = broken
			}
			svg := cards.render(context.Background(), tc.user, opts)
			svgPath := filepath.Join(dir, tc.name+".svg")
			if err := os.WriteFile(svgPath, svg, 0o644); err != nil {
				t.Fatal(err)
			}
			pngPath := filepath.Join(dir, tc.name+".png")
			screenshot(t, browser, svgPath, pngPath)
			img := decodeScreenshot(t, pngPath)
			if b := img.Bounds(); b.Dx() != 1000 || b.Dy() != 300 {
				t.Fatalf("screenshot is %v, want 1000 × 300", b)
			}
			if n := colourCount(img); n < 200 {
				t.Errorf("screenshot has %d colours; looks blank", n)
			}
			// The right half of the activity row is always empty card.
			want := cardThemes[opts.Theme].Background
			if got := img.At(560, 175); !near(got, want) {
				t.Errorf("card background at (560,175) = %v, want %s", got, want)
			}
			if keep != "" {
				data, _ := os.ReadFile(pngPath)
				if err := os.WriteFile(filepath.Join(keep, tc.name+".png"), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// screenshot runs headless Chromium on one SVG file, offline and with a
// throwaway profile.
func screenshot(t *testing.T, browser, svgPath, pngPath string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
		"--force-device-scale-factor=1", "--user-data-dir="+t.TempDir(),
		"--screenshot="+pngPath, "--window-size=1000,300", "file://"+svgPath)
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
