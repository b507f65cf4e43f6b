package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// TestWidgetInChromium loads /widget.js from a page on another origin with
// two <halyard-presence> elements for two users and checks, in headless
// Chromium: both show presences pushed through the demo admin API; a
// Spotify progress bar moves; an element added later for a third user is
// served by the same socket; the page holds exactly one WebSocket; after
// the server restarts on the same port the widget reconnects by itself and
// shows the next change. Screenshots of light, dark and compact elements
// are saved; the time from push to repaint is logged as a figure.
func TestWidgetInChromium(t *testing.T) {
	ctx := newChromium(t, 1000, 900, 4*time.Minute)
	cdn := artStandIn(t)
	env := map[string]string{"DISCORD_CDN_URL": cdn.URL}
	dataDir := t.TempDir()
	m := startDemoAt(t, dataDir, "127.0.0.1:0", 5, env)
	t.Cleanup(func() { m.Close() })
	base := m.URL()
	cl := client{t, base}
	eventually(t, "readyz 200 (members synced)", func() bool { code, _ := cl.do("GET", "/readyz", "", nil); return code == 200 })
	ids := m.Sim.MemberIDs(m.Sim.GuildIDs()[0])
	a, b := ids[0], ids[1]

	// A third user with an avatar decoration, for the compact element.
	const c = "423456789012345678"
	member := fmt.Sprintf(`{"user":{"id":%q,"username":"deco","discriminator":"0","global_name":"Decorated Dana","avatar":"0123456789abcdef0123456789abcdef",
		"avatar_decoration_data":{"asset":"a_fed43ab12698df65902ba06727e20c0e","sku_id":"1144058844004233369","expires_at":null}},"joined_at":"2026-01-01T00:00:00Z"}`, c)
	req, _ := http.NewRequest("POST", base+"/admin/v1/demo/members", strings.NewReader(member))
	req.Header.Set("Authorization", "Bearer test-admin-token")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("adding a member: %v %v", err, resp)
	}
	eventually(t, "the decorated member served", func() bool { code, _ := cl.do("GET", "/v1/users/"+c, "", nil); return code == 200 })

	// Count the page's WebSockets to Halyard as Chromium opens them.
	var sockets atomic.Int32
	if err := chromedp.Listen(ctx, func(ev any) {
		if ws, ok := ev.(*network.EventWebSocketCreated); ok {
			if u, err := url.Parse(ws.URL); err == nil && u.Host == strings.TrimPrefix(base, "http://") {
				sockets.Add(1)
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	page := widgetPage(t, base, fmt.Sprintf(`<halyard-presence id="a" user="%s" theme="light"></halyard-presence>
<halyard-presence id="b" user="%s" theme="dark"></halyard-presence>`, a, b))
	if page.URL == base {
		t.Fatal("the test page must be on another origin")
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(page.URL)); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{a, b} {
		var u struct {
			Data struct {
				DiscordUser map[string]any `json:"discord_user"`
			} `json:"data"`
		}
		_, body := cl.do("GET", "/v1/users/"+id, "", nil)
		if err := json.Unmarshal(body, &u); err != nil {
			t.Fatal(err)
		}
		name, _ := u.Data.DiscordUser["global_name"].(string)
		if name == "" {
			name, _ = u.Data.DiscordUser["username"].(string)
		}
		if name == "" {
			t.Fatalf("no name for %s: %s", id, body)
		}
		el := map[string]string{a: "a", b: "b"}[id]
		waitWidget(t, ctx, el, "the user's name "+name, func(v widgetView) bool { return v.Name == name })
	}

	// One push per user, both shown: A plays, listens to Spotify and has a
	// custom status; B listens to a Spotify local file (no art, no album id)
	// and to another app.
	now := time.Now().UnixMilli()
	pushPresence(t, base, a, "dnd", fmt.Sprintf(`[
		{"id":"custom","name":"Custom Status","type":4,"state":"marker A1 shipping","emoji":{"name":"🚀"},"created_at":%d},
		{"id":"game1","name":"Halyard Quest","type":0,"application_id":"383226320970055681","details":"Level 7","state":"In a party",
		 "assets":{"large_image":"565944799235276820","large_text":"Quest","small_image":"mp:external/abc/https/example.com/x.png","small_text":"Hero"},
		 "timestamps":{"start":%d},"created_at":%d},
		{"id":"spotify:1","name":"Spotify","type":2,"details":"Let Go","state":"Ark Patrol; Veronika Redd","sync_id":"3kdlVcMVsSkbsUy8eQcBjI","flags":48,
		 "party":{"id":"spotify:1"},"assets":{"large_image":"spotify:ab67616d0000b27364840995fe43bb2ec73a241d","large_text":"Let Go"},
		 "timestamps":{"start":%d,"end":%d},"created_at":%d}]`, now, now-754_000, now, now-40_000, now+160_000, now))
	pushPresence(t, base, b, "idle", fmt.Sprintf(`[
		{"id":"spotify:1","name":"Spotify","type":2,"details":"marker B1 demo tape","state":"Local Artist","flags":48,
		 "party":{"id":"spotify:2"},"timestamps":{"start":%d,"end":%d},"created_at":%d},
		{"id":"apple","name":"Apple Music","type":2,"details":"Second Song","state":"Other Artist","created_at":%d}]`, now-10_000, now+200_000, now, now))
	va := waitWidget(t, ctx, "a", "A's pushed presence", func(v widgetView) bool {
		return strings.Contains(v.Custom, "marker A1") && v.Status == "Do Not Disturb" && strings.Contains(v.Activity, "Halyard Quest") && v.Progress >= 0
	})
	vb := waitWidget(t, ctx, "b", "B's pushed presence", func(v widgetView) bool {
		return strings.Contains(v.Listening, "marker B1") && strings.Contains(v.Listening, "Apple Music") && v.Status == "Idle"
	})
	if !strings.Contains(va.Activity, "elapsed") || !strings.Contains(va.Listening, "by Ark Patrol, Veronika Redd") {
		t.Errorf("A's widget: %+v", va)
	}
	if vb.Fallbacks < 2 {
		t.Errorf("B's local file and artless app show %d art fallbacks, want 2: %+v", vb.Fallbacks, vb)
	}
	for _, v := range []widgetView{va, vb} {
		if v.LiveRegs == 0 || v.NoAlt != 0 {
			t.Errorf("accessibility: %d polite live regions, %d images without alt: %+v", v.LiveRegs, v.NoAlt, v)
		}
	}

	// The Spotify bar moves with the clock: read it until it has grown.
	first := va.Progress
	waitWidget(t, ctx, "a", fmt.Sprintf("the progress bar grow past %.2f%%", first), func(v widgetView) bool { return v.Progress > first })

	// An element added later, for a new user, rides the same socket.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(() => {
		const el = document.createElement("halyard-presence");
		el.id = "c"; el.setAttribute("user", %q); el.setAttribute("compact", ""); el.setAttribute("theme", "light");
		document.body.append(el); watch(el);
		const again = document.createElement("halyard-presence");
		again.id = "a2"; again.setAttribute("user", %q); again.setAttribute("hide", "activity,spotify"); again.setAttribute("theme", "dark");
		document.body.append(again); watch(again);
		const auto = document.createElement("halyard-presence");
		auto.id = "auto"; auto.setAttribute("user", %q); auto.setAttribute("compact", "");
		document.body.append(auto);
		return true;
	})()`, c, a, b))); err != nil {
		t.Fatal(err)
	}
	pushPresence(t, base, c, "online", `[{"id":"game2","name":"Compact Crafting","type":0,"created_at":1}]`)
	waitWidget(t, ctx, "c", "the added user", func(v widgetView) bool {
		return v.Name == "Decorated Dana" && strings.Contains(v.Text, "Compact Crafting")
	})
	va2 := waitWidget(t, ctx, "a2", "A again, from the shared state", func(v widgetView) bool { return strings.Contains(v.Custom, "marker A1") })
	if va2.Activity != "" || va2.Listening != "" {
		t.Errorf(`hide="activity,spotify" still shows: %+v`, va2)
	}
	st := m.Lanyard.SocketStats()
	if st.Opened != 1 || st.Open != 1 || sockets.Load() != 1 {
		t.Errorf("one page opened %d Lanyard sockets (%d open; Chromium created %d), want one", st.Opened, st.Open, sockets.Load())
	}

	// Readable contrast in both themes: every text's colour against the
	// card's background, WCAG's ratio, at least 4.5 (AA for body text).
	for _, id := range []string{"a", "b", "c", "a2"} {
		ratio, err := chromedp.Run(ctx, chromedp.Evaluate[float64](fmt.Sprintf(`(() => {
			const r = document.getElementById(%q).shadowRoot;
			const rgb = s => s.match(/[\d.]+/g).slice(0, 3).map(Number);
			const lum = c => { const [R, G, B] = c.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }); return 0.2126 * R + 0.7152 * G + 0.0722 * B; };
			const bg = lum(rgb(getComputedStyle(r.querySelector(".card")).backgroundColor));
			let min = 21;
			for (const e of r.querySelectorAll(".name, .status, .muted, .label, .title, .times, .custom, .line")) {
				if (!e.textContent.trim()) continue;
				const fg = lum(rgb(getComputedStyle(e).color));
				min = Math.min(min, (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05));
			}
			return min;
		})()`, id)))
		if err != nil {
			t.Fatal(err)
		}
		if ratio < 4.5 {
			t.Errorf("widget %s: lowest text contrast %.2f:1, want at least 4.5:1", id, ratio)
		}
		t.Logf("widget %s: lowest text contrast %.1f:1", id, ratio)
	}

	// theme="auto" (the default) follows the reader's colour scheme.
	autoBackground := func() float64 {
		l, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`(() => {
			const c = getComputedStyle(document.getElementById("auto").shadowRoot.querySelector(".card")).backgroundColor;
			const [r, g, b] = c.match(/[\d.]+/g).map(Number);
			return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	for _, scheme := range []string{"dark", "light"} {
		if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}}); err != nil {
			t.Fatal(err)
		}
		if l := autoBackground(); (scheme == "dark") != (l < 0.5) {
			t.Errorf("theme auto under prefers-color-scheme: %s: card luminance %.2f", scheme, l)
		}
	}

	// Screenshots: light, dark, compact.
	dir := artifactDir(t)
	for _, shot := range []struct{ id, name string }{{"a", "widget-light"}, {"b", "widget-dark"}, {"c", "widget-compact"}, {"a2", "widget-dark-hidden"}} {
		buf, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.ID(shot.id)))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, shot.name+".png")
		if err := os.WriteFile(path, buf, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s (%d bytes)", path, len(buf))
	}

	// Figure: from the push (HTTP request sent) to the first frame painted
	// with it, through simulator → bot → hub → socket → widget.
	var lat []float64
	for i := range 20 {
		marker := fmt.Sprintf("repaint %d", i)
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`window.__painted = 0; window.__want = %q; true`, marker))); err != nil {
			t.Fatal(err)
		}
		pushed := float64(time.Now().UnixNano()) / 1e6
		pushPresence(t, base, b, "online", fmt.Sprintf(`[{"id":"custom","name":"Custom Status","type":4,"state":%q}]`, marker))
		deadline := time.Now().Add(30 * time.Second)
		for {
			painted, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`window.__painted`))
			if err != nil {
				t.Fatal(err)
			}
			if painted > 0 {
				lat = append(lat, painted-pushed)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%q never painted", marker)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	slices.Sort(lat)
	t.Logf("push to repaint in Chromium over %d pushes: median %.1f ms, p90 %.1f ms, max %.1f ms",
		len(lat), lat[len(lat)/2], lat[len(lat)*9/10], lat[len(lat)-1])

	// Restart on the same port: the widget reconnects by itself.
	addr := m.Server.Addr()
	if err := m.Close(); err != nil {
		t.Logf("closing: %v", err)
	}
	m = startDemoAt(t, dataDir, addr, 5, env)
	eventually(t, "readyz 200 after the restart", func() bool { code, _ := cl.do("GET", "/readyz", "", nil); return code == 200 })
	waitFor(t, "the widget's socket back on the restarted server", func() bool { return m.Lanyard.SocketStats().Open == 1 })
	pushPresence(t, base, b, "dnd", `[{"id":"custom","name":"Custom Status","type":4,"state":"marker B2 after restart"}]`)
	waitWidget(t, ctx, "b", "the change after the restart", func(v widgetView) bool {
		return strings.Contains(v.Custom, "marker B2") && v.Status == "Do Not Disturb"
	})
	if st := m.Lanyard.SocketStats(); st.Opened != 1 {
		t.Errorf("after the restart the page opened %d sockets, want one", st.Opened)
	}

	// The landing page, as Chromium asks for / (HTML first): its example widget renders.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("snippet"))); err != nil {
		t.Fatal(err)
	}
	var rendered bool
	waitFor(t, "the landing page's example widget", func() bool {
		rendered, _ = chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const el = document.querySelector("halyard-presence"); return !!(el && el.shadowRoot && el.shadowRoot.querySelector(".name")); })()`))
		return rendered
	})
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "landing.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s (%d bytes)", path, len(shot))
}

// TestWidgetRESTFallback puts the widget behind a proxy that refuses
// WebSocket upgrades (as some corporate proxies do): the element, pointed
// there by its api attribute, still shows the user over REST.
func TestWidgetRESTFallback(t *testing.T) {
	ctx := newChromium(t, 1000, 900, 4*time.Minute)
	m := startDemoWith(t, 3, nil)
	cl := client{t, m.URL()}
	eventually(t, "readyz 200 (members synced)", func() bool { code, _ := cl.do("GET", "/readyz", "", nil); return code == 200 })
	id := m.Sim.MemberIDs(m.Sim.GuildIDs()[0])[0]
	target, _ := url.Parse(m.URL())
	proxy := httputil.NewSingleHostReverseProxy(target)
	var refused atomic.Int32
	blocking := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			refused.Add(1)
			http.Error(w, "no websockets here", http.StatusForbidden)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(blocking.Close)
	pushPresence(t, m.URL(), id, "dnd", `[{"id":"custom","name":"Custom Status","type":4,"state":"marker over REST"}]`)
	page := widgetPage(t, m.URL(), fmt.Sprintf(`<halyard-presence id="r" user="%s" api="%s"></halyard-presence>`, id, blocking.URL))
	if err := chromedp.Do(ctx, chromedp.Navigate(page.URL)); err != nil {
		t.Fatal(err)
	}
	waitWidget(t, ctx, "r", "the presence over REST", func(v widgetView) bool {
		return strings.Contains(v.Custom, "marker over REST") && v.Status == "Do Not Disturb"
	})
	if refused.Load() < 3 {
		t.Errorf("the proxy refused %d upgrades; the widget fell back before three tries", refused.Load())
	}
	if st := m.Lanyard.SocketStats(); st.Opened != 0 {
		t.Errorf("%d sockets reached Halyard through a proxy that refuses them", st.Opened)
	}
}
