package landing

import "testing"

func TestPrefersHTML(t *testing.T) {
	cases := []struct {
		accept []string
		want   bool
	}{
		// Browsers.
		{[]string{"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"}, true}, // Chromium
		{[]string{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}, true},                       // Firefox
		{[]string{"application/xhtml+xml"}, true},
		{[]string{"text/html"}, true},
		{[]string{"TEXT/HTML; charset=utf-8"}, true},
		{[]string{"text/html, application/json"}, true},
		{[]string{"text/html", "application/json"}, true}, // two header lines, HTML first
		{[]string{"application/json;q=0.5, text/html"}, true},
		{[]string{"text/html, application/json;q=0"}, true},
		// API clients, and everything else.
		{nil, false},
		{[]string{""}, false},
		{[]string{"*/*"}, false},
		{[]string{"application/json"}, false},
		{[]string{"application/json, text/html"}, false},
		{[]string{"application/json", "text/html"}, false},
		{[]string{"text/html;q=0.5, application/json"}, false},
		{[]string{"text/html;q=0.5, */*"}, false},
		{[]string{"application/*, text/html"}, false},
		{[]string{"text/html;q=0"}, false},
		{[]string{"text/html;q=bad"}, false},
		{[]string{"text/html;q=2"}, false},
		{[]string{"text/*"}, false}, // HTML only by a wildcard: not a browser asking for the page
		{[]string{"text/plain"}, false},
		{[]string{",,,;;;"}, false},
	}
	for _, c := range cases {
		if got := PrefersHTML(c.accept); got != c.want {
			t.Errorf("Accept %q: PrefersHTML = %v, want %v", c.accept, got, c.want)
		}
	}
}

func FuzzPrefersHTML(f *testing.F) {
	f.Add("text/html,*/*;q=0.8")
	f.Add("application/json;q=0.9, text/html;q=0.9")
	f.Fuzz(func(t *testing.T, accept string) {
		_ = PrefersHTML([]string{accept}) // never panics
		// JSON listed first at q=1: HTML can at best tie, and ties go to the first listed.
		if PrefersHTML([]string{"application/json", accept}) {
			t.Fatalf("HTML chosen over a JSON listed first, with %q", accept)
		}
	})
}
