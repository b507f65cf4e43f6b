package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// report is the --json object. The first keys are the ones issue 8 asks
// for; the rest are the details behind them.
type report struct {
	RestRPS      map[string]float64 `json:"rest_rps"`
	BaselineRPS  float64            `json:"baseline_rps"`
	RestRatioMin float64            `json:"rest_ratio_min"`
	RestP99MS    float64            `json:"rest_p99_ms"`
	// The same comparisons by the server's CPU time per request (issue
	// 17): baseline's ÷ the route's (the worst single-user route; the
	// bulk of 50 against its own baseline), and bulk req/s ÷ its
	// baseline's. 0 when not measured.
	RestCPURatioMin   float64 `json:"rest_cpu_ratio_min"`
	BulkCPURatio      float64 `json:"bulk_cpu_ratio"`
	BulkRatio         float64 `json:"bulk_ratio"`
	WSIdleConns       int     `json:"ws_idle_conns"`
	WSBytesPerConn    float64 `json:"ws_bytes_per_conn"`
	FanoutSubscribers int     `json:"fanout_subscribers"`
	FanoutP99MS       float64 `json:"fanout_p99_ms"`
	// The same fan-out from a bare writer loop (issue 17): the floor.
	FanoutFloorP99MS float64 `json:"fanout_floor_p99_ms"`
	FanoutFloorRatio float64 `json:"fanout_floor_ratio"` // fanout_p99_ms ÷ fanout_floor_p99_ms
	IngestEventsPerS float64 `json:"ingest_events_per_s"`
	Members          int     `json:"members"`
	MembersRSSBytes  float64 `json:"members_rss_bytes"`
	StartMS          float64 `json:"start_ms"`
	// Restart on a data dir holding RestartMembers' records (issue 12).
	RestartMembers      int     `json:"restart_members"`
	RestartReadyMS      float64 `json:"restart_ready_ms"`
	RestartFirstWriteMS float64 `json:"restart_first_write_ms"`

	WSHeapBytesPerConn float64               `json:"ws_heap_bytes_per_conn"`
	FanoutP50MS        float64               `json:"fanout_p50_ms"`
	FanoutMaxMS        float64               `json:"fanout_max_ms"`
	MembersReadyMS     float64               `json:"members_ready_ms"`
	Rest               map[string]restResult `json:"rest,omitempty"`
	Baseline           *restResult           `json:"baseline,omitempty"`
	BaselineBulkRPS    float64               `json:"baseline_bulk_rps"` // bare server returning the bulk answer's bytes
	BaselineBulk       *restResult           `json:"baseline_bulk,omitempty"`
	WSIdle             *wsIdleResult         `json:"ws_idle,omitempty"`
	SSEIdle            *sseIdleResult        `json:"sse_idle,omitempty"`
	Fanout             *fanoutResult         `json:"fanout,omitempty"`
	FanoutFloor        *floorResult          `json:"fanout_floor,omitempty"`
	FanoutFloorP50MS   float64               `json:"fanout_floor_p50_ms"`
	Ingest             *ingestResult         `json:"ingest,omitempty"`
	History            *historyResult        `json:"history,omitempty"`
	// IngestWithoutHistory is the flood before --history-users opted in.
	IngestWithoutHistory *ingestResult  `json:"ingest_without_history,omitempty"`
	MembersDetail        *membersResult `json:"members_detail,omitempty"`
	RestartDetail        *restartResult `json:"restart_detail,omitempty"`
	Quick                bool           `json:"quick"`
	Date                 string         `json:"date"`
	CPUs                 int            `json:"cpus"`
	GoVersion            string         `json:"go_version"`
	LoadAvg              [2]string      `json:"loadavg"` // /proc/loadavg at start and end: other work on the machine
	Errors               []string       `json:"errors,omitempty"`

	// Cluster is issue 14's figures: three nodes on NATS.
	Cluster *clusterResult `json:"cluster,omitempty"`
}

// progress receives lines that mark the phases of a scenario (for a
// profiler started from outside); run points it at its output.
var progress io.Writer = io.Discard

