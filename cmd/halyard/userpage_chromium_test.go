package main

import (
	"fmt"
	"html"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestUserPage: /u/:id of the real server. Over plain HTTP: the unfurl
// <meta> tags, the KV escaped, 404 pages for unknown and malformed ids.
// In headless Chromium (as TestDocsInChromium): after a scripted day of
// an opted-in user, the page's script draws the timeline as SVG (a status
// bar per interval, a bar per activity interval, a tick per day) and
// lists the time per activity; a user without history gets the private
// note. Screenshots go to the test's temp dir (and $HALYARD_USERPAGE_SHOTS
// when set).
func TestUserPage(t *testing.T) {
	dataDir := t.TempDir()
	t0 := time.Now().UTC().Truncate(time.Hour).Add(-24 * time.Hour)
	clock := &testClock{t: t0}
	m := startHistoryDemo(t, dataDir, 10, clock)
	defer m.Close()
	c := client{t, m.URL()}
	ids := m.Sim.MemberIDs(m.Sim.GuildIDs()[0])
	alice, bob := ids[1], ids[2]
	for _, id := range []string{alice, bob} {
		pushDemoPresence(t, c, id, "online", `[`+custom+`]`)
	}
	eventually(t, "both online", func() bool {
		for _, id := range []string{alice, bob} {
			if _, b := c.do("GET", "/v1/users/"+id, "", nil); !strings.Contains(string(b), `"discord_status":"online"`) {
				return false
			}
		}
		return true
	})
	if r := (botChat{t, m, c, alice}).dm(".history on"); !strings.Contains(r.Content, "**on**") {
		t.Fatalf(".history on: %q", r.Content)
	}
	playDay(t, c, clock, alice, t0)
	end := t0.Add(24 * time.Hour)
	clock.Set(end)

	// Public KV with markup in it: shown as text.
	token := strings.TrimSpace(runAdminCLI(t, m.URL(), "", "token", "issue", alice).ok(t).stdout)
	evil := `<img src=x onerror="document.title='owned'">`
	for _, kv := range [][2]string{{"location", "Zürich"}, {"bio", evil}} {
		if code, b := c.do("PUT", "/v1/users/"+alice+"/kv/"+kv[0], token, []byte(kv[1])); code != http.StatusNoContent {
			t.Fatalf("PUT kv: %d %s", code, b)
		}
	}

	// Plain HTTP: status, type, unfurl tags, escaping.
	resp, err := http.Get(m.URL() + "/u/" + alice)
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, resp)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("/u/alice: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	u, _ := m.Hub.Get(alice)
	meta := map[string]string{}
	for _, mm := range regexp.MustCompile(`<meta (?:property|name)="([^"]+)" content="([^"]*)">`).FindAllStringSubmatch(body, -1) {
		meta[mm[1]] = html.UnescapeString(mm[2])
	}
	name := u.Discord.GlobalName()
	if name == "" {
		name = u.Discord.Username()
	}
	wantAvatar := "https://cdn.discordapp.com/embed/avatars/"
	if u.Discord.Avatar() != "" {
		wantAvatar = "https://cdn.discordapp.com/avatars/" + alice + "/" + u.Discord.Avatar()
	}
	if !strings.HasPrefix(meta["og:title"], name) || !strings.HasPrefix(meta["og:image"], wantAvatar) ||
		meta["twitter:card"] != "summary" || meta["og:url"] != m.Config.HTTP.ExternalURL+"/u/"+alice ||
		!strings.Contains(meta["og:description"], name+" is online") || meta["og:type"] != "profile" {
		t.Fatalf("unfurl tags %v (name %q, avatar %q)", meta, name, wantAvatar)
	}
	if strings.Contains(body, evil) || !strings.Contains(body, html.EscapeString(evil)) && !strings.Contains(body, "&lt;img src=x onerror=&#34;") {
		t.Fatalf("the KV value is not escaped in the page")
	}
	if !strings.Contains(body, `<script src="/widget.js"></script>`) || !strings.Contains(body, `<halyard-presence user="`+alice+`">`) {
		t.Fatal("the page does not include the live widget")
	}
	for _, id := range []string{"1", "abc", "%3Cscript%3Ealert(1)%3C%2Fscript%3E", strings.Repeat("9", 40)} {
		resp, err := http.Get(m.URL() + "/u/" + id)
		if err != nil {
			t.Fatal(err)
		}
		b := readAll(t, resp)
		if resp.StatusCode != 404 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(b, `id="not-found"`) || strings.Contains(b, "<script>alert") {
			t.Errorf("/u/%s: %d %s\n%s", id, resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
	}

	ctx := newChromium(t, 1100, 900, 90*time.Second, chromedp.Env("TZ=UTC")) // day ticks at UTC midnights, as counted below

	if err := chromedp.Do(ctx, chromedp.Navigate(m.URL()+"/u/"+alice),
		chromedp.WaitReady(`#history[data-drawn="true"]`)); err != nil {
		t.Fatalf("opening /u/alice: %v", err)
	}
	type drawn struct {
		Statuses   []string `json:"statuses"`
		Activities []string `json:"activities"`
		Lanes      []string `json:"lanes"`
		Ticks      int      `json:"ticks"`
		Totals     []string `json:"totals"`
		Title      string   `json:"title"`
		KV         []string `json:"kv"`
		Images     int      `json:"images"`
	}
	page, err := chromedp.Run(ctx, chromedp.Evaluate[drawn](`(() => {
		const svg = document.querySelector("#timeline");
		return {
			statuses: [...svg.querySelectorAll("rect.status")].map(r => r.dataset.status),
			activities: [...svg.querySelectorAll("rect.activity")].map(r => r.dataset.name),
			lanes: [...svg.querySelectorAll("text.lane-label")].map(t => t.textContent),
			ticks: svg.querySelectorAll(".tick line").length,
			totals: [...document.querySelectorAll("#totals li")].map(li => li.dataset.name + "=" + li.dataset.ms),
			title: document.title,
			kv: [...document.querySelectorAll("table.kv td")].map(td => td.textContent),
			images: document.querySelectorAll("img[src='x']").length,
		};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	from, to := end.Add(-7*24*time.Hour), end
	ticks := 0
	for d := from.Truncate(24 * time.Hour).Add(24 * time.Hour); d.Before(to); d = d.Add(24 * time.Hour) {
		ticks++
	}
	want := drawn{
		Statuses:   []string{"online", "idle", "online", "dnd", "online", "offline", "online"},
		Activities: []string{"Visual Studio Code", "Spotify", "Factorio"},
		Lanes:      []string{"Status", "Visual Studio Code", "Spotify", "Factorio"},
		Ticks:      ticks,
		Totals: []string{fmt.Sprintf("Visual Studio Code=%d", (5 * time.Hour).Milliseconds()),
			fmt.Sprintf("Factorio=%d", (3 * time.Hour).Milliseconds()), fmt.Sprintf("Spotify=%d", (30 * time.Minute).Milliseconds())},
		Title:  name + " — Halyard",
		KV:     []string{"location", "Zürich", "bio", evil},
		Images: 0,
	}
	if !slices.Equal(page.Statuses, want.Statuses) || !slices.Equal(page.Activities, want.Activities) ||
		!slices.Equal(page.Lanes, want.Lanes) || page.Ticks != want.Ticks || !slices.Equal(page.Totals, want.Totals) ||
		page.Title != want.Title || !slices.Equal(page.KV, want.KV) || page.Images != 0 {
		t.Errorf("the drawn page\n got %+v\nwant %+v", page, want)
	}
	shots := map[string][]byte{}
	if shots["userpage-history.png"], err = chromedp.Run(ctx, chromedp.FullScreenshot(100)); err != nil {
		t.Fatal(err)
	}

	// A user without history: the private note, no timeline.
	if err := chromedp.Do(ctx, chromedp.Navigate(m.URL()+"/u/"+bob), chromedp.WaitVisible(`#history-private`)); err != nil {
		t.Fatalf("opening /u/bob: %v", err)
	}
	private, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("#timeline") === null &&
		document.querySelector("#history-private").textContent.startsWith("History is private")`))
	if err != nil || !private {
		t.Errorf("bob's page: private note shown and no timeline = %v (%v)", private, err)
	}
	if shots["userpage-private.png"], err = chromedp.Run(ctx, chromedp.FullScreenshot(100)); err != nil {
		t.Fatal(err)
	}
	dirs := []string{t.TempDir()}
	if keep := os.Getenv("HALYARD_USERPAGE_SHOTS"); keep != "" {
		dirs = append(dirs, keep)
	}
	for _, dir := range dirs {
		for name, b := range shots {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("screenshots in %v", dirs)
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return sb.String()
}
