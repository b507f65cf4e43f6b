package badge

import (
	"encoding/xml"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// svgDoc is what the tests read back from a badge.
type svgDoc struct {
	XMLName xml.Name `xml:"svg"`
	Width   string   `xml:"width,attr"`
	Height  string   `xml:"height,attr"`
	Label   string   `xml:"aria-label,attr"`
	Title   string   `xml:"title"`
	Texts   []string `xml:"g>text"`
	Rects   []struct {
		Fill string `xml:"fill,attr"`
	} `xml:"g>rect"`
	Clip *struct{} `xml:"clipPath"`
}

func parseSVG(t *testing.T, b []byte) svgDoc {
	t.Helper()
	var d svgDoc
	if err := xml.Unmarshal(b, &d); err != nil {
		t.Fatalf("not well-formed SVG: %v\n%s", err, b)
	}
	return d
}

// TestRenderStyles: each style is well-formed SVG carrying the text
// (escaped), in its shape.
func TestRenderStyles(t *testing.T) {
	for _, tc := range []struct {
		style           Style
		height          string
		clip, uppercase bool
	}{
		{StyleFlat, "20", true, false},
		{StyleFlatSquare, "20", false, false},
		{StyleForTheBadge, "28", false, true},
	} {
		b := Render(Badge{Label: `a<b>&"c'`, Message: "Spotify – Ünïcödé 🎵", Color: "#4c1", Style: tc.style})
		d := parseSVG(t, b)
		label, message := `a<b>&"c'`, "Spotify – Ünïcödé 🎵"
		if tc.uppercase {
			label, message = strings.ToUpper(label), strings.ToUpper(message)
		}
		if d.Height != tc.height || (d.Clip != nil) != tc.clip {
			t.Errorf("%s: height %s clip %v", tc.style, d.Height, d.Clip != nil)
		}
		if d.Title != label+": "+message || d.Label != d.Title {
			t.Errorf("%s: title %q", tc.style, d.Title)
		}
		if !containsAll(d.Texts, label, message) {
			t.Errorf("%s: texts %q", tc.style, d.Texts)
		}
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func containsAll(list []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, s := range list {
			found = found || s == w
		}
		if !found {
			return false
		}
	}
	return true
}

// TestWidthsFollowTheFont: box widths come from Verdana's advances, not a
// width per character: "iiii" is narrower than "WWWW", and shields.io's
// own badge for "build | passing" is 88 px wide.
func TestWidthsFollowTheFont(t *testing.T) {
	narrow := parseSVG(t, Render(Badge{Label: "x", Message: "iiii", Color: "#4c1"}))
	wide := parseSVG(t, Render(Badge{Label: "x", Message: "WWWW", Color: "#4c1"}))
	if atoi(narrow.Width) >= atoi(wide.Width) {
		t.Errorf("iiii %s px, WWWW %s px", narrow.Width, wide.Width)
	}
	if w := parseSVG(t, Render(Badge{Label: "build", Message: "passing", Color: "#4c1"})).Width; w != "88" {
		t.Errorf("build|passing is %s px wide, shields.io draws 88", w)
	}
}

// TestParseOptions: the documented parameters are read, everything else
// is a ParamError (answered 400), never a panic.
func TestParseOptions(t *testing.T) {
	good := []struct {
		query string
		want  Options
	}{
		{"", Options{Style: StyleFlat}},
		{"style=", Options{Style: StyleFlat}},
		{"style=flat-square", Options{Style: StyleFlatSquare}},
		{"style=for-the-badge&label=Discord&color=blue", Options{Style: StyleForTheBadge, Label: "Discord", HasLabel: true, Color: "#007ec6"}},
		{"label=", Options{Style: StyleFlat, HasLabel: true}},
		{"color=FF69B4", Options{Style: StyleFlat, Color: "#ff69b4"}},
		{"color=abc", Options{Style: StyleFlat, Color: "#abc"}},
		{"color=lightgray", Options{Style: StyleFlat, Color: "#9f9f9f"}},
		{"label=%F0%9F%91%A8%E2%80%8D%F0%9F%92%BB", Options{Style: StyleFlat, Label: "👨‍💻", HasLabel: true}},
		{"cache=123", Options{Style: StyleFlat}},
	}
	for _, tc := range good {
		q, _ := url.ParseQuery(tc.query)
		got, err := ParseOptions(q)
		if err != nil || got != tc.want {
			t.Errorf("%q: %+v %v, want %+v", tc.query, got, err, tc.want)
		}
	}
	bad := []string{"style=plastic", "style=FLAT", "style=flat&style=flat", "color=", "color=%23fff", "color=ggg",
		"color=12345", "color=red&color=blue", "label=" + strings.Repeat("x", MaxLabel+1), "label=%00",
		"label=a%0Ab", "label=%E2%80%AE", "label=%FF", "label=a&label=b", "color=rgb(1,2,3)"}
	for _, query := range bad {
		q, _ := url.ParseQuery(query)
		var pe *ParamError
		if _, err := ParseOptions(q); !errors.As(err, &pe) || pe.Message == "" {
			t.Errorf("%q: %v, want a ParamError", query, err)
		}
	}
}

// FuzzParseOptions: any query either parses into options whose badge is
// well-formed XML or is refused with a ParamError.
func FuzzParseOptions(f *testing.F) {
	for _, s := range []string{"", "style=for-the-badge&label=x&color=red", "label=%FF", "label=%3C%26", "color=abc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		o, err := ParseOptions(q)
		if err != nil {
			var pe *ParamError
			if !errors.As(err, &pe) {
				t.Fatalf("%q: %v", raw, err)
			}
			return
		}
		b := Render(o.apply(Badge{Label: "status", Message: "online", Color: "#4c1"}))
		var d svgDoc
		if err := xml.Unmarshal(b, &d); err != nil {
			t.Fatalf("%q: %v\n%s", raw, err, b)
		}
		if o.Style != StyleForTheBadge && o.Label != "" && d.Title != o.Label+": online" {
			t.Fatalf("%q: title %q, want the label %q kept", raw, d.Title, o.Label)
		}
	})
}
