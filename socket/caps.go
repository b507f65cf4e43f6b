package socket

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/store/memory"

	"github.com/halyardhq/halyard/internal/clientaddr"
)

// Defaults of the caps: Lanyard's 8 MB message limit; the rest are
// Halyard's (RELIABILITY.md, "WebSocket caps and stalled readers").
const (
	DefaultMaxMessageBytes   = 8_000_000
	DefaultMaxSubscriptions  = 1000
	DefaultMessagesPerSecond = 20
	DefaultMessageBurst      = 60
)

// CapsConfig are the per-socket abuse caps a dialect applies; zero
// fields are off.
type CapsConfig struct {
	// MessagesPerSecond is the sustained rate of client messages a socket
	// may send: at most Burst messages in every window of
	// Burst/MessagesPerSecond seconds; beyond it the socket is closed with
	// the dialect's policy code.
	MessagesPerSecond float64
	// Burst is the most messages in one window: MessagesPerSecond rounded
	// up (at least 1) when zero.
	Burst int
	// MaxSubscriptions caps the users one socket follows by id.
	MaxSubscriptions int
}

// rate is the fixed window the config describes.
func (cfg CapsConfig) rate() limiter.Rate {
	burst := cfg.Burst
	if burst <= 0 {
		burst = max(1, int(cfg.MessagesPerSecond+0.999))
	}
	return limiter.Rate{Limit: int64(burst), Period: time.Duration(float64(burst) / cfg.MessagesPerSecond * float64(time.Second))}
}

// messageLimits counts every capped socket's client messages in fixed
// windows: ulule/limiter, Halyard's one rate-limit library (harmy's
// per-client limits use it too), over one in-memory store per engine. The
// store runs no cleaner goroutine: a socket's window is deleted when the
// socket ends, so nothing outlives Engine.Close.
type messageLimits struct {
	store limiter.Store
	next  atomic.Uint64 // socket keys
	mu    sync.Mutex
	byCfg map[limiter.Rate]*limiter.Limiter
}

func newMessageLimits() *messageLimits {
	return &messageLimits{store: memory.NewStoreWithOptions(limiter.StoreOptions{Prefix: "socket"}),
		byCfg: map[limiter.Rate]*limiter.Limiter{}}
}

// Caps is one socket's message-rate window.
type Caps struct {
	lim *limiter.Limiter
	key string
}

// newCaps returns a socket's caps state; nil (every call allowed) when no
// rate is set.
func (m *messageLimits) newCaps(cfg CapsConfig) *Caps {
	if cfg.MessagesPerSecond <= 0 {
		return nil
	}
	r := cfg.rate()
	m.mu.Lock()
	lim := m.byCfg[r]
	if lim == nil {
		lim = limiter.New(m.store, r)
		m.byCfg[r] = lim
	}
	m.mu.Unlock()
	return &Caps{lim: lim, key: strconv.FormatUint(m.next.Add(1), 36)}
}

// AllowMessage counts one client message; false when the socket sends
// faster than its cap.
func (c *Caps) AllowMessage() bool {
	if c == nil {
		return true
	}
	lc, err := c.lim.Get(context.Background(), c.key) // the memory store never fails
	return err == nil && !lc.Reached
}

// release deletes the socket's window from the store.
func (c *Caps) release() {
	if c != nil {
		_, _ = c.lim.Reset(context.Background(), c.key)
	}
}

// Close codes of the caps where the dialect's spec is silent
// (documented in RELIABILITY.md).
const (
	// CloseTooManyConnections ends a socket beyond its address's cap:
	// 1013 Try Again Later, so clients back off and reconnect.
	CloseTooManyConnections = websocket.CloseTryAgainLater
	// ReasonTooManyConnections is its reason.
	ReasonTooManyConnections = "too_many_connections"
)

// ConnLimiter caps the WebSocket connections open at once per client
// address, across every socket endpoint it is given to.
type ConnLimiter struct {
	max    int
	header string

	mu   sync.Mutex
	open map[string]int
}

// NewConnLimiter returns a limiter of max sockets per client address; nil
// (no cap) when max ≤ 0. proxyHeader, when set, names the header a
// trusted reverse proxy puts the client's address in; the address counts
// as internal/clientaddr says (the right-most entry the proxy appended,
// IPv6 grouped by /64), as every other per-client limit does.
func NewConnLimiter(max int, proxyHeader string) *ConnLimiter {
	if max <= 0 {
		return nil
	}
	return &ConnLimiter{max: max, header: proxyHeader, open: map[string]int{}}
}

// Admit counts a freshly upgraded socket against its client's address.
// Over the cap it closes the socket (1013 too_many_connections) and
// returns false; otherwise the slot is released when the socket closes.
// A nil limiter admits everything.
func (l *ConnLimiter) Admit(r *http.Request, sock *Socket) bool {
	release, ok := l.Reserve(r)
	if !ok {
		_ = SendClose(sock.Conn, CloseTooManyConnections, ReasonTooManyConnections)
		sock.LingerClose(time.Second)
		return false
	}
	sock.onClose = release
	return true
}

// Reserve takes one of the request's client address's slots for a
// connection of another transport (a server-sent-events stream) before
// its answer starts; false when the address is at its cap. release gives
// the slot back; call it once. A nil limiter admits everything.
func (l *ConnLimiter) Reserve(r *http.Request) (release func(), ok bool) {
	if l == nil {
		return func() {}, true
	}
	ip := clientaddr.LimitKey(clientaddr.FromRequest(r, l.header))
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[ip] >= l.max {
		return nil, false
	}
	l.open[ip]++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			if l.open[ip]--; l.open[ip] <= 0 {
				delete(l.open, ip)
			}
			l.mu.Unlock()
		})
	}, true
}
