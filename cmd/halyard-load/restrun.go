package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"
)

// runREST loads every dialect's presence GET and the bare baselines
// serving the Lanyard answer's and the bulk answer's bytes.
//
// With both scenarios, the baselines run in the middle of the routes: each
// route is loaded twice for half of --duration, in order before the
// baselines and in reverse order after them, so that every route's
// figures and the baselines' are centred on the same moment. On a machine
// whose other load drifts over the minute of the run (a neighbour starting
// or finishing a build), a baseline measured after all the routes saw
// other conditions than the routes did; the ratios compared the two.
func runREST(ctx context.Context, cfg config, srv *server, rep *report, users []string, example string,
	want func(string) bool, fail func(string, error), out io.Writer) {
	routes := restRoutes(example, users[:min(50, len(users))])
	single, bulkRoute := routes[0], routes[2]
	if want("rest") {
		// Steady state: the members' records, written to the store in the
		// first seconds after start, would share the CPU with the first
		// route's requests.
		if err := waitRecordsWritten(ctx, &http.Client{Timeout: 10 * time.Second}, srv, len(users), 2*time.Minute); err != nil {
			fail("rest", err)
		}
	}
	legs := map[string]leg{}
	failed := map[string]bool{}
	loadRoute := func(r route, d time.Duration) {
		if ctx.Err() != nil || failed[r.Name] {
			return
		}
		l, err := loadLeg(ctx, srv.Addr, r.Path, cfg.Conns, d, srv.pid())
		if err == nil && l.errs > 0 {
			err = fmt.Errorf("%s: %d answers were not 200", r.Name, l.errs)
		}
		if err != nil {
			failed[r.Name] = true
			fail("rest", err)
			return
		}
		legs[r.Name] = legs[r.Name].add(l)
	}
	half := cfg.Duration
	if want("rest") && want("baseline") {
		half = cfg.Duration / 2
	}
	if want("rest") {
		for _, r := range routes {
			loadRoute(r, half)
		}
	}
	var base, baseBulk *restResult
	if want("baseline") && ctx.Err() == nil {
		base = runBaseline(ctx, cfg, srv, single, fail)
		baseBulk = runBaseline(ctx, cfg, srv, bulkRoute, fail)
	}
	if want("rest") && want("baseline") {
		for _, r := range slices.Backward(routes) {
			loadRoute(r, cfg.Duration-half)
		}
	}
	if want("rest") {
		rep.Rest = map[string]restResult{}
		for _, r := range routes {
			l, ok := legs[r.Name]
			if !ok || failed[r.Name] {
				continue
			}
			res := l.result()
			rep.Rest[r.Name], rep.RestRPS[r.Name] = res, res.RPS
			rep.RestP99MS = max(rep.RestP99MS, res.Lat.P99)
			fmt.Fprintf(out, "%-10s %-45s %8.0f req/s  p50 %.3f ms  p99 %.3f ms  p999 %.3f ms  (%d B, %d conns)  %.1f µs CPU/req\n",
				"rest", r.Name, res.RPS, res.Lat.P50, res.Lat.P99, res.Lat.P999, res.Bytes, cfg.Conns, res.CPUPerReqUS)
		}
	}
	if base != nil {
		reportBaseline(rep, routes, *base, out)
	}
	if baseBulk != nil {
		reportBulkBaseline(rep, bulkRoute, *baseBulk, out)
	}
}

// runBaseline serves the answer of r (its body and header fields, fetched
// from the server) from a bare net/http process and loads it with r's own
// request line for --duration; nil when it could not run.
func runBaseline(ctx context.Context, cfg config, srv *server, r route, fail func(string, error)) *restResult {
	body, header, err := fetch(ctx, srv.Base+r.Path)
	if err != nil {
		fail("baseline", err)
		return nil
	}
	addr, pid, stop, err := startBaseline(ctx, body, answerHeader(header))
	if err != nil {
		fail("baseline", err)
		return nil
	}
	defer stop()
	// The same request line as the route's: the baseline ignores the
	// path, but net/http reads and parses it.
	l, err := loadLeg(ctx, addr, r.Path, cfg.Conns, cfg.Duration, pid)
	if err != nil {
		fail("baseline", err)
		return nil
	}
	res := l.result()
	return &res
}

