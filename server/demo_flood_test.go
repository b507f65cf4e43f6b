package server

import (
	"errors"
	"strings"
	"testing"

	"github.com/halyardhq/halyard/core"
)

// floodDriver is a fakeDriver that records floods and can be busy.
type floodDriver struct {
	fakeDriver
	busy   bool
	floods [][2]int
}

func (f *floodDriver) StartFlood(events, users int) error {
	if f.busy {
		return ErrFloodRunning
	}
	if users > 50 {
		return errors.New("users must be from 1 to 50 (the simulated members)")
	}
	f.floods = append(f.floods, [2]int{events, users})
	return nil
}

func TestDemoFlood(t *testing.T) {
	drv := &floodDriver{}
	base := startServer(t, Options{Hub: core.NewHub(core.HubOptions{}), AdminToken: "adm", Demo: drv})
	auth := map[string]string{"Authorization": "Bearer adm"}
	tests := []struct {
		body     string
		headers  map[string]string
		status   int
		contains string
	}{
		{`{"events":1000,"users":50}`, auth, 202, `"events":1000`},
		{`{"events":1000,"users":50}`, nil, 401, "admin bearer token"},
		{`{"events":0,"users":5}`, auth, 400, "events"},
		{`{"events":10000001,"users":5}`, auth, 400, "events"},
		{`{"events":10,"users":0}`, auth, 400, "users"},
		{`{"events":10}`, auth, 400, "users"},
		{`{"events":10,"users":5,"extra":1}`, auth, 400, "events"},
		{`{"events":10,"users":5} {}`, auth, 400, "events"},
		{`{"events":"10","users":5}`, auth, 400, "events"},
		{`[]`, auth, 400, "events"},
		{`{"events":10,"users":51}`, auth, 400, "1 to 50"},
	}
	for _, tt := range tests {
		resp, got := do(t, "POST", base+"/admin/v1/demo/flood", tt.headers, strings.NewReader(tt.body))
		if resp.StatusCode != tt.status || !strings.Contains(got, tt.contains) {
			t.Errorf("%s: %d %s (want %d containing %q)", tt.body, resp.StatusCode, got, tt.status, tt.contains)
		}
	}
	drv.busy = true
	if resp, got := do(t, "POST", base+"/admin/v1/demo/flood", auth, strings.NewReader(`{"events":5,"users":5}`)); resp.StatusCode != 409 {
		t.Errorf("while busy: %d %s", resp.StatusCode, got)
	}
	if len(drv.floods) != 1 || drv.floods[0] != [2]int{1000, 50} {
		t.Fatalf("driver floods %v", drv.floods)
	}

	// A driver without StartFlood still compiles as a DemoDriver; the
	// route then answers 404.
	plain := startServer(t, Options{Hub: core.NewHub(core.HubOptions{}), AdminToken: "adm", Demo: &fakeDriver{}})
	if resp, got := do(t, "POST", plain+"/admin/v1/demo/flood", auth, strings.NewReader(`{"events":5,"users":5}`)); resp.StatusCode != 404 {
		t.Errorf("driver without flood: %d %s", resp.StatusCode, got)
	}
}
