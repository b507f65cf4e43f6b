package main

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// badgeSVG is what the test reads back from a badge.
type badgeSVG struct {
	Height string   `xml:"height,attr"`
	Title  string   `xml:"title"`
	Texts  []string `xml:"g>text"`
	Rects  []struct {
		Fill string `xml:"fill,attr"`
	} `xml:"g>rect"`
}

type badgeAnswer struct {
	status int
	header http.Header
	body   []byte
	svg    badgeSVG
}

// getBadge fetches a badge and parses it as XML: every answer, errors
// included, must be a well-formed SVG.
func getBadge(t *testing.T, base, path string, header map[string]string) badgeAnswer {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	a := badgeAnswer{status: resp.StatusCode, header: resp.Header, body: body}
	if resp.StatusCode == http.StatusNotModified {
		return a
	}
	if ct := resp.Header.Get("Content-Type"); ct != "image/svg+xml" {
		t.Fatalf("GET %s: %d Content-Type %q: %s", path, resp.StatusCode, ct, body)
	}
	if err := xml.Unmarshal(body, &a.svg); err != nil {
		t.Fatalf("GET %s: not well-formed SVG: %v\n%s", path, err, body)
	}
	return a
}

// TestBadgesEndToEnd: every kind of badge shows the presence pushed
// through the gateway, in every style, with the label and colour
// overrides, revalidates with its ETag, and bad requests get the
// documented 4xx — an SVG badge saying what was wrong — never a 5xx.
func TestBadgesEndToEnd(t *testing.T) {
	m := startDemoWith(t, 3, nil)
	c := client{t, m.URL()}
	waitReady(c)
	target := m.Sim.MemberIDs(m.Sim.GuildIDs()[0])[0]

	type want struct{ status, activity, listening, custom string }
	steps := []struct {
		presence string
		want     want
	}{
		{`"status":"online","activities":[
			{"name":"Visual Studio Code","type":0,"created_at":1},
			{"id":"spotify:1","name":"Spotify","type":2,"state":"Artist A; B","details":"Song <&>","sync_id":"x","created_at":1},
			{"id":"custom","name":"Custom Status","type":4,"state":"coding","emoji":{"name":"🔥"},"created_at":1}]`,
			want{"status: online", "playing: Visual Studio Code", "listening: Artist A; B – Song <&>", "custom status: 🔥 coding"}},
		{`"status":"idle","activities":[
			{"name":"Apple Music","type":2,"state":"Some Artist","details":"A Track","created_at":1},
			{"id":"custom","name":"Custom Status","type":4,"emoji":{"name":"pepe","id":"123456789012345678"},"created_at":1}]`,
			want{"status: idle", "listening to: Apple Music", "listening: Some Artist – A Track", "custom status: :pepe:"}},
		{`"status":"dnd","activities":[]`,
			want{"status: dnd", "activity: none", "listening: not listening", "custom status: none"}},
	}
	for i, step := range steps {
		presence := fmt.Sprintf(`{"user":{"id":%q},"client_status":{"desktop":"online"},%s}`, target, step.presence)
		if code, b := c.do("POST", "/admin/v1/demo/presence", e2eAdmin, []byte(presence)); code != 202 {
			t.Fatalf("step %d: demo presence %d %s", i, code, b)
		}
		eventually(t, fmt.Sprintf("step %d's status badge", i), func() bool {
			return getBadge(t, m.URL(), "/badge/"+target+"/status.svg", nil).svg.Title == step.want.status
		})
		for kind, title := range map[string]string{"status": step.want.status, "activity": step.want.activity,
			"listening": step.want.listening, "custom": step.want.custom} {
			a := getBadge(t, m.URL(), "/badge/"+target+"/"+kind+".svg", nil)
			label, message, _ := strings.Cut(title, ": ")
			if a.status != 200 || a.svg.Title != title || !containsText(a.svg.Texts, label) || !containsText(a.svg.Texts, message) {
				t.Errorf("step %d %s: %d title %q texts %q, want %q", i, kind, a.status, a.svg.Title, a.svg.Texts, title)
			}
			if a.header.Get("Cache-Control") != "public, max-age=30" || !strings.HasPrefix(a.header.Get("ETag"), `"`) {
				t.Errorf("step %d %s: Cache-Control %q ETag %q", i, kind, a.header.Get("Cache-Control"), a.header.Get("ETag"))
			}
		}
	}

	// Styles and overrides (the user is dnd now).
	for _, tc := range []struct {
		query, title, height, fill string
	}{
		{"style=flat", "status: dnd", "20", "#e05d44"},
		{"style=flat-square", "status: dnd", "20", "#e05d44"},
		{"style=for-the-badge", "STATUS: DND", "28", "#e05d44"},
		{"label=Discord&color=ff69b4", "Discord: dnd", "20", "#ff69b4"},
		{"label=&color=blue", "dnd", "20", "#007ec6"},
		{"style=for-the-badge&label=me&color=abc", "ME: DND", "28", "#abc"},
	} {
		a := getBadge(t, m.URL(), "/badge/"+target+"/status.svg?"+tc.query, nil)
		if a.status != 200 || a.svg.Title != tc.title || a.svg.Height != tc.height || !hasFill(a.svg, tc.fill) {
			t.Errorf("?%s: %d title %q height %s rects %v, want %q %s %s", tc.query, a.status, a.svg.Title, a.svg.Height, a.svg.Rects, tc.title, tc.height, tc.fill)
		}
	}

	// ETag: the same badge revalidates to 304; a change makes a new one.
	first := getBadge(t, m.URL(), "/badge/"+target+"/custom.svg", nil)
	tag := first.header.Get("ETag")
	if a := getBadge(t, m.URL(), "/badge/"+target+"/custom.svg", map[string]string{"If-None-Match": tag}); a.status != 304 || len(a.body) != 0 || a.header.Get("ETag") != tag {
		t.Fatalf("If-None-Match: %d %q %s", a.status, a.header.Get("ETag"), a.body)
	}
	if a := getBadge(t, m.URL(), "/badge/"+target+"/custom.svg", map[string]string{"If-None-Match": `"other", W/` + tag}); a.status != 304 {
		t.Fatalf("If-None-Match with a list: %d", a.status)
	}
	pushCustomStatus(c, target, "online", "etag test")
	eventually(t, "the custom badge changed", func() bool {
		a := getBadge(t, m.URL(), "/badge/"+target+"/custom.svg", map[string]string{"If-None-Match": tag})
		return a.status == 200 && a.header.Get("ETag") != tag && a.svg.Title == "custom status: etag test"
	})

	// Bad requests: the documented 4xx, as a badge.
	for _, tc := range []struct {
		path   string
		status int
		says   string
	}{
		{"/badge/abc/status.svg", 400, "snowflake"},
		{"/badge/99999999999999999999/status.svg", 400, "snowflake"},
		{"/badge/" + target + "/nope.svg", 400, "badge must be"},
		{"/badge/" + target + "/status.png", 400, "badge must be"},
		{"/badge/" + target + "/status.svg?style=plastic", 400, "style"},
		{"/badge/" + target + "/status.svg?color=ggg", 400, "color"},
		{"/badge/" + target + "/status.svg?color=%23fff", 400, "color"},
		{"/badge/" + target + "/status.svg?color=", 400, "color"},
		{"/badge/" + target + "/status.svg?label=" + strings.Repeat("x", 65), 400, "label"},
		{"/badge/" + target + "/status.svg?label=a%00b", 400, "label"},
		{"/badge/" + target + "/status.svg?label=%E2%80%AEevil", 400, "label"},
		{"/badge/" + target + "/status.svg?label=%FF", 400, "label"},
		{"/badge/" + target + "/status.svg?style=flat&style=flat", 400, "more than once"},
		{"/badge/323456789012345678/status.svg", 404, "not monitored"},
		{"/badge/323456789012345678/listening.svg?style=for-the-badge", 404, "NOT MONITORED"},
		{"/badge/", 404, "no such badge"},
		{"/badge/" + target, 404, "no such badge"},
		{"/badge/" + target + "/status.svg/extra", 400, "badge must be"},
	} {
		a := getBadge(t, m.URL(), tc.path, nil)
		if a.status != tc.status || !strings.Contains(a.svg.Title, tc.says) {
			t.Errorf("GET %s: %d %q, want %d saying %q", tc.path, a.status, a.svg.Title, tc.status, tc.says)
		}
	}
	req, _ := http.NewRequest("POST", m.URL()+"/badge/"+target+"/status.svg", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode >= 500 || resp.StatusCode < 400 {
		t.Errorf("POST a badge: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}

func containsText(texts []string, s string) bool {
	for _, t := range texts {
		if t == s || t == strings.ToUpper(s) {
			return true
		}
	}
	return false
}

func hasFill(d badgeSVG, fill string) bool {
	for _, r := range d.Rects {
		if r.Fill == fill {
			return true
		}
	}
	return false
}
