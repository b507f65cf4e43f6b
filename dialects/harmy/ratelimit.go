package harmy

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/internal/clientaddr"
)

// rateLimiter holds two fixed windows per client: at most perSecond
// requests in a one-second window and at most perMinute in a one-minute
// window, each window starting at the client's first request in it. A
// request must fit in both; a request the per-second window refuses is not
// counted against the per-minute one.
//
// Fixed windows, not a token bucket (golang.org/x/time/rate, which the
// sockets use): harmy's limits are "120 requests a minute", and its
// X-RateLimit-Remaining and -Reset describe a window that empties at once
// when it ends. A window is a count and a start time, which needs no
// library.
type rateLimiter struct {
	second, minute *fixedWindows // nil when that limit is off
}

// verdict is the outcome of one request and what the X-RateLimit-*
// headers say about it: the limit that refused it, or the per-minute one
// (the per-second one when that is off) when allowed.
type verdict struct {
	allowed   bool
	limit     int64
	remaining int64
	reset     int64 // Unix second in which the described window ends
}

func newRateLimiter(perSecond, perMinute int) *rateLimiter {
	l := &rateLimiter{}
	if perSecond > 0 {
		l.second = newFixedWindows(int64(perSecond), time.Second)
	}
	if perMinute > 0 {
		l.minute = newFixedWindows(int64(perMinute), time.Minute)
	}
	return l
}

// enabled reports whether any limit is on.
func (l *rateLimiter) enabled() bool { return l.second != nil || l.minute != nil }

// take counts one request of client's at now.
func (l *rateLimiter) take(client string, now time.Time) verdict {
	var v verdict
	for _, w := range []*fixedWindows{l.second, l.minute} {
		if w == nil {
			continue
		}
		if v = w.take(client, now); !v.allowed {
			return v
		}
	}
	return v
}

// fixedWindows counts requests per client in windows of period, each
// starting at the client's first request after the previous one ended.
// Windows that have ended are dropped once a period, so the map holds only
// the clients seen in the last two periods.
type fixedWindows struct {
	limit  int64
	period time.Duration

	mu        sync.Mutex
	clients   map[string]*window
	lastSweep time.Time
}

// window is one client's current window.
type window struct {
	end   time.Time
	count int64
}

func newFixedWindows(limit int64, period time.Duration) *fixedWindows {
	return &fixedWindows{limit: limit, period: period, clients: map[string]*window{}}
}

// take counts one request of client's at now (a request over the limit is
// counted too) and says whether it fits.
func (f *fixedWindows) take(client string, now time.Time) verdict {
	f.mu.Lock()
	defer f.mu.Unlock()
	if now.Sub(f.lastSweep) >= f.period {
		f.sweep(now)
	}
	w := f.clients[client]
	if w == nil || !now.Before(w.end) {
		w = &window{end: now.Add(f.period)}
		f.clients[client] = w
	}
	w.count++
	return verdict{allowed: w.count <= f.limit, limit: f.limit,
		remaining: max(f.limit-w.count, 0), reset: w.end.Unix()}
}

// sweep drops the windows that have ended: those clients start afresh.
func (f *fixedWindows) sweep(now time.Time) {
	for client, w := range f.clients {
		if !now.Before(w.end) {
			delete(f.clients, client)
		}
	}
	f.lastSweep = now
}

// size is the number of clients held.
func (f *fixedWindows) size() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.clients)
}

// rateLimit is the middleware of the harmy routes: a request over either
// limit is answered 429 with Retry-After; every answer carries
// X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset (whole
// seconds until the described window ends, to within a second; at least
// 1 on a 429, like Retry-After).
func (d *Dialect) rateLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !d.limits.enabled() {
			return next(c)
		}
		now := time.Now()
		v := d.limits.take(clientID(c.Request(), d.opts.TrustedProxyHeader), now)
		h := c.Response().Header()
		reset := max(v.reset-now.Unix(), 0)
		if !v.allowed {
			reset = max(reset, 1)
		}
		h.Set("X-RateLimit-Limit", strconv.FormatInt(v.limit, 10))
		h.Set("X-RateLimit-Remaining", strconv.FormatInt(v.remaining, 10))
		h.Set("X-RateLimit-Reset", strconv.FormatInt(reset, 10))
		if !v.allowed {
			h.Set("Retry-After", strconv.FormatInt(reset, 10))
			return errRateLimited.write(c)
		}
		return next(c)
	}
}

// clientID names the client a request counts against: Halyard's one rule
// for client addresses (internal/clientaddr), IPv6 clients grouped by /64.
func clientID(r *http.Request, trustedHeader string) string {
	return clientaddr.LimitKey(clientaddr.FromRequest(r, trustedHeader))
}
