package clientaddr

import (
	"net/http"
	"net/netip"
	"testing"
)

func TestFromRequest(t *testing.T) {
	const proxy = "10.0.0.1:5555" // the trusted proxy, as the TCP peer
	tests := []struct {
		name, header, remote string
		lines                []string // lines of the header, in order
		want                 string
	}{
		{"no header configured: the peer", "", "192.0.2.1:5555", nil, "192.0.2.1"},
		{"header not configured is ignored", "", "192.0.2.1:1", []string{"203.0.113.5"}, "192.0.2.1"},
		{"configured but absent: the peer", "X-Forwarded-For", proxy, nil, "10.0.0.1"},
		{"configured but empty: the peer", "X-Forwarded-For", proxy, []string{""}, "10.0.0.1"},
		{"one entry", "X-Forwarded-For", proxy, []string{"203.0.113.5"}, "203.0.113.5"},
		{"spoofed entry left of the proxy's", "X-Forwarded-For", proxy, []string{"1.1.1.1, 203.0.113.5"}, "203.0.113.5"},
		{"several spoofed entries", "X-Forwarded-For", proxy, []string{"1.1.1.1,2.2.2.2 , 3.3.3.3,203.0.113.5"}, "203.0.113.5"},
		{"spoofed first line, proxy's line last", "X-Forwarded-For", proxy, []string{"1.1.1.1", "203.0.113.6"}, "203.0.113.6"},
		{"several lines, lists in each", "X-Forwarded-For", proxy, []string{"1.1.1.1, 2.2.2.2", "3.3.3.3, 203.0.113.7"}, "203.0.113.7"},
		{"entry with a port", "X-Forwarded-For", proxy, []string{"203.0.113.5:8080"}, "203.0.113.5"},
		{"IPv6 entry", "X-Forwarded-For", proxy, []string{"1.1.1.1, 2001:db8::1"}, "2001:db8::1"},
		{"bracketed IPv6 with a port", "X-Forwarded-For", proxy, []string{"[2001:db8::2]:443"}, "2001:db8::2"},
		{"bracketed IPv6 without a port", "X-Forwarded-For", proxy, []string{"[2001:db8::3]"}, "2001:db8::3"},
		{"IPv4-mapped entry unwrapped", "X-Forwarded-For", proxy, []string{"::ffff:203.0.113.8"}, "203.0.113.8"},
		{"zone dropped", "X-Forwarded-For", proxy, []string{"fe80::1%eth0"}, "fe80::1"},
		{"malformed last entry: the peer, not a spoofed one", "X-Forwarded-For", proxy, []string{"203.0.113.5, not-an-ip"}, "10.0.0.1"},
		{"trailing comma: the peer", "X-Forwarded-For", proxy, []string{"203.0.113.5,"}, "10.0.0.1"},
		{"half a bracket: the peer", "X-Forwarded-For", proxy, []string{"203.0.113.5]"}, "10.0.0.1"},
		{"unknown: the peer", "X-Forwarded-For", proxy, []string{"unknown"}, "10.0.0.1"},
		{"hostname: the peer", "X-Forwarded-For", proxy, []string{"example.com"}, "10.0.0.1"},
		{"malformed last line, good first: the peer", "X-Forwarded-For", proxy, []string{"203.0.113.5", "garbage"}, "10.0.0.1"},
		{"X-Real-IP", "X-Real-IP", proxy, []string{"203.0.113.9"}, "203.0.113.9"},
		{"X-Real-IP IPv6", "X-Real-IP", proxy, []string{"2001:db8::9"}, "2001:db8::9"},
		{"CF-Connecting-IP, a spoofed line first", "CF-Connecting-IP", proxy, []string{"1.1.1.1", "198.51.100.4"}, "198.51.100.4"},
		{"header name any case", "x-forwarded-for", proxy, []string{"203.0.113.5"}, "203.0.113.5"},
		{"Forwarded", "Forwarded", proxy, []string{"for=192.0.2.60;proto=http;by=203.0.113.43"}, "192.0.2.60"},
		{"Forwarded list, spoofed first", "Forwarded", proxy, []string{`for=1.1.1.1, for="[2001:db8:cafe::17]:4711"`}, "2001:db8:cafe::17"},
		{"Forwarded parameter case and order", "forwarded", proxy, []string{`Proto=https;For="198.51.100.17:80"`}, "198.51.100.17"},
		{"Forwarded several lines", "Forwarded", proxy, []string{"for=1.1.1.1", "for=198.51.100.18"}, "198.51.100.18"},
		{"Forwarded obfuscated node: the peer", "Forwarded", proxy, []string{"for=1.1.1.1, for=_hidden"}, "10.0.0.1"},
		{"Forwarded without for: the peer", "Forwarded", proxy, []string{"proto=https"}, "10.0.0.1"},
		{"peer IPv6", "", "[2001:db8:1:2:3:4:5:6]:443", nil, "2001:db8:1:2:3:4:5:6"},
		{"peer IPv4-mapped", "", "[::ffff:192.0.2.1]:1", nil, "192.0.2.1"},
		{"peer without a port", "", "192.0.2.3", nil, "192.0.2.3"},
		{"peer not an address", "", "@", nil, "invalid IP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := http.NewRequest("GET", "/", nil)
			if err != nil {
				t.Fatal(err)
			}
			r.RemoteAddr = tt.remote
			name := tt.header
			if name == "" {
				name = "X-Forwarded-For"
			}
			for _, v := range tt.lines {
				r.Header.Add(name, v)
			}
			if got := FromRequest(r, tt.header).String(); got != tt.want {
				t.Fatalf("FromRequest = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestLimitKey(t *testing.T) {
	tests := []struct{ addr, want string }{
		{"192.0.2.1", "192.0.2.1"},
		{"::ffff:192.0.2.1", "192.0.2.1"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"::1", "::/64"},
	}
	for _, tt := range tests {
		if got := LimitKey(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("LimitKey(%s) = %s, want %s", tt.addr, got, tt.want)
		}
	}
	// Two addresses of one /64 share a key; neighbouring /64s do not.
	a, b, c := netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::ffff"), netip.MustParseAddr("2001:db8:0:1::1")
	if LimitKey(a) != LimitKey(b) || LimitKey(a) == LimitKey(c) {
		t.Fatalf("keys %s %s %s", LimitKey(a), LimitKey(b), LimitKey(c))
	}
}
