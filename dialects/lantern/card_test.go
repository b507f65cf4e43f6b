package lantern

import (
	"context"
	"encoding/xml"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
)

// TestCardOptions is the parameter table of docs/compat/lantern.md §4.1 as decided in §9 (#7:
// texts are plain strings; #9: borderRadius honoured as written, 0 too,
// negatives clamped).
func TestCardOptions(t *testing.T) {
	def := cardOptions{Theme: "dark", BorderRadius: 2, NoActivityTitle: "No Activity",
		NoActivityMessage: "User is not currently doing anything."}
	with := func(f func(*cardOptions)) cardOptions { o := def; f(&o); return o }
	tests := []struct {
		query string
		want  cardOptions
	}{
		{"", def},
		{"svg=1", def},
		{"theme=dark", def},
		{"theme=light", with(func(o *cardOptions) { o.Theme = "light" })},
		{"borderRadius=5", with(func(o *cardOptions) { o.BorderRadius = 5 })},
		{"borderRadius=0", with(func(o *cardOptions) { o.BorderRadius = 0 })},
		{"borderRadius=0.5", with(func(o *cardOptions) { o.BorderRadius = 0.5 })},
		{"borderRadius=.5", with(func(o *cardOptions) { o.BorderRadius = 0.5 })},
		{"borderRadius=1.9", with(func(o *cardOptions) { o.BorderRadius = 1.9 })},
		{"borderRadius=%2B3", with(func(o *cardOptions) { o.BorderRadius = 3 })},
		{"borderRadius=-4", with(func(o *cardOptions) { o.BorderRadius = 0 })},
		{"borderRadius=" + strings.Repeat("9", 400), with(func(o *cardOptions) { o.BorderRadius = cardMaxBorderRadius })},
		{"borderRadius=3&borderRadius=4", with(func(o *cardOptions) { o.BorderRadius = 3 })},
		{"hideGlobalName=1&hideStatus=1&hideBadges=1", with(func(o *cardOptions) {
			o.HideGlobalName, o.HideStatus, o.HideBadges = true, true, true
		})},
		{"hideActivity=1&hideLastSeen=1&hideServerTag=1", with(func(o *cardOptions) {
			o.HideActivity, o.HideLastSeen, o.HideServerTag = true, true, true
		})},
		{"hideStatus=0&hideBadges=0", def},
		{"noActivityTitle=0+games&noActivityMessage=1st+place", with(func(o *cardOptions) {
			o.NoActivityTitle, o.NoActivityMessage = "0 games", "1st place"
		})},
		{"noActivityTitle=1", with(func(o *cardOptions) { o.NoActivityTitle = "1" })},
		{"unknown=1&Theme=light", def},
	}
	for _, tc := range tests {
		if got := parseCardOptions(parseQuery(tc.query)); got != tc.want {
			t.Errorf("%q:\n got %+v\nwant %+v", tc.query, got, tc.want)
		}
	}
}

// renderFixture draws one fixture user against the stand-in image server.
func renderFixture(t *testing.T, u *core.User, query string) string {
	t.Helper()
	srv := newImageServer(t, nil)
	return string(srv.renderer(CardImageOptions{}).render(context.Background(), u, parseCardOptions(parseQuery(query))))
}

// wellFormed fails unless svg is one well-formed XML document.
func wellFormed(t *testing.T, what, svg string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	d.Strict = true
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: not well-formed XML: %v", what, err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
				if tok.Name.Local != "svg" || tok.Name.Space != "http://www.w3.org/2000/svg" {
					t.Fatalf("%s: root is %v", what, tok.Name)
				}
			}
			depth++
		case xml.EndElement:
			depth--
		}
	}
	if roots != 1 || depth != 0 {
		t.Fatalf("%s: %d roots, depth %d at the end", what, roots, depth)
	}
}

