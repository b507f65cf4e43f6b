package harmy

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/store/memory"

	"github.com/halyardhq/halyard/internal/clientaddr"
)

// rateLimiter holds two fixed windows per client (ulule/limiter's memory
// store, which drops ended windows every minute): at most perSecond
// requests in a one-second window and at most perMinute in a one-minute
// window, each window starting at the client's first request in it. A
// request must fit in both; a request the per-second window refuses is not
// counted against the per-minute one. Fixed windows, not a token bucket:
// harmy's X-RateLimit-Remaining and -Reset describe a window that empties
// at once when it ends.
type rateLimiter struct {
	second, minute *limiter.Limiter // nil when that limit is off
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
	store := memory.NewStoreWithOptions(limiter.StoreOptions{Prefix: "harmy", CleanUpInterval: time.Minute})
	l := &rateLimiter{}
	if perSecond > 0 {
		l.second = limiter.New(store, limiter.Rate{Period: time.Second, Limit: int64(perSecond)})
	}
	if perMinute > 0 {
		l.minute = limiter.New(store, limiter.Rate{Period: time.Minute, Limit: int64(perMinute)})
	}
	return l
}

// enabled reports whether any limit is on.
func (l *rateLimiter) enabled() bool { return l.second != nil || l.minute != nil }

// take counts one request of client's.
func (l *rateLimiter) take(ctx context.Context, client string) verdict {
	var v verdict
	for _, w := range []struct {
		lim *limiter.Limiter
		key string
	}{{l.second, "s:" + client}, {l.minute, "m:" + client}} {
		if w.lim == nil {
			continue
		}
		c, err := w.lim.Get(ctx, w.key) // the memory store never fails
		if err != nil {
			continue
		}
		v = verdict{allowed: !c.Reached, limit: c.Limit, remaining: c.Remaining, reset: c.Reset}
		if c.Reached {
			return v
		}
	}
	return v
}

// limited applies the rate limits to a request of the harmy routes, first
// thing in their handler (not as echo route middleware, which costs a
// closure per request): a request over either limit is answered 429 with
// Retry-After, and limited reports true with the answer's error; every
// answer carries X-RateLimit-Limit, X-RateLimit-Remaining and
// X-RateLimit-Reset (whole seconds until the described window ends, to
// within a second; at least 1 on a 429, like Retry-After).
func (d *Dialect) limited(c echo.Context) (bool, error) {
	if !d.limits.enabled() {
		return false, nil
	}
	now := time.Now()
	v := d.limits.take(c.Request().Context(), clientID(c.Request(), d.opts.TrustedProxyHeader))
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
		return true, errRateLimited.write(c)
	}
	return false, nil
}

// clientID names the client a request counts against: Halyard's one rule
// for client addresses (internal/clientaddr), IPv6 clients grouped by /64.
func clientID(r *http.Request, trustedHeader string) string {
	return clientaddr.LimitKey(clientaddr.FromRequest(r, trustedHeader))
}
