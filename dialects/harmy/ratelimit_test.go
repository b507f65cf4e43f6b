package harmy

import (
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// limitHeaders returns Retry-After and the X-RateLimit-* headers.
func limitHeaders(resp *http.Response) [4]string {
	h := resp.Header
	return [4]string{h.Get("X-RateLimit-Limit"), h.Get("X-RateLimit-Remaining"), h.Get("X-RateLimit-Reset"), h.Get("Retry-After")}
}

func from(ip string) http.Header { return http.Header{"X-Forwarded-For": {"198.51.100.7, " + ip}} }

// TestRateLimitBothLimits checks the two windows and the headers, with a
// trusted proxy header telling clients apart: the first client goes over
// each limit in turn while the second is served throughout.
func TestRateLimitBothLimits(t *testing.T) {
	s := startHarmy(t, Options{RatePerSecond: 3, RatePerMinute: 4, TrustedProxyHeader: "X-Forwarded-For"}, nil)
	s.member("1", "", "", "", nil)
	a, b := from("203.0.113.1"), from("203.0.113.2")
	check := func(step string, h http.Header, status int, limit, remaining string, resetMin, resetMax int) {
		t.Helper()
		resp, body := s.get(t, "/user/1", h)
		if resp.StatusCode != status {
			t.Fatalf("%s: %d %s", step, resp.StatusCode, body)
		}
		got := limitHeaders(resp)
		reset, err := strconv.Atoi(got[2])
		if got[0] != limit || got[1] != remaining || err != nil || reset < resetMin || reset > resetMax {
			t.Fatalf("%s: headers (limit, remaining, reset, retry-after) %q", step, got)
		}
		if status == 429 {
			assertError(t, resp, body, 429)
			if got[3] != got[2] {
				t.Fatalf("%s: Retry-After %q, X-RateLimit-Reset %q", step, got[3], got[2])
			}
		} else if got[3] != "" {
			t.Fatalf("%s: Retry-After on a 200", step)
		}
	}
	// Allowed requests describe the per-minute window.
	check("1st", a, 200, "4", "3", 59, 60)
	check("2nd", a, 200, "4", "2", 59, 60)
	check("3rd", a, 200, "4", "1", 59, 60)
	// The fourth within the second: refused by the per-second limit.
	check("4th", a, 429, "3", "0", 1, 1)
	// Another client is not affected.
	check("other client", b, 200, "4", "3", 59, 60)
	time.Sleep(1100 * time.Millisecond)
	// A new second: the last request of the minute's window, then the minute refuses.
	check("5th", a, 200, "4", "0", 57, 59)
	check("6th", a, 429, "4", "0", 57, 59)
	check("other client again", b, 200, "4", "2", 57, 59)
}

// TestRateLimitPerMinuteCount: with harmy's 120 a minute and the
// per-second limit out of the way, the 121st request is refused.
func TestRateLimitPerMinuteCount(t *testing.T) {
	s := startHarmy(t, Options{RatePerSecond: 1000, RatePerMinute: 120, TrustedProxyHeader: "X-Forwarded-For"}, nil)
	s.member("1", "", "", "", nil)
	for i := 1; i <= 120; i++ {
		if resp, _ := s.get(t, "/user/1", from("203.0.113.9")); resp.StatusCode != 200 {
			t.Fatalf("request %d: %d", i, resp.StatusCode)
		}
	}
	resp, body := s.get(t, "/user/1", from("203.0.113.9"))
	assertError(t, resp, body, 429)
	if h := limitHeaders(resp); h[0] != "120" || h[1] != "0" {
		t.Fatalf("headers %q", h)
	}
	// Malformed ids and unknown users count too.
	for range 120 {
		s.get(t, "/user/abc", from("203.0.113.10"))
	}
	if resp, _ := s.get(t, "/user/1", from("203.0.113.10")); resp.StatusCode != 429 {
		t.Fatalf("errors were not counted: %d", resp.StatusCode)
	}
}

// TestRateLimitSocketAddress tells clients apart by their socket address
// when no trusted proxy header is configured: 127.0.0.1 over the limit,
// 127.0.0.2 not; a client's own X-Forwarded-For changes nothing.
func TestRateLimitSocketAddress(t *testing.T) {
	s := startHarmy(t, Options{RatePerMinute: 1}, nil)
	s.member("1", "", "", "", nil)
	clientFrom := func(ip string) *http.Client {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 2 * time.Second}
		return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	}
	a, b := clientFrom("127.0.0.1"), clientFrom("127.0.0.2")
	if resp, _ := doGet(t, a, s.base+"/user/1", nil); resp.StatusCode != 200 {
		t.Fatalf("first: %d", resp.StatusCode)
	}
	resp, body := doGet(t, a, s.base+"/user/1", from("192.0.2.1"))
	assertError(t, resp, body, 429)
	if ra, _ := strconv.Atoi(resp.Header.Get("Retry-After")); ra < 59 || ra > 60 {
		t.Fatalf("Retry-After %q", resp.Header.Get("Retry-After"))
	}
	if resp, err := b.Get("http://127.0.0.1:" + s.port + "/user/1"); err != nil {
		t.Skipf("cannot connect from 127.0.0.2 here: %v", err)
	} else {
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("another client refused: %d", resp.StatusCode)
		}
	}
}

