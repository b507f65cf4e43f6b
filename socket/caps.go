package socket

import (
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/ulule/limiter/v3"

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

// messageLimits makes the sockets' message-rate windows. Each socket
// counts its own window inline (Caps): the fixed window ulule/limiter's
// memory store keeps — the first message opens a window of Period, at
// most Limit messages are allowed in it — without the store's per-socket
// entry (a sync.Map node, its counter and a key string, ≈ 160 B of every
// idle socket, issue 17). The windows are described by the library's Rate,
// as harmy's per-client limits are.
type messageLimits struct{}

func newMessageLimits() *messageLimits { return &messageLimits{} }

// Caps is one socket's message-rate window.
type Caps struct {
	mu     sync.Mutex
	count  int32 // messages in the window
	limit  int32
	period time.Duration
	end    int64 // unix nanoseconds when the window closes; 0: none open
}

// newCaps returns a socket's caps state; nil (every call allowed) when no
// rate is set.
func (m *messageLimits) newCaps(cfg CapsConfig) *Caps {
	if cfg.MessagesPerSecond <= 0 {
		return nil
	}
	r := cfg.rate()
	return &Caps{limit: int32(min(r.Limit, math.MaxInt32)), period: r.Period}
}

// AllowMessage counts one client message; false when the socket sends
// faster than its cap.
func (c *Caps) AllowMessage() bool {
	if c == nil {
		return true
	}
	now := time.Now().UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	if now >= c.end {
		c.count, c.end = 0, now+int64(c.period)
	}
	if c.count <= c.limit { // stop counting once over: no overflow
		c.count++
	}
	return c.count <= c.limit
}

// release ends the socket's window.
func (c *Caps) release() {
	if c != nil {
		c.mu.Lock()
		c.count, c.end = 0, 0
		c.mu.Unlock()
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
