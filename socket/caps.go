package socket

import (
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"
)

// CapsConfig are the per-socket abuse caps a dialect applies; zero
// fields are off.
type CapsConfig struct {
	// MessagesPerSecond is the sustained rate of client messages a socket
	// may send (a token bucket with Burst tokens); beyond it the socket is
	// closed with the dialect's policy code.
	MessagesPerSecond float64
	// Burst is the bucket size: MessagesPerSecond rounded up (at least 1)
	// when zero.
	Burst int
	// MaxSubscriptions caps the users one socket follows by id.
	MaxSubscriptions int
}

// Caps is one socket's message-rate bucket.
type Caps struct {
	lim *rate.Limiter
}

// NewCaps returns a socket's caps state; nil (every call allowed) when no
// rate is set.
func NewCaps(cfg CapsConfig) *Caps {
	if cfg.MessagesPerSecond <= 0 {
		return nil
	}
	burst := cfg.Burst
	if burst <= 0 {
		burst = max(1, int(cfg.MessagesPerSecond+0.999))
	}
	return &Caps{lim: rate.NewLimiter(rate.Limit(cfg.MessagesPerSecond), burst)}
}

// AllowMessage takes a token for one client message; false when the
// socket sends faster than its cap.
func (c *Caps) AllowMessage() bool {
	return c == nil || c.lim.Allow()
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
// trusted reverse proxy puts the client's address in (its last entry
// counts); otherwise the TCP peer's address does.
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
	if l == nil {
		return true
	}
	// clientaddr: switch to clientaddr.LimitKey(clientaddr.FromRequest(r, l.header)) at merge (issue 13 item 5).
	ip := clientAddr(r, l.header)
	l.mu.Lock()
	if l.open[ip] >= l.max {
		l.mu.Unlock()
		_ = SendClose(sock.Conn, CloseTooManyConnections, ReasonTooManyConnections)
		sock.LingerClose(time.Second)
		return false
	}
	l.open[ip]++
	l.mu.Unlock()
	sock.onClose = func() {
		l.mu.Lock()
		if l.open[ip]--; l.open[ip] <= 0 {
			delete(l.open, ip)
		}
		l.mu.Unlock()
	}
	return true
}

// clientAddr is the address a request counts against.
func clientAddr(r *http.Request, header string) string {
	if header != "" {
		if v := r.Header.Get(header); v != "" {
			parts := strings.Split(v, ",")
			return strings.TrimSpace(parts[len(parts)-1])
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
