package badge

import (
	"strconv"
	"strings"
)

// Style is a badge's look, as shields.io names it.
type Style string

// The styles Halyard draws.
const (
	StyleFlat        Style = "flat"
	StyleFlatSquare  Style = "flat-square"
	StyleForTheBadge Style = "for-the-badge"
)

// Badge is one badge to draw.
type Badge struct {
	Label   string // left text; "" draws the message alone
	Message string // right text
	Color   string // the message's background, an SVG colour ("#4c1")
	Style   Style
}

// fontFamily is badge-maker's: Verdana where installed, lookalikes else.
const fontFamily = "Verdana,Geneva,DejaVu Sans,sans-serif"

// labelColor is the label's background.
const labelColor = "#555"

// Render draws the badge as a standalone SVG document.
func Render(b Badge) []byte {
	switch b.Style {
	case StyleForTheBadge:
		return renderForTheBadge(b)
	case StyleFlatSquare:
		return renderFlat(b, false)
	default:
		return renderFlat(b, true)
	}
}

// preferredWidth rounds a text width as badge-maker does: down to whole
// pixels, then up to an odd number, so the text's centre falls on the
// pixel grid.
func preferredWidth(f *font, s string) int {
	w := int(f.width(s))
	if w%2 == 0 {
		w++
	}
	return w
}

// renderFlat draws the flat style (rounded corners, a light gradient and
// text shadows) or, with rounded false, flat-square (square, neither).
func renderFlat(b Badge, rounded bool) []byte {
	const pad, height = 5, 20
	hasLabel := b.Label != ""
	leftColor := labelColor
	labelWidth, leftWidth := 0, 0
	if hasLabel {
		labelWidth = preferredWidth(verdana11, b.Label)
		leftWidth = labelWidth + 2*pad
	} else {
		leftColor = b.Color
	}
	messageWidth := preferredWidth(verdana11, b.Message)
	messageMargin := leftWidth
	if b.Message != "" {
		messageMargin--
	}
	if !hasLabel {
		messageMargin++
	}
	rightWidth := messageWidth + 2*pad
	width := leftWidth + rightWidth

	var w svgWriter
	w.open(width, height, accessibleText(b))
	if rounded {
		w.s(`<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>`)
		w.s(`<clipPath id="r"><rect width="`).n(width).s(`" height="`).n(height).s(`" rx="3" fill="#fff"/></clipPath>`)
		w.s(`<g clip-path="url(#r)">`)
	} else {
		w.s(`<g shape-rendering="crispEdges">`)
	}
	w.s(`<rect width="`).n(leftWidth).s(`" height="`).n(height).s(`" fill="`).s(leftColor).s(`"/>`)
	w.s(`<rect x="`).n(leftWidth).s(`" width="`).n(rightWidth).s(`" height="`).n(height).s(`" fill="`).s(b.Color).s(`"/>`)
	if rounded {
		w.s(`<rect width="`).n(width).s(`" height="`).n(height).s(`" fill="url(#s)"/>`)
	}
	w.s(`</g><g fill="#fff" text-anchor="middle" font-family="` + fontFamily + `" text-rendering="geometricPrecision" font-size="110">`)
	flatText := func(margin, textWidth int, content, background string) {
		if content == "" {
			return
		}
		fill, shadow := textColors(background)
		x := 10 * (float64(margin) + 0.5*float64(textWidth) + pad)
		if rounded {
			w.s(`<text aria-hidden="true" x="`).f(x).s(`" y="150" fill="`).s(shadow).s(`" fill-opacity=".3" transform="scale(.1)" textLength="`).n(10 * textWidth).s(`">`).text(content).s(`</text>`)
		}
		w.s(`<text x="`).f(x).s(`" y="140" transform="scale(.1)" fill="`).s(fill).s(`" textLength="`).n(10 * textWidth).s(`">`).text(content).s(`</text>`)
	}
	flatText(1, labelWidth, b.Label, leftColor)
	flatText(messageMargin, messageWidth, b.Message, b.Color)
	w.s(`</g></svg>`)
	return w.bytes()
}

