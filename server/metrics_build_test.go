package server

import (
	"fmt"
	"strings"
	"testing"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/internal/buildinfo"
)

// /metrics names the running build, with the same values as `halyard
// version`.
func TestMetricsBuildInfo(t *testing.T) {
	base := startMetricsServer(t, core.NewHub(core.HubOptions{}), nil)
	resp, body := do(t, "GET", base+"/metrics", nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	in := buildinfo.Read()
	// The text format sorts labels by name.
	want := fmt.Sprintf(`halyard_build_info{goversion=%q,modified="%t",revision=%q,vcs_time=%q,version=%q} 1`,
		in.GoVersion, in.Modified, in.Revision, in.Time, in.Version)
	if !strings.Contains(string(body), want+"\n") {
		var got []string
		for _, l := range strings.Split(string(body), "\n") {
			if strings.HasPrefix(l, "halyard_build_info") {
				got = append(got, l)
			}
		}
		t.Errorf("/metrics has %q, want %q", got, want)
	}
}
