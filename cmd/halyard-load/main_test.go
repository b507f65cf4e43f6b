package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary act as the tool's child processes
// (baseline, fan-out floor, ws-idle holder), as the tool's own binary does.
func TestMain(m *testing.M) {
	if maybeServeBaseline() || maybeServeFanoutFloor() || maybeHoldWSIdle() {
		return
	}
	os.Exit(m.Run())
}

// TestQuickEndToEnd runs every scenario with tiny sizes against a server
// the tool builds and starts, and checks that every figure issue 8 asks
// for is in the JSON and plausible. It prints the figures; it asserts no
// speed. HALYARD_LOAD_SERVER_BIN skips the build.
func TestQuickEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts two servers")
	}
	heapProfile := filepath.Join(t.TempDir(), "idle.heap")
	cfg, err := parseFlags([]string{"--quick", "--json", "--server-bin", os.Getenv("HALYARD_LOAD_SERVER_BIN"),
		"--duration", "300ms", "--conns", "4", "--demo-users", "60", "--ws-conns", "1000", "--ws-procs", "2", "--fanout-subs", "40",
		"--fanout-pushes", "3", "--ingest-events", "2000", "--ingest-users", "60", "--members", "1500", "--restart-members", "500", "--settle", "200ms",
		"--heap-profile", heapProfile}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 85*time.Second)
	defer cancel()
	var out bytes.Buffer
	rep, err := run(ctx, cfg, &out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(rep)
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"baseline_rps", "rest_ratio_min", "rest_p99_ms", "ws_idle_conns", "ws_bytes_per_conn",
		"fanout_subscribers", "fanout_p99_ms", "ingest_events_per_s", "members", "members_rss_bytes", "start_ms",
		"restart_members", "restart_ready_ms", "restart_first_write_ms", "fanout_floor_p99_ms", "fanout_floor_ratio"} {
		v, ok := got[key].(float64)
		if !ok || v <= 0 {
			t.Errorf("%s = %v, want a positive number", key, got[key])
		}
	}
	rps, _ := got["rest_rps"].(map[string]any)
	if len(rps) != 4 {
		t.Errorf("rest_rps has %d routes, want 4: %v", len(rps), rps)
	}
	for route, v := range rps {
		if f, _ := v.(float64); f <= 0 {
			t.Errorf("rest_rps[%s] = %v", route, v)
		}
	}
	if r := rep.RestRatioMin; r <= 0 || r > 10 {
		t.Errorf("rest_ratio_min %v out of range", r)
	}
	if rep.WSIdleConns != 1000 || rep.FanoutSubscribers != 40 || rep.Members != 1500 {
		t.Errorf("held %d idle, %d fan-out subscribers, %d members; want 1000, 40, 1500", rep.WSIdleConns, rep.FanoutSubscribers, rep.Members)
	}
	if rep.WSIdle.Procs != 2 || rep.FanoutFloor.Subscribers != 40 || rep.FanoutFloor.Delivered != 40*3 {
		t.Errorf("ws-idle from %d processes (want 2); floor held %d, delivered %d (want 40, 120)",
			rep.WSIdle.Procs, rep.FanoutFloor.Subscribers, rep.FanoutFloor.Delivered)
	}
	// --heap-profile: the server's profile (gzipped protobuf), the live
	// heap after its collection, and the RSS split.
	if b, err := os.ReadFile(heapProfile); err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Errorf("heap profile: %v, %d bytes, not gzip", err, len(b))
	}
	if rep.WSIdle.HeapAfterGCPerConn <= 0 {
		t.Errorf("heap_inuse_after_gc_bytes_per_conn = %v", rep.WSIdle.HeapAfterGCPerConn)
	}
	for _, k := range []string{"heap_alloc", "span_slack", "heap_unreleased", "stacks", "runtime_gc", "runtime_spans", "runtime_other", "not_go"} {
		if _, ok := rep.WSIdle.SplitPerConn[k]; !ok {
			t.Errorf("split_per_conn lacks %s: %v", k, rep.WSIdle.SplitPerConn)
		}
	}
	if rep.Fanout.Delivered != 40*3 || rep.Ingest.Absorbed != 2000 {
		t.Errorf("fan-out delivered %d of 120, ingest absorbed %d of 2000", rep.Fanout.Delivered, rep.Ingest.Absorbed)
	}
	if p := rep.Fanout.Lat; !(p.P50 <= p.P99 && p.P99 <= p.Max) {
		t.Errorf("fan-out percentiles out of order: %+v", p)
	}
}

func TestParseFlags(t *testing.T) {
	c, err := parseFlags([]string{"--quick", "--ws-conns", "7"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if c.WSConns != 7 || c.FanoutSubs != 500 || c.Duration != 1500*time.Millisecond || !slices.Equal(c.Scenarios, defaultScenarios) {
		t.Errorf("quick with an explicit size: %+v", c)
	}
	if slices.Contains(c.Scenarios, "cluster") {
		t.Errorf("cluster runs by default: %v", c.Scenarios)
	}
	if c, err := parseFlags([]string{"--scenarios", "cluster"}, &bytes.Buffer{}); err != nil || !slices.Equal(c.Scenarios, []string{"cluster"}) {
		t.Errorf("--scenarios cluster: %v, %v", c.Scenarios, err)
	}
	for _, bad := range [][]string{{"--scenarios", "rest,nope"}, {"--ws-conns", "0"}, {"--ingest-users", "2000"}, {"extra"},
		{"--cluster-subs", "0"}, {"--cluster-pushes", "1001"}, {"--cluster-ingest-events", "0"}} {
		if _, err := parseFlags(bad, &bytes.Buffer{}); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestCheckLoopback(t *testing.T) {
	for target, ok := range map[string]bool{
		"http://127.0.0.1:4001":  true,
		"http://127.0.0.9:80/":   true,
		"http://10.0.0.1:4001":   false,
		"http://localhost:4001":  false,
		"https://127.0.0.1:4001": false,
		"http://[::1]:4001":      false,
		"http://127.0.0.1":       false,
	} {
		_, _, err := checkLoopback(target)
		if (err == nil) != ok {
			t.Errorf("%s: err %v", target, err)
		}
		if err != nil && !ok && !strings.Contains(err.Error(), "--target") {
			t.Errorf("%s: %v does not name the flag", target, err)
		}
	}
}
