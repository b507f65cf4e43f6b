package main

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestDocsInChromium opens /docs of the real server in headless Chromium
// (Debian's chromium package, driven by chromedp), waits for Swagger UI to
// render the document, checks that every tag and every operation is
// listed, and saves a screenshot under the test's temp dir (also to
// $HALYARD_DOCS_SCREENSHOT when set). Skipped without chromium, except in
// CI (CI=true), where .ci/run installs it.
func TestDocsInChromium(t *testing.T) {
	ctx := newChromium(t, 1400, 1000, 90*time.Second)
	m := startDemoWith(t, 3, nil)
	doc := loadDocument(t, m.URL())

	want := map[string]bool{} // "GET /v1/users/{id}"
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			want[strings.ToUpper(method)+" "+path] = true
		}
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(m.URL()+"/docs"),
		chromedp.WaitVisible(chromedp.CSS(`.swagger-ui .opblock-tag`)),
	); err != nil {
		t.Fatalf("opening /docs: %v", err)
	}
	location, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(location, "/docs/") {
		t.Errorf("/docs landed on %s, want …/docs/", location)
	}

	// Swagger UI renders the operations of expanded tags progressively:
	// poll until every one is listed.
	const listed = `(() => {
		const clean = s => (s || "").replace(/\u200b/g, "").trim();
		return {
			tags: [...document.querySelectorAll(".opblock-tag")].map(e => clean(e.getAttribute("data-tag") || e.textContent)),
			ops: [...document.querySelectorAll(".opblock")].map(o => {
				const m = o.querySelector(".opblock-summary-method");
				const p = o.querySelector(".opblock-summary-path");
				return clean(m && m.textContent) + " " + clean(p && (p.getAttribute("data-path") || p.textContent));
			}),
			title: clean((document.querySelector(".info .title") || {}).textContent),
		};
	})()`
	type listing struct {
		Tags  []string `json:"tags"`
		Ops   []string `json:"ops"`
		Title string   `json:"title"`
	}
	var page listing
	var missing []string
	deadline := time.Now().Add(30 * time.Second)
	for {
		if page, err = chromedp.Run(ctx, chromedp.Evaluate[listing](listed)); err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, op := range page.Ops {
			seen[op] = true
		}
		missing = missing[:0]
		for op := range want {
			if !seen[op] {
				missing = append(missing, op)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("Swagger UI does not list %d operations: %v\nlisted: %v", len(missing), missing, page.Ops)
	}
	tags := map[string]bool{}
	for _, tag := range page.Tags {
		tags[tag] = true
	}
	for _, tag := range doc.Tags {
		if !tags[tag.Name] {
			t.Errorf("Swagger UI does not list tag %q (listed: %v)", tag.Name, page.Tags)
		}
	}
	if !strings.HasPrefix(page.Title, doc.Info.Title) {
		t.Errorf("Swagger UI title %q, want %q", page.Title, doc.Info.Title)
	}

	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	// The first screen too, readable at a glance.
	top, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "docs.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "docs-top.png"), top, 0o644); err != nil {
		t.Fatal(err)
	}
	if keep := os.Getenv("HALYARD_DOCS_SCREENSHOT"); keep != "" {
		if err := os.WriteFile(keep, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(strings.TrimSuffix(keep, ".png")+"-top.png", top, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("Swagger UI lists %d tags and %d operations; screenshot %s (%d bytes)", len(page.Tags), len(want), path, len(shot))
}
