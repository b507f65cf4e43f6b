package lantern

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
)

// cardNow is the fixed clock of the card tests.
var cardNow = time.Date(2026, 11, 22, 5, 10, 30, 0, time.UTC)

// imageServer stands in for the CDN, Spotify and the media proxy (the one
// mock the card tests use): it serves generated images and counts requests
// per path.
type imageServer struct {
	*httptest.Server
	mu     sync.Mutex
	counts map[string]int
}

func newImageServer(t *testing.T, extra http.HandlerFunc) *imageServer {
	t.Helper()
	s := &imageServer{counts: map[string]int{}}
	pics := standInImages()
	avatar, album, game, small := pics.avatar, pics.album, pics.game, pics.small
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.counts[r.URL.Path]++
		s.mu.Unlock()
		p := r.URL.Path
		switch {
		case strings.HasPrefix(p, "/avatars/"), strings.HasPrefix(p, "/embed/avatars/"):
			w.Write(avatar) // a PNG behind a .webp name: the card must say image/png
		case strings.HasPrefix(p, "/image/"):
			w.Write(album)
		case strings.HasPrefix(p, "/app-assets/"):
			w.Write(game)
		case strings.HasPrefix(p, "/external/"), strings.HasPrefix(p, "/guild-tag-badges/"):
			w.Write(small)
		case extra != nil:
			extra(w, r)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *imageServer) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[path]
}

// hosts points every image base at the server.
func (s *imageServer) hosts() imageHosts {
	return imageHosts{CDN: s.URL, Media: s.URL, Spotify: s.URL, YouTube: s.URL, Twitch: s.URL}
}

// renderer is a card renderer against the server with the fixed clock.
func (s *imageServer) renderer(opts CardImageOptions) *cardRenderer {
	if opts.Now == nil {
		opts.Now = func() time.Time { return cardNow }
	}
	return newCardRenderer(s.hosts(), opts, slog.New(slog.DiscardHandler))
}

// standInImages are the stand-in's pictures, drawn once: avatar (PNG),
// album art (JPEG), game icon (PNG), small image (PNG).
var standInImages = sync.OnceValue(func() (p struct{ avatar, album, game, small []byte }) {
	p.avatar = encodePNG(drawAvatar(256))
	p.album = encodeJPEG(drawStripes(300, color.RGBA{0xe9, 0x4f, 0x37, 255}, color.RGBA{0x39, 0x3e, 0x8f, 255}))
	p.game = encodePNG(drawStripes(128, color.RGBA{0x00, 0x7a, 0xcc, 255}, color.RGBA{0x1e, 0x1e, 0x1e, 255}))
	p.small = encodePNG(drawDisc(64, color.RGBA{0x23, 0xa5, 0x5a, 255}))
	return p
})

func encodePNG(img image.Image) []byte {
	var b bytes.Buffer
	_ = png.Encode(&b, img) // cannot fail on an in-memory RGBA
	return b.Bytes()
}

func encodeJPEG(img image.Image) []byte {
	var b bytes.Buffer
	_ = jpeg.Encode(&b, img, &jpeg.Options{Quality: 80})
	return b.Bytes()
}

// drawAvatar is a colourful radial picture, so a screenshot shows whether
// the avatar was inlined.
func drawAvatar(n int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, n, n))
	c := float64(n) / 2
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			dx, dy := float64(x)-c, float64(y)-c
			a := math.Atan2(dy, dx)
			d := math.Hypot(dx, dy) / c
			img.Set(x, y, color.RGBA{
				uint8(128 + 127*math.Cos(a)), uint8(90 + 90*d), uint8(128 + 127*math.Sin(a)), 255,
			})
		}
	}
	return img
}

func drawStripes(n int, a, b color.RGBA) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, n, n))
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			if ((x+y)/(n/6))%2 == 0 {
				img.Set(x, y, a)
			} else {
				img.Set(x, y, b)
			}
		}
	}
	return img
}

func drawDisc(n int, c color.RGBA) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, n, n))
	r := float64(n) / 2
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			if math.Hypot(float64(x)-r+0.5, float64(y)-r+0.5) < r {
				img.Set(x, y, c)
			} else {
				img.Set(x, y, color.White)
			}
		}
	}
	return img
}

