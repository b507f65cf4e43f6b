package lantern

import (
	"strings"
	"unicode/utf8"
)

// cardEscape escapes text for the card like Lantern's he.escape (&, <, >,
// ", ', ` as entities, docs/compat/lantern.md §4.3) and also drops what XML 1.0 forbids (control
// characters, U+FFFE, U+FFFF) and replaces invalid UTF-8 with U+FFFD, so
// that no name or activity text can make the SVG ill-formed.
func cardEscape(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '"':
			b.WriteString("&quot;")
		case r == '\'':
			b.WriteString("&#x27;")
		case r == '`':
			b.WriteString("&#x60;")
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r', r == 0xFFFE, r == 0xFFFF:
			// not an XML character: dropped
		default:
			b.WriteRune(r) // utf8.RuneError for invalid bytes becomes U+FFFD
		}
	}
	return b.String()
}
