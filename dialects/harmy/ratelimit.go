package harmy

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/store/memory"
)

// rateLimiter holds two fixed windows per client (ulule/limiter's memory
// store): at most perSecond requests in a one-second window and at most
// perMinute in a one-minute window, each window starting at the client's
// first request in it. A request must fit in both; a request the
// per-second window refuses is not counted against the per-minute one.
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
		v := d.limits.take(c.Request().Context(), clientID(c.Request(), d.opts.TrustedProxyHeader))
		h := c.Response().Header()
		reset := max(v.reset-time.Now().Unix(), 0)
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

// clientID names the client a request counts against: the last entry of
// the trusted proxy header when one is configured and present (a proxy
// appends the address it saw; earlier entries are the client's own say),
// else the socket's remote address. IPv6 clients are grouped by /64, the
// block one subscriber usually holds.
func clientID(r *http.Request, trustedHeader string) string {
	addr := ""
	if trustedHeader != "" {
		if values := r.Header.Values(trustedHeader); len(values) > 0 {
			last := values[len(values)-1]
			addr = strings.TrimSpace(last[strings.LastIndexByte(last, ',')+1:])
		}
	}
	if addr == "" {
		addr = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		if host, _, serr := net.SplitHostPort(addr); serr == nil {
			ip, err = netip.ParseAddr(host)
		}
	}
	if err == nil {
		ip = ip.Unmap().WithZone("")
		if ip.Is6() {
			p, _ := ip.Prefix(64)
			return p.String()
		}
		return ip.String()
	}
	if len(addr) > 64 {
		addr = addr[:64] // not an address: bounded, still one client
	}
	return addr
}
