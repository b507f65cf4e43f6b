package github

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Cache defaults.
const (
	// DefaultFreshFor is how long a profile is served without asking
	// GitHub again (docs/compat/harmy.md §2.5: fresh for 10 minutes).
	DefaultFreshFor = 10 * time.Minute
	// DefaultRetryFailedAfter is the pause after a failed fetch (5xx,
	// timeout) before the same login is tried again; the stale profile is
	// served meanwhile.
	DefaultRetryFailedAfter = 30 * time.Second
	// DefaultMaxConcurrent bounds the fetches running at once.
	DefaultMaxConcurrent = 4
)

// ErrPending is Lookup's answer when nothing is known about a login yet and
// the wait ended before GitHub answered.
var ErrPending = errors.New("github: profile not fetched yet")

// CacheConfig configures a Cache.
type CacheConfig struct {
	Client           *Client
	FreshFor         time.Duration // DefaultFreshFor when zero
	RetryFailedAfter time.Duration // DefaultRetryFailedAfter when zero
	MaxConcurrent    int           // DefaultMaxConcurrent when zero
	Logger           *slog.Logger
	// Now returns the current time (tests may fix it); time.Now when nil.
	Now func() time.Time
}

// Cache keeps GitHub profiles by login and refreshes them in the
// background: readers get what is cached at once (stale included) and a
// missing or stale entry starts a fetch they need not wait for. Stale
// profiles are revalidated with If-None-Match; while GitHub fails or rate
// limits, the last good profile is served. A login GitHub answers 404 for
// (a deleted or renamed account) reads as no profile until GitHub knows it
// again.
type Cache struct {
	cfg    CacheConfig
	log    *slog.Logger
	sem    chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu           sync.Mutex
	closed       bool
	entries      map[string]*entry // by lower-cased login
	blockedUntil time.Time         // GitHub's rate limit: no request before
}

// entry is what the cache knows about one login. Guarded by Cache.mu.
type entry struct {
	profile   *Profile      // last good profile; nil when none or gone
	etag      string        // of profile
	gone      bool          // GitHub's last answer was 404
	checkedAt time.Time     // last answer from GitHub (200, 304, 404); zero if none
	retryAt   time.Time     // after a failure, no fetch before this
	err       error         // last failure; nil after an answer
	done      chan struct{} // non-nil while a fetch runs; closed when it ends
}

// NewCache returns a cache fetching through cfg.Client. Close stops it.
func NewCache(cfg CacheConfig) *Cache {
	if cfg.Client == nil {
		cfg.Client = NewClient(Config{})
	}
	if cfg.FreshFor <= 0 {
		cfg.FreshFor = DefaultFreshFor
	}
	if cfg.RetryFailedAfter <= 0 {
		cfg.RetryFailedAfter = DefaultRetryFailedAfter
	}
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = DefaultMaxConcurrent
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Cache{cfg: cfg, log: cfg.Logger, sem: make(chan struct{}, cfg.MaxConcurrent),
		ctx: ctx, cancel: cancel, entries: map[string]*entry{}}
}

// Close cancels running fetches and waits for them to end.
func (c *Cache) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
	return nil
}

// Get returns the cached profile of login without waiting; nil when none is
// cached or the account is gone. A missing or stale entry starts a
// background fetch.
func (c *Cache) Get(login string) *Profile {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entryLocked(login)
	c.refreshLocked(login, e, false)
	return e.profile
}

// Lookup returns the profile of login. A fresh or stale entry is answered
// at once (a stale one is refreshed in the background). With nothing known
// yet, or with force (a fetch now, unless GitHub's rate limit forbids it),
// it waits for GitHub until ctx ends. Errors: ErrNotFound when GitHub has
// no such user, *RateLimitError while rate limited with nothing cached,
// the last failure, or ErrPending when the wait ended first.
func (c *Cache) Lookup(ctx context.Context, login string, force bool) (*Profile, error) {
	c.mu.Lock()
	e := c.entryLocked(login)
	c.refreshLocked(login, e, force)
	done := e.done
	wait := done != nil && (force || e.checkedAt.IsZero() && e.profile == nil && e.err == nil)
	c.mu.Unlock()
	if wait {
		select {
		case <-done:
		case <-ctx.Done():
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case e.profile != nil:
		return e.profile, nil
	case e.gone:
		return nil, ErrNotFound
	case c.cfg.Now().Before(c.blockedUntil):
		return nil, &RateLimitError{Until: c.blockedUntil}
	case e.err != nil:
		return nil, e.err
	}
	return nil, ErrPending
}

// entryLocked returns login's entry, creating an empty one.
func (c *Cache) entryLocked(login string) *entry {
	key := strings.ToLower(login)
	e, ok := c.entries[key]
	if !ok {
		e = &entry{}
		c.entries[key] = e
	}
	return e
}

// refreshLocked starts a fetch of login when its entry is stale (or force)
// and none runs, GitHub's rate limit allows one and, unless force, no
// failure is being waited out.
func (c *Cache) refreshLocked(login string, e *entry, force bool) {
	now := c.cfg.Now()
	fresh := !e.checkedAt.IsZero() && now.Sub(e.checkedAt) < c.cfg.FreshFor
	switch {
	case c.closed, e.done != nil, now.Before(c.blockedUntil):
		return
	case !force && (fresh || now.Before(e.retryAt)):
		return
	}
	e.done = make(chan struct{})
	etag := ""
	if e.profile != nil {
		etag = e.etag
	}
	c.wg.Add(1)
	go c.fetch(login, e, etag)
}

// fetch asks GitHub for login and records the answer in e.
func (c *Cache) fetch(login string, e *entry, etag string) {
	defer c.wg.Done()
	var res UserResult
	var err error
	select {
	case c.sem <- struct{}{}:
		res, err = c.cfg.Client.User(c.ctx, login, etag)
		<-c.sem
	case <-c.ctx.Done():
		err = c.ctx.Err()
	}
	now := c.cfg.Now()

	c.mu.Lock()
	defer c.mu.Unlock()
	defer func() { close(e.done); e.done = nil }()
	if !res.RateLimitedUntil.IsZero() {
		c.blockLocked(res.RateLimitedUntil)
	}
	var rl *RateLimitError
	switch {
	case err == nil && res.NotModified && e.profile == nil:
		e.err = errors.New("github: 304 Not Modified for a profile never fetched")
		e.retryAt = now.Add(c.cfg.RetryFailedAfter)
	case err == nil && res.NotModified:
		e.checkedAt, e.err, e.etag = now, nil, res.ETag
	case err == nil:
		e.profile, e.etag, e.gone, e.checkedAt, e.err = res.Profile, res.ETag, false, now, nil
	case errors.Is(err, ErrNotFound):
		e.profile, e.etag, e.gone, e.checkedAt, e.err = nil, "", true, now, nil
	case errors.As(err, &rl):
		c.blockLocked(rl.Until)
		e.err = err
		c.log.Warn("github: rate limited; serving cached profiles until reset", "until", rl.Until)
	default:
		e.err = err
		e.retryAt = now.Add(c.cfg.RetryFailedAfter)
		if c.ctx.Err() == nil {
			c.log.Warn("github: fetching a profile failed; serving the cached one", "login", login, "err", err)
		}
	}
}

// blockLocked stops every fetch until t.
func (c *Cache) blockLocked(t time.Time) {
	if t.After(c.blockedUntil) {
		c.blockedUntil = t
	}
}

// BlockedUntil returns when GitHub's rate limit allows requests again; zero
// or past when it does now.
func (c *Cache) BlockedUntil() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.blockedUntil
}