// run executes the chosen scenarios against one server, then members on
// a second one, writing a line per figure to out.
func run(ctx context.Context, cfg config, out io.Writer) (*report, error) {
	rep := &report{RestRPS: map[string]float64{}, Quick: cfg.Quick, Date: time.Now().UTC().Format(time.RFC3339),
		CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
	progress = out
	want := func(s string) bool { return slices.Contains(cfg.Scenarios, s) }
	fail := func(scenario string, err error) {
		rep.Errors = append(rep.Errors, scenario+": "+err.Error())
		fmt.Fprintf(out, "%-10s error: %v\n", scenario, err)
	}
	rep.LoadAvg[0] = loadAvg()
	defer func() { rep.LoadAvg[1] = loadAvg() }()
	limit := raiseFileLimit(uint64(max(cfg.WSConns, cfg.FanoutSubs, cfg.SSEStreams)) + 20_000)
	fmt.Fprintf(out, "halyard-load: %d CPUs, %s, RLIMIT_NOFILE %d\n", rep.CPUs, rep.GoVersion, limit)

	var bin string
	if cfg.Target == "" {
		bin = cfg.ServerBin
		if bin == "" {
			dir, err := os.MkdirTemp("", "halyard-load-bin-")
			if err != nil {
				return rep, err
			}
			defer os.RemoveAll(dir)
			fmt.Fprintln(out, "building ./cmd/halyard …")
			if bin, err = buildServer(ctx, dir); err != nil {
				return rep, err
			}
		}
	}
	// The scenarios before members load one demo server; members,
	// restart and cluster start their own.
	if slices.ContainsFunc(cfg.Scenarios, func(s string) bool { return !slices.Contains([]string{"members", "restart", "cluster"}, s) }) {
		if err := runOnOneServer(ctx, cfg, bin, rep, want, fail, out); err != nil {
			return rep, err
		}
	}

	if want("members") && ctx.Err() == nil {
		if bin == "" {
			fmt.Fprintf(out, "%-10s skipped: needs a server the tool starts (not --target)\n", "members")
		} else {
			res, err := runMembers(ctx, bin, cfg.Members, cfg.Settle, cfg.HeapProfile)
			rep.MembersDetail = &res
			rep.Members, rep.MembersRSSBytes, rep.MembersReadyMS = res.Members, res.RSS, res.ReadyMS
			// The simulated members and the bot's own member: Halyard
			// monitors its bot like any member, as Lanyard does.
			if err == nil && int(res.Monitored) != cfg.Members+1 {
				err = fmt.Errorf("the server monitors %.0f users, want %d (the members and the bot)", res.Monitored, cfg.Members+1)
			}
			if err != nil {
				fail("members", err)
			}
			fmt.Fprintf(out, "%-10s %.0f members monitored, ready %.0f ms after exec (server CPU %.1f s, simulator %.1f s), RSS %.1f MiB (heap in use %.1f MiB)\n",
				"members", res.Monitored, res.ReadyMS, res.ReadyCPU, res.SimCPU, res.RSS/(1<<20), res.HeapInuse/(1<<20))
		}
	}
	if want("restart") && ctx.Err() == nil {
		if bin == "" {
			fmt.Fprintf(out, "%-10s skipped: needs a server the tool starts (not --target)\n", "restart")
		} else {
			res, err := runRestart(ctx, bin, cfg.RestartMembers)
			rep.RestartDetail = &res
			rep.RestartMembers, rep.RestartReadyMS, rep.RestartFirstWriteMS = res.Members, res.ReadyMS, res.FirstWriteMS
			if err != nil {
				fail("restart", err)
			}
			fmt.Fprintf(out, "%-10s %d members' records (written in %.1f s): ready %.0f ms and first KV write accepted %.0f ms after exec; %.0f records rewritten in %.1f s; stopped in %.0f ms\n",
				"restart", res.Members, res.PopulateS, res.ReadyMS, res.FirstWriteMS, res.Rewritten, res.RewriteS, res.StopMS)
		}
	}
	if want("cluster") && ctx.Err() == nil {
		if bin == "" {
			fmt.Fprintf(out, "%-10s skipped: needs servers the tool starts (not --target)\n", "cluster")
		} else {
			sz := clusterSizes{Users: cfg.DemoUsers, SubsPerNode: cfg.ClusterSubs, Pushes: cfg.ClusterPushes, IngestEvents: cfg.ClusterIngest,
				IngestUsers: cfg.IngestUsers, Conns: cfg.Conns, RESTLeg: cfg.Duration / 2, Settle: cfg.Settle, NATSBin: cfg.NATSBin}
			res, err := runCluster(ctx, bin, sz, out)
			rep.Cluster = &res
			if err != nil {
				fail("cluster", err)
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	if len(rep.Errors) > 0 {
		return rep, fmt.Errorf("%d scenario(s) failed", len(rep.Errors))
	}
	return rep, nil
}

// runOnOneServer runs the scenarios that load one demo server (the
// tool's own, started from bin, or --target) and stops it at the end, to
// free the cores and memory for the scenarios after it.
func runOnOneServer(ctx context.Context, cfg config, bin string, rep *report, want func(string) bool, fail func(string, error), out io.Writer) error {
	var srv *server
	if cfg.Target != "" {
		base, addr, err := checkLoopback(cfg.Target)
		if err != nil {
			return err
		}
		srv = &server{Base: base, Addr: addr, AdminToken: cfg.AdminToken}
	} else {
		var err error
		if cfg.HeapProfile != "" {
			// The server inherits the tool's environment (serverEnv):
			// this turns its admin profiling routes on.
			_ = os.Setenv(pprofEnv, "1")
		}
		if srv, err = startServer(ctx, bin, cfg.DemoUsers, cfg.ServerReadyWait); err != nil {
			return err
		}
		defer srv.Stop()
		rep.StartMS = round(float64(srv.Start)/float64(time.Millisecond), 1)
		fmt.Fprintf(out, "%-10s %.1f ms from exec to /readyz 200 (%d demo members, fresh data dir)\n", "start", rep.StartMS, cfg.DemoUsers)
	}

	users, example, err := listUsers(ctx, srv)
	if err != nil {
		return err
	}

	// ws-idle first: the memory per connection is read against a fresh
	// server, before other loads leave garbage and freed spans behind.
	if want("ws-idle") && ctx.Err() == nil {
		res, err := runWSIdle(ctx, srv, cfg.WSConns, cfg.WSProcs, users, cfg.Settle, cfg.HeapProfile)
		rep.WSIdle = &res
		rep.WSIdleConns, rep.WSBytesPerConn, rep.WSHeapBytesPerConn = res.Conns, res.RSSPerConn, res.HeapPerConn
		if err != nil || res.Error != "" {
			if err == nil {
				err = errors.New(res.Error)
			}
			fail("ws-idle", err)
		}
		fmt.Fprintf(out, "%-10s %d idle subscribers from %d processes over %d source addresses in %.1f s: %.0f B RSS, %.0f B heap, %.2f goroutines per connection (server gauge: %.0f sockets; RLIMIT_NOFILE %d)\n",
			"ws-idle", res.Conns, res.Procs, res.SourceAddrs, res.ConnectSeconds, res.RSSPerConn, res.HeapPerConn, res.GoroutinesPerConn, res.ServerSockets, res.FileLimit)
		if res.CappedBy != "" {
			fmt.Fprintf(out, "%-10s capped by %s\n", "ws-idle", res.CappedBy)
		}
	}
	if want("sse-idle") && ctx.Err() == nil {
		res, err := runSSEIdle(ctx, srv, cfg.SSEStreams, users, cfg.Settle)
		rep.SSEIdle = &res
		if err != nil || res.Error != "" {
			if err == nil {
				err = errors.New(res.Error)
			}
			fail("sse-idle", err)
		}
		fmt.Fprintf(out, "%-10s %d idle event streams in %.1f s: %.0f B RSS, %.0f B heap, %.2f goroutines per stream (server gauge: %.0f streams)\n",
			"sse-idle", res.Streams, res.ConnectSeconds, res.RSSPerStream, res.HeapPerStream, res.GoroutinesPerConn, res.ServerStreams)
	}
	if want("ws-fanout") && ctx.Err() == nil {
		res, err := runFanout(ctx, srv, cfg.FanoutSubs, cfg.FanoutPushes, example)
		rep.Fanout = &res
		rep.FanoutSubscribers, rep.FanoutP99MS, rep.FanoutP50MS, rep.FanoutMaxMS = res.Subscribers, res.Lat.P99, res.Lat.P50, res.Lat.Max
		if err == nil && res.Missing > 0 {
			err = fmt.Errorf("%d of %d deliveries missing", res.Missing, res.Subscribers*res.Pushes)
		}
		if err != nil {
			fail("ws-fanout", err)
		}
		fmt.Fprintf(out, "%-10s %d subscribers × %d pushes: p50 %.2f ms, p99 %.2f ms, max %.2f ms (push → receipt); server CPU %.2f µs a delivery\n",
			"ws-fanout", res.Subscribers, res.Pushes, res.Lat.P50, res.Lat.P99, res.Lat.Max, res.CPUPerDelivery)
		if res.sample != nil && ctx.Err() == nil {
			fl, err := runFanoutFloor(ctx, cfg.FanoutSubs, cfg.FanoutPushes, res.sample)
			rep.FanoutFloor = &fl
			rep.FanoutFloorP99MS, rep.FanoutFloorP50MS = fl.Lat.P99, fl.Lat.P50
			if fl.Lat.P99 > 0 {
				rep.FanoutFloorRatio = round(res.Lat.P99/fl.Lat.P99, 2)
			}
			if err == nil && fl.Missing > 0 {
				err = fmt.Errorf("%d of %d deliveries missing", fl.Missing, fl.Subscribers*fl.Pushes)
			}
			if err != nil {
				fail("fanout-floor", err)
			}
			fmt.Fprintf(out, "%-10s %d subscribers × %d frames of %d B from %d bare writers: p50 %.2f ms, p99 %.2f ms (ws-fanout p99 = %.2f× this); its CPU %.2f µs a delivery\n",
				"floor", fl.Subscribers, fl.Pushes, fl.FrameBytes, fl.Writers, fl.Lat.P50, fl.Lat.P99, rep.FanoutFloorRatio, fl.CPUPerDelivery)
		}
	}
	if want("ingest") && ctx.Err() == nil {
		// The flood cycles over the first members of the simulated
		// population, which the tool's own server has --demo-users of;
		// of a --target's, it knows the listed ones.
		ingestUsers := cfg.IngestUsers
		if cfg.Target != "" {
			ingestUsers = min(ingestUsers, len(users))
		}
		if cfg.HistoryUsers > 0 {
			// The same flood on the same server before history is turned
			// on: the figure to compare with, on a machine whose load
			// varies between runs.
			before, err := runIngest(ctx, srv, cfg.IngestEvents, ingestUsers)
			rep.IngestWithoutHistory = &before
			if err != nil {
				fail("ingest", err)
			}
			fmt.Fprintf(out, "%-10s %d of %d PRESENCE_UPDATEs absorbed by the hub in %.2f s: %.0f events/s (history off)\n",
				"ingest", before.Absorbed, before.Events, before.Seconds, before.EventsPerSec)
			h, err := optInHistory(ctx, srv, cfg.HistoryUsers)
			rep.History = &h
			if err != nil {
				fail("history", err)
			}
			fmt.Fprintf(out, "%-10s %d members turned presence history on (a .history on DM each) in %.1f s\n", "history", h.Users, h.Seconds)
		}
		res, err := runIngest(ctx, srv, cfg.IngestEvents, ingestUsers)
		rep.Ingest = &res
		rep.IngestEventsPerS = res.EventsPerSec
		if err != nil {
			fail("ingest", err)
		}
		withHistory := ""
		if cfg.HistoryUsers > 0 {
			withHistory = fmt.Sprintf(" (history on for %d)", cfg.HistoryUsers)
		}
		fmt.Fprintf(out, "%-10s %d of %d PRESENCE_UPDATEs absorbed by the hub in %.2f s: %.0f events/s%s\n",
			"ingest", res.Absorbed, res.Events, res.Seconds, res.EventsPerSec, withHistory)
	}
	if want("rest") || want("baseline") {
		runREST(ctx, cfg, srv, rep, users, example, want, fail, out)
	}
	return nil
}

// loadAvg is the first three fields of /proc/loadavg ("" elsewhere).
func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// listUsers reads the monitored users through the admin API and picks the
// first online one as the example (richer presence than an offline one).
func listUsers(ctx context.Context, srv *server) (ids []string, example string, err error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.Base+"/admin/v1/users?limit=1000", nil)
	req.Header.Set("Authorization", "Bearer "+srv.AdminToken)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("GET /admin/v1/users: %s (is the admin token right?)", resp.Status)
	}
	var page struct {
		Users []struct{ ID, Status string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		return nil, "", err
	}
	for _, u := range page.Users {
		ids = append(ids, u.ID)
		if example == "" && u.Status != "offline" {
			example = u.ID
		}
	}
	if len(ids) == 0 {
		return nil, "", errors.New("the server monitors no user")
	}
	if example == "" {
		example = ids[0]
	}
	return ids, example, nil
}

// fetch GETs url and returns the body and the answer's header.
func fetch(ctx context.Context, url string) ([]byte, http.Header, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return b, resp.Header, err
}
