// Package clientaddr is Halyard's one rule for the address a request comes
// from, used by every per-client limit and every log line that names a
// client.
//
// Behind a reverse proxy the TCP peer is the proxy; the client's address is
// in a header the proxy sets (TRUSTED_PROXY_HEADER). A proxy appends the
// address it saw to what the client sent, so only the right-most entry,
// across every line of the header, is the proxy's word: anything left of
// it may be forged by the client and is never read.
package clientaddr

import (
	"net/http"
	"net/netip"
	"strings"
)

// FromRequest returns the address r counts as coming from. With
// trustedHeader set and present, it is the header's right-most entry (the
// last entry of its last line); the header may be X-Forwarded-For (a
// comma-separated list), RFC 7239 Forwarded (its last element's for=) or a
// single-value header such as X-Real-IP or CF-Connecting-IP, each entry a
// bare address or one with a port ("203.0.113.5:8080", "[2001:db8::1]:443").
// When trustedHeader is empty, absent, or its right-most entry is not an
// address (empty, "unknown", an obfuscated Forwarded node), it is the TCP
// peer's address. IPv4-mapped IPv6 addresses are returned as IPv4 and
// zones are dropped. The result is invalid only when RemoteAddr is not an
// address either.
func FromRequest(r *http.Request, trustedHeader string) netip.Addr {
	if trustedHeader != "" {
		if values := r.Header.Values(trustedHeader); len(values) > 0 {
			forwarded := strings.EqualFold(trustedHeader, "Forwarded")
			if a, ok := parseEntry(lastEntry(values[len(values)-1]), forwarded); ok {
				return a
			}
		}
	}
	a, _ := parseHostPort(r.RemoteAddr)
	return a
}

// LimitKey is the key a per-client limit counts a under: IPv4 addresses
// (IPv4-mapped ones unwrapped) as themselves, IPv6 addresses by their /64,
// the block one subscriber is usually given, so that one client cannot
// step around a limit by rotating addresses within it.
func LimitKey(a netip.Addr) string {
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// lastEntry returns the right-most comma-separated entry of one header
// line, trimmed.
func lastEntry(line string) string {
	return strings.TrimSpace(line[strings.LastIndexByte(line, ',')+1:])
}

// parseEntry parses one header entry: an address with or without a port,
// or, when forwarded, one RFC 7239 forwarded-element whose for= parameter
// is such an address (quoted when it has a port or is IPv6).
func parseEntry(entry string, forwarded bool) (netip.Addr, bool) {
	if forwarded {
		var node string
		for _, pair := range strings.Split(entry, ";") {
			name, value, ok := strings.Cut(strings.TrimSpace(pair), "=")
			if ok && strings.EqualFold(strings.TrimSpace(name), "for") {
				node = strings.TrimSpace(value)
			}
		}
		entry = strings.Trim(node, `"`)
	}
	return parseHostPort(entry)
}

// parseHostPort parses "addr", "addr:port", "[v6]" or "[v6]:port".
func parseHostPort(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return normal(ap.Addr()), true
	}
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		s = s[1 : len(s)-1]
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return normal(a), true
	}
	return netip.Addr{}, false
}

// normal unwraps IPv4-mapped addresses and drops zones, so that one client
// has one form.
func normal(a netip.Addr) netip.Addr { return a.Unmap().WithZone("") }
