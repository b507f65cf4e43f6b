package lanyard

import (
	"container/list"
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// avatarProxyOptions bounds the avatar proxy; zero fields take the defaults.
type avatarProxyOptions struct {
	Client     *http.Client     // default: its own transport, no redirects followed
	Timeout    time.Duration    // one CDN fetch, headers and body; default 10 s
	TTL        time.Duration    // how long a fetched avatar is served from memory; default 60 s
	MaxEntries int              // cached avatars; default 1024
	MaxBytes   int64            // cached body bytes in all; default 64 MiB
	MaxBody    int64            // largest body relayed; default 10 MiB
	Now        func() time.Time // default time.Now
}

// avatar is one CDN response as relayed: status, headers, body.
type avatar struct {
	status  int
	header  http.Header
	body    []byte
	url     string
	expires time.Time
}

// errAvatarTooLarge is a CDN body over MaxBody.
var errAvatarTooLarge = errors.New("avatar body too large")

// avatarProxy fetches avatars from the CDN and keeps each response for a
// short while, so a popular avatar is fetched once per TTL and not once per
// request; concurrent misses for one URL share a single fetch. The cache is
// an LRU bounded in entries and bytes, keyed by upstream URL.
type avatarProxy struct {
	opts  avatarProxyOptions
	group singleflight.Group

	mu      sync.Mutex
	entries map[string]*list.Element // url → element holding *avatar
	lru     *list.List               // front: most recently used
	bytes   int64
}

func newAvatarProxy(opts avatarProxyOptions) *avatarProxy {
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 16
		opts.Client = &http.Client{
			Transport:     tr,
			Timeout:       opts.Timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if opts.TTL <= 0 {
		opts.TTL = 60 * time.Second
	}
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = 1024
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 64 << 20
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = 10 << 20
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &avatarProxy{opts: opts, entries: map[string]*list.Element{}, lru: list.New()}
}

// fetch returns the CDN's response for url, from memory when fresh. A
// network failure, a timeout or an oversized body is an error. The fetch
// itself is not tied to ctx (other requests may be waiting on it); ctx only
// stops this caller's wait.
func (p *avatarProxy) fetch(ctx context.Context, url string) (*avatar, error) {
	if a := p.lookup(url); a != nil {
		return a, nil
	}
	ch := p.group.DoChan(url, func() (any, error) {
		if a := p.lookup(url); a != nil { // a flight that just ended stored it
			return a, nil
		}
		a, err := p.download(url)
		if err != nil {
			return nil, err
		}
		p.store(a)
		return a, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*avatar), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// download GETs url from the CDN within the timeout.
func (p *avatarProxy) download(url string) (*avatar, error) {
	ctx, cancel := context.WithTimeout(context.Background(), p.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "Halyard (https://github.com/halyardhq/halyard)")
	resp, err := p.opts.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, p.opts.MaxBody+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > p.opts.MaxBody {
		return nil, errAvatarTooLarge
	}
	return &avatar{status: resp.StatusCode, header: relayedHeader(resp.Header), body: body, url: url}, nil
}

// lookup returns the fresh cached response for url, or nil.
func (p *avatarProxy) lookup(url string) *avatar {
	p.mu.Lock()
	defer p.mu.Unlock()
	el, ok := p.entries[url]
	if !ok {
		return nil
	}
	a := el.Value.(*avatar)
	if !p.opts.Now().Before(a.expires) {
		p.removeLocked(el)
		return nil
	}
	p.lru.MoveToFront(el)
	return a
}

// store caches a response unless the CDN failed (5xx) or the body alone
// exceeds the byte budget, evicting least recently used entries to fit.
func (p *avatarProxy) store(a *avatar) {
	size := int64(len(a.body))
	if a.status >= 500 || size > p.opts.MaxBytes {
		return
	}
	a.expires = p.opts.Now().Add(p.opts.TTL)
	p.mu.Lock()
	defer p.mu.Unlock()
	if el, ok := p.entries[a.url]; ok {
		p.removeLocked(el)
	}
	for p.lru.Len() > 0 && (p.lru.Len() >= p.opts.MaxEntries || p.bytes+size > p.opts.MaxBytes) {
		p.removeLocked(p.lru.Back())
	}
	p.entries[a.url] = p.lru.PushFront(a)
	p.bytes += size
}

func (p *avatarProxy) removeLocked(el *list.Element) {
	a := p.lru.Remove(el).(*avatar)
	delete(p.entries, a.url)
	p.bytes -= int64(len(a.body))
}
