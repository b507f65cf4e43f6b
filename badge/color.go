package badge

import (
	"strconv"
	"strings"
)

// namedColors are shields.io's colour names and their values, aliases
// included (badge-maker's color.js).
var namedColors = map[string]string{
	"brightgreen": "#4c1",
	"green":       "#97ca00",
	"yellow":      "#dfb317",
	"yellowgreen": "#a4a61d",
	"orange":      "#fe7d37",
	"red":         "#e05d44",
	"blue":        "#007ec6",
	"grey":        "#555",
	"lightgrey":   "#9f9f9f",
	// aliases
	"gray":          "#555",
	"lightgray":     "#9f9f9f",
	"critical":      "#e05d44",
	"important":     "#fe7d37",
	"success":       "#4c1",
	"informational": "#007ec6",
	"inactive":      "#9f9f9f",
}

// parseColor turns a ?color= value — a shields.io colour name or 3 or 6
// hex digits without "#" — into an SVG colour; ok is false for anything
// else (CSS names and functions are not accepted: the value ends up in an
// attribute, and a short list is easy to document).
func parseColor(s string) (string, bool) {
	if c, ok := namedColors[strings.ToLower(s)]; ok {
		return c, true
	}
	if len(s) != 3 && len(s) != 6 {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return "", false
		}
	}
	return "#" + strings.ToLower(s), true
}

// brightness is a colour's perceived brightness (YIQ) from 0 to 1, as
// badge-maker decides between white and dark text.
func brightness(color string) float64 {
	hex := strings.TrimPrefix(color, "#")
	if len(hex) == 3 {
		hex = string([]byte{hex[0], hex[0], hex[1], hex[1], hex[2], hex[2]})
	}
	v, err := strconv.ParseUint(hex, 16, 32)
	if err != nil || len(hex) != 6 {
		return 0
	}
	r, g, b := float64(v>>16&0xff), float64(v>>8&0xff), float64(v&0xff)
	return (r*299 + g*587 + b*114) / 255000
}

// textColors are the text and shadow colours on a background: white on
// dark, dark grey on light (badge-maker's threshold, 0.69).
func textColors(background string) (text, shadow string) {
	if brightness(background) <= 0.69 {
		return "#fff", "#010101"
	}
	return "#333", "#ccc"
}