func TestRateLimitOnlyHarmyRoutes(t *testing.T) {
	s := startHarmy(t, Options{RatePerSecond: 1, RatePerMinute: 1}, nil)
	s.member("1", "", "", "", nil)
	s.get(t, "/user/1", nil)
	if resp, _ := s.get(t, "/user/1", nil); resp.StatusCode != 429 {
		t.Fatalf("not limited: %d", resp.StatusCode)
	}
	for range 5 {
		resp, _ := s.get(t, "/healthz", nil)
		if resp.StatusCode != 200 || resp.Header.Get("X-RateLimit-Limit") != "" {
			t.Fatalf("/healthz: %d %v", resp.StatusCode, resp.Header)
		}
	}
}

func TestRateLimitOff(t *testing.T) {
	s := startHarmy(t, Options{}, nil)
	s.member("1", "", "", "", nil)
	for range 20 {
		resp, _ := s.get(t, "/user/1", nil)
		if resp.StatusCode != 200 || resp.Header.Get("X-RateLimit-Limit") != "" {
			t.Fatalf("%d %v", resp.StatusCode, resp.Header)
		}
	}
}

func TestClientID(t *testing.T) {
	tests := []struct {
		name, header, remote string
		values               []string
		want                 string
	}{
		{"socket v4", "", "192.0.2.1:5555", nil, "192.0.2.1"},
		{"socket v6 grouped by /64", "", "[2001:db8:1:2:3:4:5:6]:443", nil, "2001:db8:1:2::/64"},
		{"socket v4-mapped", "", "[::ffff:192.0.2.1]:1", nil, "192.0.2.1"},
		{"header ignored when not trusted", "", "192.0.2.1:1", []string{"203.0.113.5"}, "192.0.2.1"},
		{"trusted header, last entry", "X-Forwarded-For", "10.0.0.1:1", []string{"1.1.1.1, 203.0.113.5"}, "203.0.113.5"},
		{"trusted header, last header", "X-Forwarded-For", "10.0.0.1:1", []string{"1.1.1.1", "203.0.113.6"}, "203.0.113.6"},
		{"trusted header with port", "X-Forwarded-For", "10.0.0.1:1", []string{"203.0.113.5:8080"}, "203.0.113.5"},
		{"trusted header v6", "X-Real-IP", "10.0.0.1:1", []string{"2001:db8::1"}, "2001:db8::/64"},
		{"trusted header missing", "X-Forwarded-For", "10.0.0.1:1", nil, "10.0.0.1"},
		{"trusted header empty", "X-Forwarded-For", "10.0.0.1:1", []string{""}, "10.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.values {
				r.Header.Add("X-Forwarded-For", v)
				r.Header.Add("X-Real-IP", v)
			}
			if got := clientID(r, tt.header); got != tt.want {
				t.Fatalf("clientID = %q, want %q", got, tt.want)
			}
		})
	}
}
