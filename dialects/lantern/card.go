package lantern

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/core"
)

// Headers of the card response (docs/compat/lantern.md §4.2).
const (
	cardContentType  = "image/svg+xml; charset=utf-8"
	cardCacheControl = "no-store, no-cache, must-revalidate, proxy-revalidate"
	cardCSP          = "default-src 'none'; img-src * data:; style-src 'unsafe-inline'"
)

// serveCard answers GET /api/v1/users/:user_id?svg=1 with the SVG profile
// card (docs/compat/lantern.md §4). The caller has checked user_id and found the user; the card
// parameters are validated again here (400 {"errors":…} on the first
// failure, §2.4), and from then on the answer is always a 200 card: a
// failed image is replaced by a fallback and an internal failure by a
// plainer card, never a 500 (§4.6, §9 #7).
func (d *Dialect) serveCard(c echo.Context, u *core.User) error {
	q := parseQuery(c.Request().URL.RawQuery)
	if msg := validateCardQuery(q); msg != "" {
		return invalid(msg).write(c)
	}
	body := d.cardRenderer().render(c.Request().Context(), u, parseCardOptions(q))
	h := c.Response().Header()
	h.Set("Cache-Control", cardCacheControl)
	h.Set("Content-Security-Policy", cardCSP)
	return c.Blob(http.StatusOK, cardContentType, body)
}

// cardRenderer returns the dialect's card renderer.
func (d *Dialect) cardRenderer() *cardRenderer { return d.card }

// cardRenderer draws cards: it resolves image URLs against its hosts,
// fetches the images through a shared cache, and writes the SVG.
type cardRenderer struct {
	hosts  imageHosts
	images *imageFetcher
	now    func() time.Time
	log    *slog.Logger
}

// newCardRenderer builds a renderer; opts.Now is also the cards' clock.
func newCardRenderer(hosts imageHosts, opts CardImageOptions, log *slog.Logger) *cardRenderer {
	r := &cardRenderer{hosts: hosts.withDefaults(), images: newImageFetcher(opts), now: opts.Now, log: log}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	return r
}

// render draws u's card. It never fails: should drawing panic, the card is
// drawn again with only the username and fallbacks, and as a last resort a
// fixed card is returned.
func (r *cardRenderer) render(ctx context.Context, u *core.User, opts cardOptions) (out []byte) {
	defer func() {
		if p := recover(); p != nil {
			var id string
			if u != nil {
				id = u.ID
			}
			r.log.Error("lantern: SVG card failed; serving a plain card", "user", id, "panic", p)
			out = plainCard(u, opts, r.now())
		}
	}()
	cu := newCardUser(u, r.hosts)
	return writeCardSVG(cu, opts, r.fetchImages(ctx, cu, opts), r.now())
}

// plainCard is the card without images, activity or tag, for when the full
// card could not be drawn.
func plainCard(u *core.User, opts cardOptions, now time.Time) (out []byte) {
	defer func() {
		if recover() != nil {
			out = []byte(minimalCardSVG)
		}
	}()
	cu := &cardUser{ID: u.ID, Username: u.Discord.Username(), PlatformStatus: core.StatusOffline, Status: core.StatusOffline}
	return writeCardSVG(cu, opts, cardImages{}, now)
}

// minimalCardSVG is the last-resort card: an empty dark card.
const minimalCardSVG = "\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1000\" height=\"300\">" +
	"<rect x=\"0\" y=\"48\" width=\"624\" height=\"249\" rx=\"32\" fill=\"#17171c\"/></svg>\n"

// fetchImages fetches, in parallel, the images the card will show: the
// avatar (an animated one over the size limit as its still WebP), the
// activity's large and small images, the tag icon. Hidden parts are not
// fetched (Lantern fetches them all); failures leave "".
func (r *cardRenderer) fetchImages(ctx context.Context, cu *cardUser, opts cardOptions) cardImages {
	var img cardImages
	type job struct {
		url   string
		still string // tried instead when url is over the size limit
		dst   *string
	}
	jobs := []job{{cu.AvatarURL, cu.AvatarStill, &img.Avatar}}
	if a := cu.Activity; a != nil && !opts.HideActivity {
		jobs = append(jobs, job{a.LargeURL, "", &img.Large}, job{a.SmallURL, "", &img.Small})
	}
	if t := cu.Tag; t != nil && !opts.HideServerTag {
		jobs = append(jobs, job{t.IconURL, "", &img.TagIcon})
	}
	var wg sync.WaitGroup
	for _, j := range jobs {
		if j.url == "" || !r.hosts.allows(j.url) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			uri, err := r.images.dataURI(ctx, j.url)
			if errors.Is(err, errImageTooLarge) && j.still != "" {
				uri, err = r.images.dataURI(ctx, j.still) // a long GIF: show its first frame
			}
			if err != nil {
				r.log.Debug("lantern: card image unavailable, using a fallback", "url", j.url, "err", err)
				return
			}
			*j.dst = uri
		}()
	}
	wg.Wait()
	return img
}
