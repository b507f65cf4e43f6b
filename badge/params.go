package badge

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Options are a badge request's query parameters.
type Options struct {
	Style    Style
	Label    string
	HasLabel bool   // ?label= was given (empty: no label at all)
	Color    string // SVG colour; "" keeps the kind's own
}

// MaxLabel is the longest ?label=, in characters.
const MaxLabel = 64

// ParamError is a query parameter the badge cannot be drawn with; its
// message is drawn on the 400 badge.
type ParamError struct{ Message string }

func (e *ParamError) Error() string { return e.Message }

// ParseOptions reads ?style=, ?label= and ?color=. Other parameters are
// ignored (README badges often carry cache busters), but each of these
// three may appear once at most.
func ParseOptions(q url.Values) (Options, error) {
	var o Options
	for _, name := range [...]string{"style", "label", "color"} {
		if len(q[name]) > 1 {
			return o, &ParamError{name + " given more than once"}
		}
	}
	switch s := Style(q.Get("style")); s {
	case "", StyleFlat:
		o.Style = StyleFlat
	case StyleFlatSquare, StyleForTheBadge:
		o.Style = s
	default:
		return o, &ParamError{"style must be flat, flat-square or for-the-badge"}
	}
	if q.Has("label") {
		l := q.Get("label")
		if !utf8.ValidString(l) || utf8.RuneCountInString(l) > MaxLabel || strings.IndexFunc(l, badRune) >= 0 {
			return o, &ParamError{"label must be at most 64 printable characters"}
		}
		o.Label, o.HasLabel = l, true
	}
	if c := q.Get("color"); c != "" || q.Has("color") {
		svg, ok := parseColor(c)
		if !ok {
			return o, &ParamError{"color must be a shields.io colour name or 3 or 6 hex digits"}
		}
		o.Color = svg
	}
	return o, nil
}

// badRune reports characters a label may not hold: control and format
// characters (bidirectional overrides among them; the zero-width joiner of
// emoji sequences excepted) and what XML cannot hold.
func badRune(r rune) bool {
	return unicode.IsControl(r) || (unicode.Is(unicode.Cf, r) && r != '\u200d') || !xmlChar(r)
}

// apply overrides b's label and colour and sets its style.
func (o Options) apply(b Badge) Badge {
	if o.HasLabel {
		b.Label = o.Label
	}
	if o.Color != "" {
		b.Color = o.Color
	}
	b.Style = o.Style
	return b
}

// isDefault reports whether the options change nothing: the badge is the
// cached one.
func (o Options) isDefault() bool { return o.Style == StyleFlat && !o.HasLabel && o.Color == "" }