// reportBaseline records the single-user baseline and the ratios of the
// single-user routes to it.
func reportBaseline(rep *report, routes []route, res restResult, out io.Writer) {
	bulkPath := routes[2].Path
	rep.Baseline, rep.BaselineRPS = &res, res.RPS
	fmt.Fprintf(out, "%-10s %-45s %8.0f req/s  p50 %.3f ms  p99 %.3f ms  p999 %.3f ms  (%d B from memory, bare net/http, own process)  %.1f µs CPU/req\n",
		"baseline", "same bytes as "+routes[0].Name, res.RPS, res.Lat.P50, res.Lat.P99, res.Lat.P999, res.Bytes, res.CPUPerReqUS)
	// The ratio covers the single-user GETs; the bulk of 50 answers 50
	// users' bytes and has its own goal (req/s).
	if res.RPS > 0 && len(rep.Rest) > 0 {
		ratio := -1.0
		for _, r := range routes {
			if _, ok := rep.Rest[r.Name]; !ok || r.Path == bulkPath {
				continue
			}
			if v := rep.RestRPS[r.Name] / res.RPS; ratio < 0 || v < ratio {
				ratio = v
			}
		}
		if ratio >= 0 {
			rep.RestRatioMin = round(ratio, 3)
			fmt.Fprintf(out, "%-10s worst single-user route ÷ baseline = %.3f\n", "ratio", rep.RestRatioMin)
		}
	}
	if res.CPUPerReqUS > 0 && len(rep.Rest) > 0 {
		ratio := -1.0
		for _, r := range routes {
			if cpu := rep.Rest[r.Name].CPUPerReqUS; r.Path != bulkPath && cpu > 0 {
				if v := res.CPUPerReqUS / cpu; ratio < 0 || v < ratio {
					ratio = v
				}
			}
		}
		if ratio > 0 {
			rep.RestCPURatioMin = round(ratio, 3)
			fmt.Fprintf(out, "%-10s CPU per request: baseline ÷ worst single-user route = %.3f\n", "ratio", rep.RestCPURatioMin)
		}
	}
}

// reportBulkBaseline records the bulk answer's baseline and the bulk
// route's ratios to it: what 12,000 req/s of that answer would ask of the
// machine.
func reportBulkBaseline(rep *report, bulkRoute route, bulk restResult, out io.Writer) {
	rep.BaselineBulk, rep.BaselineBulkRPS = &bulk, bulk.RPS
	fmt.Fprintf(out, "%-10s %-45s %8.0f req/s  p50 %.3f ms  p99 %.3f ms  p999 %.3f ms  (%d B from memory, bare net/http, own process)  %.1f µs CPU/req\n",
		"baseline", "same bytes as "+bulkRoute.Name, bulk.RPS, bulk.Lat.P50, bulk.Lat.P99, bulk.Lat.P999, bulk.Bytes, bulk.CPUPerReqUS)
	if got, ok := rep.Rest[bulkRoute.Name]; ok && bulk.RPS > 0 {
		rep.BulkRatio = round(got.RPS/bulk.RPS, 3)
		if got.CPUPerReqUS > 0 {
			rep.BulkCPURatio = round(bulk.CPUPerReqUS/got.CPUPerReqUS, 3)
		}
		fmt.Fprintf(out, "%-10s bulk ÷ its baseline = %.3f (CPU per request: baseline ÷ bulk = %.3f)\n", "ratio", rep.BulkRatio, rep.BulkCPURatio)
	}
}