// Users the card tests draw.

func cardUserOnlineSpotify() *core.User {
	return &core.User{
		ID: "111111111111111111",
		Discord: core.ProfileOf(core.DiscordUser{
			Raw: []byte(`{"id":"111111111111111111","username":"alice","global_name":"Alice <&>","public_flags":4325952,` +
				`"primary_guild":{"identity_enabled":true,"identity_guild_id":"987654321098765432","tag":"GGEZ","badge":"deadbeef"}}`),
			ID: "111111111111111111", Username: "alice", Discriminator: "0", GlobalName: "Alice <&>",
			Avatar: "0123456789abcdef0123456789abcdef",
		}),
		Presence: &core.Presence{
			Status:       core.StatusOnline,
			ClientStatus: &core.ClientStatus{Desktop: core.StatusOnline},
			Activities: []core.Activity{
				{Name: "Custom Status", Type: 4, State: "hello world", Emoji: &core.Emoji{Name: "🔥"}},
				{
					ID: "spotify:1", Name: "Spotify", Type: 2, Details: "Never Gonna Give You Up", State: "Rick Astley; Someone Else",
					LargeImage: "spotify:ab67616d0000b273aaaa", LargeText: "Whenever You Need Somebody",
					Start: cardNow.Add(-65 * time.Second).UnixMilli(), End: cardNow.Add(3 * time.Minute).UnixMilli(),
				},
			},
		},
		KV: core.KV{},
	}
}

func cardUserOffline() *core.User {
	u := &core.User{
		ID: "444444444444444444",
		Discord: core.ProfileOf(core.DiscordUser{
			Raw: []byte(`{"id":"444444444444444444","username":"dora","global_name":"Dora","public_flags":0}`),
			ID:  "444444444444444444", Username: "dora", Discriminator: "0", GlobalName: "Dora",
		}),
		KV: core.KV{},
	}
	u.SetLastSeen(cardNow.Add(-3 * time.Hour))
	return u
}

func cardUserDNDGame() *core.User {
	return &core.User{
		ID: "333333333333333333",
		Discord: core.ProfileOf(core.DiscordUser{
			Raw: []byte(`{"id":"333333333333333333","username":"carol","global_name":"Carol the Coder","public_flags":16514}`),
			ID:  "333333333333333333", Username: "carol", Discriminator: "0", GlobalName: "Carol the Coder",
			Avatar: "a_fedcba9876543210fedcba9876543210",
		}),
		Presence: &core.Presence{
			Status:       core.StatusDND,
			ClientStatus: &core.ClientStatus{Desktop: core.StatusDND, Mobile: core.StatusOnline},
			Activities: []core.Activity{
				{
					Name: "Visual Studio Code", Type: 0, ApplicationID: "383226320970055681",
					Details: "Editing card_renderer_with_a_rather_long_name.go", State: "Workspace: halyard (a very long workspace name)",
					LargeImage: "565944799235276820", SmallImage: "mp:external/abc/https/example.com/x.png",
					Start: cardNow.Add(-(65*time.Minute + 7*time.Second)).UnixMilli(),
				},
			},
		},
		KV: core.KV{},
	}
}

// cardUserHostile is idle on mobile, has no global name, flags without
// badges (Staff, VerifiedBot), an activity without timestamps or assets, and
// text built to break XML.
func cardUserHostile() *core.User {
	return &core.User{
		ID: "222222222222222222",
		Discord: core.ProfileOf(core.DiscordUser{
			Raw: []byte(`{"id":"222222222222222222","username":"b<o>b\"'` + "`" + `&amp;","public_flags":65537,"bot":true}`),
			ID:  "222222222222222222", Username: "b<o>b\"'`&amp;\x00\x1b\uFFFE]]>", Discriminator: "1234",
			Bot: true,
		}),
		Presence: &core.Presence{
			Status:       core.StatusIdle,
			ClientStatus: &core.ClientStatus{Mobile: core.StatusIdle},
			Activities: []core.Activity{
				{Name: "</div></foreignObject><script>alert(1)</script>", Type: 3, Details: "<![CDATA[x]]> & \xff\xfe",
					State: "<img src=x onerror=alert(1)>"},
			},
		},
		KV: core.KV{},
	}
}
