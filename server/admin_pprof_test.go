package server

import (
	"bytes"
	"compress/gzip"
	"io"
	"strings"
	"testing"
)

// TestPprofOffByDefault: without Options.Pprof the profiles are not
// served, even to the admin.
func TestPprofOffByDefault(t *testing.T) {
	base := startServer(t, Options{AdminToken: "adm"})
	resp, body := do(t, "GET", base+"/admin/v1/debug/pprof/heap", map[string]string{"Authorization": "Bearer adm"}, nil)
	if resp.StatusCode != 404 {
		t.Fatalf("status %d, want 404: %s", resp.StatusCode, body)
	}
}

// TestPprofAdminOnly: with Options.Pprof the heap profile is served to
// the admin token only, is a profile (gzipped, with inuse_space), and an unknown profile name
// is a 404 in the admin API's error format.
func TestPprofAdminOnly(t *testing.T) {
	base := startServer(t, Options{AdminToken: "adm", Pprof: true})
	auth := map[string]string{"Authorization": "Bearer adm"}
	if resp, body := do(t, "GET", base+"/admin/v1/debug/pprof/heap", nil, nil); resp.StatusCode != 401 {
		t.Fatalf("without the token: status %d, want 401: %s", resp.StatusCode, body)
	}
	resp, body := do(t, "GET", base+"/admin/v1/debug/pprof/heap?gc=1", auth, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("heap: status %d: %s", resp.StatusCode, body)
	}
	zr, err := gzip.NewReader(strings.NewReader(body)) // a profile is gzipped protobuf
	if err != nil {
		t.Fatalf("heap profile is not gzip: %v", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil || !bytes.Contains(raw, []byte("inuse_space")) {
		t.Fatalf("heap profile holds no inuse_space sample type (err %v, %d bytes)", err, len(raw))
	}
	resp, body = do(t, "GET", base+"/admin/v1/debug/pprof/goroutine?debug=1", auth, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "goroutine profile:") {
		t.Fatalf("goroutine text: status %d: %.200s", resp.StatusCode, body)
	}
	resp, body = do(t, "GET", base+"/admin/v1/debug/pprof/nosuch", auth, nil)
	if resp.StatusCode != 404 || !strings.Contains(body, `"code":"not_found"`) || !strings.Contains(body, "no such profile") {
		t.Fatalf("unknown profile: status %d: %s", resp.StatusCode, body)
	}
}