// renderForTheBadge draws the for-the-badge style: taller, square, upper
// case with letter spacing, the message in bold.
func renderForTheBadge(b Badge) []byte {
	const height, margin, spacing = 28, 12, 1.25
	label, message := strings.ToUpper(b.Label), strings.ToUpper(b.Message)
	spaced := func(f *font, s string) float64 {
		if s == "" {
			return 0
		}
		return float64(int(f.width(s))) + spacing*float64(len([]rune(s)))
	}
	labelWidth, messageWidth := spaced(verdana10, label), spaced(verdana10Bold, message)
	var leftWidth, messageX float64
	if label != "" {
		leftWidth = margin + labelWidth + margin
		messageX = leftWidth + margin
	} else {
		messageX = margin
	}
	rightWidth := 2*margin + messageWidth
	width := leftWidth + rightWidth

	var w svgWriter
	w.openF(width, height, accessibleText(Badge{Label: label, Message: message}))
	w.s(`<g shape-rendering="crispEdges">`)
	if label != "" {
		w.s(`<rect width="`).f(leftWidth).s(`" height="`).n(height).s(`" fill="` + labelColor + `"/>`)
		w.s(`<rect x="`).f(leftWidth).s(`" width="`).f(rightWidth).s(`" height="`).n(height).s(`" fill="`).s(b.Color).s(`"/>`)
	} else {
		w.s(`<rect width="`).f(rightWidth).s(`" height="`).n(height).s(`" fill="`).s(b.Color).s(`"/>`)
	}
	w.s(`</g><g fill="#fff" text-anchor="middle" font-family="` + fontFamily + `" text-rendering="geometricPrecision" font-size="100">`)
	if label != "" {
		fill, _ := textColors(labelColor)
		w.s(`<text transform="scale(.1)" x="`).f(10 * (margin + 0.5*labelWidth)).s(`" y="175" textLength="`).f(10 * labelWidth).s(`" fill="`).s(fill).s(`">`).text(label).s(`</text>`)
	}
	fill, _ := textColors(b.Color)
	w.s(`<text transform="scale(.1)" x="`).f(10 * (messageX + 0.5*messageWidth)).s(`" y="175" textLength="`).f(10 * messageWidth).s(`" fill="`).s(fill).s(`" font-weight="bold">`).text(message).s(`</text>`)
	w.s(`</g></svg>`)
	return w.bytes()
}

// accessibleText is what screen readers and the <title> say: "label: message".
func accessibleText(b Badge) string {
	if b.Label == "" {
		return b.Message
	}
	return b.Label + ": " + b.Message
}

// svgWriter builds a badge; every piece of text goes through text, which
// escapes it.
type svgWriter struct{ buf []byte }

func (w *svgWriter) open(width, height int, title string) {
	w.openF(float64(width), height, title)
}

func (w *svgWriter) openF(width float64, height int, title string) {
	w.s(`<svg xmlns="http://www.w3.org/2000/svg" width="`).f(width).s(`" height="`).n(height).s(`" role="img" aria-label="`).text(title).s(`">`)
	w.s(`<title>`).text(title).s(`</title>`)
}

func (w *svgWriter) s(s string) *svgWriter { w.buf = append(w.buf, s...); return w }

func (w *svgWriter) n(v int) *svgWriter { w.buf = strconv.AppendInt(w.buf, int64(v), 10); return w }

func (w *svgWriter) f(v float64) *svgWriter {
	w.buf = strconv.AppendFloat(w.buf, v, 'f', -1, 64)
	return w
}

// text appends s escaped for XML text and attribute values.
func (w *svgWriter) text(s string) *svgWriter {
	for _, r := range s {
		switch r {
		case '&':
			w.buf = append(w.buf, "&amp;"...)
		case '<':
			w.buf = append(w.buf, "&lt;"...)
		case '>':
			w.buf = append(w.buf, "&gt;"...)
		case '"':
			w.buf = append(w.buf, "&quot;"...)
		case '\'':
			w.buf = append(w.buf, "&apos;"...)
		default:
			if !xmlChar(r) {
				continue // not allowed in XML 1.0 at all, even escaped
			}
			w.buf = append(w.buf, string(r)...)
		}
	}
	return w
}

// xmlChar reports whether r may appear in an XML 1.0 document.
func xmlChar(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD || (r >= 0x20 && r <= 0xD7FF) ||
		(r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}

func (w *svgWriter) bytes() []byte { return w.buf }