// TestCardWellFormed decodes every fixture under every option as XML.
func TestCardWellFormed(t *testing.T) {
	users := map[string]*core.User{
		"spotify": cardUserOnlineSpotify(), "offline": cardUserOffline(),
		"dnd": cardUserDNDGame(), "hostile": cardUserHostile(),
		"bare": {ID: "555555555555555555", Discord: core.ProfileOf(core.DiscordUser{Raw: []byte(`not json`)})},
	}
	queries := []string{"", "theme=light", "hideGlobalName=1&hideStatus=1&hideBadges=1&hideActivity=1&hideLastSeen=1&hideServerTag=1",
		"noActivityTitle=%3C%2Fdiv%3E&noActivityMessage=%26%00%3C!--", "borderRadius=0"}
	srv := newImageServer(t, nil)
	r := srv.renderer(CardImageOptions{})
	for name, u := range users {
		for _, q := range queries {
			svg := string(r.render(context.Background(), u, parseCardOptions(parseQuery(q))))
			wellFormed(t, name+"?"+q, svg)
			if !strings.HasPrefix(svg, "\n<svg ") {
				t.Errorf("%s?%s: the body starts %q", name, q, svg[:10])
			}
		}
	}
}

// TestCardEscaping: hostile names and activity texts are escaped as
// he.escape does and never become markup (docs/compat/lantern.md §4.3).
func TestCardEscaping(t *testing.T) {
	svg := renderFixture(t, cardUserOnlineSpotify(), "")
	if !strings.Contains(svg, "Alice &lt;&amp;&gt;") {
		t.Error("global name Alice <&> is not drawn as Alice &lt;&amp;&gt;")
	}
	svg = renderFixture(t, cardUserHostile(), "")
	for _, want := range []string{
		"@b&lt;o&gt;b&quot;&#x27;&#x60;&amp;amp;]]&gt;",                           // username: no NUL, ESC, U+FFFE
		"&lt;/div&gt;&lt;/foreignObject&gt;&lt;script&gt;alert(1)&lt;/script&gt;", // activity name
		"&lt;![CDATA[x]]&gt; &amp; \uFFFD\uFFFD",                                  // details, invalid UTF-8 replaced
		"&lt;img src=x onerror=alert(1)&gt;",                                      // state
		`alt="b&lt;o&gt;b&quot;&#x27;&#x60;&amp;amp;]]&gt;'s avatar"`,
	} {
		if !strings.Contains(svg, want) {
			t.Errorf("card lacks %q", want)
		}
	}
	for _, bad := range []string{"<script", "<img src=x", "\x00", "\x1b", "\uFFFE"} {
		if strings.Contains(svg, bad) {
			t.Errorf("card contains %q", bad)
		}
	}
}

