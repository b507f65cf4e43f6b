package lantern

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"golang.org/x/sync/singleflight"
)

// CardImageOptions bound the card's remote image fetches; zero fields take
// the defaults.
type CardImageOptions struct {
	// Client makes the requests; default: its own transport, no redirects.
	Client *http.Client
	// Timeout bounds one fetch, headers and body; default 3 s.
	Timeout time.Duration
	// MaxBytes is the largest image inlined; default 2 MiB.
	MaxBytes int64
	// CacheBytes bounds the cached data URIs in all; default 32 MiB.
	CacheBytes int64
	// TTL is how long a fetched image is reused; default 10 min.
	TTL time.Duration
	// FailureTTL is how long a failed fetch is remembered, so a dead or slow
	// host costs one timeout per URL and not one per card; default 1 min.
	FailureTTL time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Errors of a fetch that yields no image; the card shows a fallback.
var (
	errImageTooLarge = errors.New("image larger than the limit")
	errImageNotImage = errors.New("body is not a known image type")
)

// imageFetcher fetches remote images for the card and keeps them as data
// URIs, with their MIME type sniffed from the bytes, in a byte-bounded LRU.
// Concurrent misses for one URL share one request.
type imageFetcher struct {
	opts  CardImageOptions
	group singleflight.Group
	cache *imageCache
}

func newImageFetcher(opts CardImageOptions) *imageFetcher {
	if opts.Timeout <= 0 {
		opts.Timeout = 3 * time.Second
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 2 << 20
	}
	if opts.CacheBytes <= 0 {
		opts.CacheBytes = 32 << 20
	}
	if opts.TTL <= 0 {
		opts.TTL = 10 * time.Minute
	}
	if opts.FailureTTL <= 0 {
		opts.FailureTTL = time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 8
		opts.Client = &http.Client{
			Transport:     tr,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return &imageFetcher{opts: opts, cache: newImageCache(opts.CacheBytes, opts.Now)}
}

// dataURI returns url's image as a data: URI, from the cache when it can.
// The download is not tied to ctx, since other cards may be waiting on it;
// ctx only ends this caller's wait.
func (f *imageFetcher) dataURI(ctx context.Context, url string) (string, error) {
	if uri, ok, err := f.cache.get(url); ok {
		return uri, err
	}
	ch := f.group.DoChan(url, func() (any, error) {
		if uri, ok, err := f.cache.get(url); ok { // a flight that just ended stored it
			return uri, err
		}
		uri, err := f.download(url)
		ttl := f.opts.TTL
		if err != nil {
			ttl = f.opts.FailureTTL
		}
		f.cache.put(url, uri, err, ttl)
		return uri, err
	})
	select {
	case r := <-ch:
		uri, _ := r.Val.(string)
		return uri, r.Err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// download GETs url within the timeout and encodes the body.
func (f *imageFetcher) download(url string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), f.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("User-Agent", "Halyard (https://github.com/halyardhq/halyard)")
	req.Header.Set("Accept", "image/webp,image/png,image/jpeg,image/gif,image/*;q=0.8")
	resp, err := f.opts.Client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("image fetch: status %d", resp.StatusCode)
	}
	if resp.ContentLength > f.opts.MaxBytes {
		return "", errImageTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.opts.MaxBytes+1))
	if err != nil {
		return "", err
	}
	if int64(len(body)) > f.opts.MaxBytes {
		return "", errImageTooLarge
	}
	return imageDataURI(body)
}

// imageDataURI encodes body as a data URI labelled with the type sniffed
// from its bytes (PNG, JPEG, GIF, WebP, BMP, ICO). Anything else (HTML
// error pages, SVG, empty bodies) is refused: a remote SVG is never inlined.
func imageDataURI(body []byte) (string, error) {
	mime := http.DetectContentType(body)
	if !strings.HasPrefix(mime, "image/") || strings.HasPrefix(mime, "image/svg") {
		return "", errImageNotImage
	}
	var b strings.Builder
	b.Grow(len("data:;base64,") + len(mime) + base64.StdEncoding.EncodedLen(len(body)))
	b.WriteString("data:")
	b.WriteString(mime)
	b.WriteString(";base64,")
	b.WriteString(base64.StdEncoding.EncodeToString(body))
	return b.String(), nil
}