// TestCardContent covers docs/compat/lantern.md §4.3–§4.6 on the drawn card.
func TestCardContent(t *testing.T) {
	count := func(svg, s string) int { return strings.Count(svg, s) }
	tests := []struct {
		name  string
		user  *core.User
		query string
		has   []string
		lacks []string
	}{
		{"56 dark default", cardUserOnlineSpotify(), "",
			[]string{`width="1000" height="300"`, "<foreignObject", "background-color: #17171c", "color: #ffffff", "Powered by lantern.rest"}, nil},
		{"56 light", cardUserOnlineSpotify(), "theme=light",
			[]string{"background-color: #e6e6e6", "background-color: #dcdcdc", "background-color: #d5d5d5", "color: #242a31", "color: #6c757d"},
			[]string{"#17171c"}},
		{"57 borderRadius=5", cardUserOffline(), "borderRadius=5", []string{"border-radius: 5rem; padding: .75rem;"}, nil},
		{"borderRadius=0 honoured", cardUserOffline(), "borderRadius=0", []string{"border-radius: 0rem; padding: .75rem;"}, nil},
		{"default radius", cardUserOffline(), "", []string{"border-radius: 2rem; padding: .75rem;"}, nil},
		{"badges in flag order", cardUserOnlineSpotify(), "",
			[]string{`alt="Badge HypeSquadOnlineHouse1"`, `alt="Badge PremiumEarlySupporter"`, `alt="Badge VerifiedDeveloper"`, `alt="Badge ActiveDeveloper"`}, nil},
		{"60 hideStatus", cardUserOnlineSpotify(), "hideStatus=1", nil, []string{`alt="Status"`}},
		{"60 hideBadges", cardUserOnlineSpotify(), "hideBadges=1", nil, []string{`alt="Badge`}},
		{"60 hideActivity", cardUserOnlineSpotify(), "hideActivity=1",
			[]string{"No Activity", "User is not currently doing anything."}, []string{"Spotify", "elapsed"}},
		{"61 no activity texts", cardUserOffline(), "noActivityTitle=Quiet&noActivityMessage=Gone+fishing",
			[]string{">Quiet<", ">Gone fishing<"}, nil},
		{"62 last seen", cardUserOffline(), "", []string{"Last seen about 3 hours ago"}, nil},
		{"62 hideLastSeen", cardUserOffline(), "hideLastSeen=1", nil, []string{"Last seen"}},
		{"63 first non-custom activity", cardUserOnlineSpotify(), "",
			[]string{">Spotify<", "Never Gonna Give You Up", "Rick Astley; Someone Else", "01:05 elapsed", "data:image/jpeg;base64,"},
			[]string{"hello world"}},
		{"server tag chip", cardUserOnlineSpotify(), "", []string{"GGEZ", `alt="Server tag icon"`, "background-color: #2c2c33"}, nil},
		{"hideServerTag", cardUserOnlineSpotify(), "hideServerTag=1", nil, []string{"GGEZ"}},
		{"hideGlobalName keeps the chip", cardUserOnlineSpotify(), "hideGlobalName=1",
			[]string{"font-size: 1.125rem; font-weight: 600", "GGEZ"}, []string{"Alice"}},
		{"avatar inlined as its real type", cardUserOnlineSpotify(), "", []string{`'s avatar" width="100" height="100"`, "data:image/png;base64,iVBOR"}, nil},
		{"dnd icon from the desktop platform", cardUserDNDGame(), "", []string{statusIconURI[core.StatusDND]}, nil},
		{"small image", cardUserDNDGame(), "", []string{`alt="Small image"`, `alt="Large image"`, "05:07 elapsed"}, nil},
		{"64 no global name, Staff/VerifiedBot, no timestamps", cardUserHostile(), "",
			[]string{statusIconURI[core.StatusIdle]}, []string{"Badge", "elapsed", `alt="Large image"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			svg := renderFixture(t, tc.user, tc.query)
			for _, s := range tc.has {
				if count(svg, s) == 0 {
					t.Errorf("card lacks %q", s)
				}
			}
			for _, s := range tc.lacks {
				if count(svg, s) != 0 {
					t.Errorf("card has %q", s)
				}
			}
		})
	}
}

// TestCardNeverFails: a snapshot that makes drawing panic still gets a
// well-formed card.
func TestCardNeverFails(t *testing.T) {
	srv := newImageServer(t, nil)
	svg := srv.renderer(CardImageOptions{}).render(context.Background(), nil, parseCardOptions(nil))
	wellFormed(t, "nil user", string(svg))
}

// TestCardHTTP runs the card through the real server and route (docs/compat/lantern.md §4.2,
// §2.4), the images coming from the stand-in.
func TestCardHTTP(t *testing.T) {
	s := newTestServer(t, nil)
	srv := newImageServer(t, nil)
	s.dialect.card = srv.renderer(CardImageOptions{})
	id := s.member(`{"id":"`+idA+`","username":"alice","discriminator":"0","global_name":null,"avatar":null,"public_flags":1}`,
		&core.Presence{Status: core.StatusOnline, ClientStatus: &core.ClientStatus{Web: core.StatusOnline}})

	r := s.do("GET", "/api/v1/users/"+id+"?svg=1&borderRadius=5", "")
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	for k, want := range map[string]string{
		"Content-Type":            "image/svg+xml; charset=utf-8",
		"Cache-Control":           "no-store, no-cache, must-revalidate, proxy-revalidate",
		"Content-Security-Policy": "default-src 'none'; img-src * data:; style-src 'unsafe-inline'",
	} {
		if got := r.header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	body := string(r.body)
	wellFormed(t, "HTTP card", body)
	if !strings.Contains(body, "border-radius: 5rem") || !strings.Contains(body, "@alice") {
		t.Error("card lacks the radius or the username")
	}
	if srv.count("/embed/avatars/"+defaultAvatarPath(id)) != 1 {
		t.Errorf("default avatar fetched %d times", srv.count("/embed/avatars/"+defaultAvatarPath(id)))
	}

	for _, tc := range []struct{ query, body string }{
		{"?svg=true", errorsBody("svg must be a number.")},
		{"?svg=2", errorsBody("svg must be either 0 or 1.")},
		{"?svg=1&theme=blue", errorsBody(`Theme must be either "light" or "dark".`)},
		{"?svg=1&borderRadius=big", errorsBody("borderRadius must be a number.")},
		{"?svg=1&hideStatus=yes", errorsBody("hideStatus must be a number.")},
		{"?svg=1&noActivityTitle=", errorsBody("noActivityTitle must be 1-64 characters long.")},
	} {
		r := s.do("GET", "/api/v1/users/"+id+tc.query, "")
		if r.status != 400 || string(r.body) != tc.body {
			t.Errorf("%s: %d %s, want 400 %s", tc.query, r.status, r.body, tc.body)
		}
	}
}

func secs(n int64) time.Duration { return time.Duration(n) * time.Second }

func defaultAvatarPath(id string) string {
	return string(rune('0'+defaultAvatarIndex(id, "0"))) + ".png"
}

// TestCardElapsedAndDistance checks the two clocks of the card.
func TestCardElapsedAndDistance(t *testing.T) {
	now := cardNow
	for _, tc := range []struct {
		ago  int64 // seconds
		want string
	}{{0, "00:00 elapsed"}, {65, "01:05 elapsed"}, {3723, "02:03 elapsed"}, {-5, "00:00 elapsed"}} {
		if got := cardElapsed(now.UnixMilli()-tc.ago*1000, now); got != tc.want {
			t.Errorf("%d s: %q, want %q", tc.ago, got, tc.want)
		}
	}
	minute := int64(60)
	for _, tc := range []struct {
		ago  int64 // seconds
		want string
	}{
		{0, "less than a minute ago"}, {29, "less than a minute ago"}, {30, "1 minute ago"},
		{5 * minute, "5 minutes ago"}, {44 * minute, "44 minutes ago"}, {45 * minute, "about 1 hour ago"},
		{89 * minute, "about 1 hour ago"}, {90 * minute, "about 2 hours ago"}, {3 * 60 * minute, "about 3 hours ago"},
		{24 * 60 * minute, "1 day ago"}, {42 * 60 * minute, "2 days ago"}, {29 * 24 * 60 * minute, "29 days ago"},
		{30 * 24 * 60 * minute, "about 1 month ago"}, {59 * 24 * 60 * minute, "about 2 months ago"},
		{90 * 24 * 60 * minute, "3 months ago"}, {400 * 24 * 60 * minute, "about 1 year ago"},
		{550 * 24 * 60 * minute, "over 1 year ago"}, {700 * 24 * 60 * minute, "almost 2 years ago"},
		{-5 * minute, "in 5 minutes"},
	} {
		if got := cardFormatDistance(now.Add(-secs(tc.ago)), now); got != tc.want {
			t.Errorf("%d s ago: %q, want %q", tc.ago, got, tc.want)
		}
	}
}

// TestCardDrawingsAreSVG: the status icons and badges are our own SVGs,
// inlined, never fetched.
func TestCardDrawingsAreSVG(t *testing.T) {
	re := regexp.MustCompile(`^data:image/svg\+xml;base64,[A-Za-z0-9+/]+=*$`)
	for s, uri := range statusIconURI {
		if !re.MatchString(uri) {
			t.Errorf("status %s: %.40s", s, uri)
		}
		wellFormed(t, string(s), statusIconSVG[s])
	}
	for name, uri := range badgeURI {
		if !re.MatchString(uri) {
			t.Errorf("badge %s: %.40s", name, uri)
		}
		wellFormed(t, name, badgeSVG[name])
	}
	if len(badgeURI) != 11 || len(statusIconURI) != 4 {
		t.Errorf("%d badges, %d status icons", len(badgeURI), len(statusIconURI))
	}
	wellFormed(t, "fallback avatar", fallbackAvatarSVG(3))
	wellFormed(t, "placeholder", placeholderGlyph("#999999"))
}
