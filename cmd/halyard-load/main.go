// Command halyard-load is Halyard's load generator (issue 8): it starts a
// demo-mode server (or uses --target on loopback), loads every dialect's
// REST and WebSocket paths, the gateway ingest path and a large member
// list, and prints the figures BENCHMARKS.md records.
//
//	go run ./cmd/halyard-load --quick --json   # every scenario, small, < 1 min
//	go run ./cmd/halyard-load --ws-conns 100000 --fanout-subs 10000 --members 1000000
//	go run ./cmd/halyard-load --scenarios cluster --json   # three nodes on NATS (issue 14)
//	go run ./cmd/halyard-load --scenarios ws-idle --heap-profile idle.heap   # where the sockets' bytes go
//
// Loopback only, bounded in time and count; the server it starts is
// stopped at the end and on Ctrl-C.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

// scenarioNames in the order they run.
var scenarioNames = []string{"ws-idle", "sse-idle", "ws-fanout", "ingest", "rest", "baseline", "members", "restart", "cluster"}

// defaultScenarios run when --scenarios is not given: all but cluster,
// which starts seven more processes (three NATS servers, a store, a
// simulator, three nodes) and runs only when named.
var defaultScenarios = scenarioNames[:len(scenarioNames)-1]

// config is the command line.
type config struct {
	Quick, JSON     bool
	ServerBin       string
	Target          string
	AdminToken      string
	Scenarios       []string
	Duration        time.Duration // per REST route
	Conns           int           // keep-alive connections for REST
	DemoUsers       int
	WSConns         int
	WSProcs         int
	SSEStreams      int
	FanoutSubs      int
	FanoutPushes    int
	IngestEvents    int
	IngestUsers     int
	HistoryUsers    int
	Members         int
	RestartMembers  int
	Settle          time.Duration
	ServerReadyWait time.Duration
	// The cluster scenario (issue 14).
	ClusterSubs   int // Lanyard subscribers per node
	ClusterPushes int
	ClusterIngest int
	NATSBin       string
	// HeapProfile is where ws-idle saves the server's heap profile
	// while its subscribers are held ("": none).
	HeapProfile string
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("halyard-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&c.Quick, "quick", false, "every scenario, small enough to finish in under a minute (explicit size flags still apply)")
	fs.BoolVar(&c.JSON, "json", false, "print the figures as one JSON object on the last line")
	fs.StringVar(&c.ServerBin, "server-bin", "", "halyard binary to run (default: go build ./cmd/halyard of this module)")
	fs.StringVar(&c.Target, "target", "", "load an already running server at http://127.0.0.1:PORT instead (demo mode, ADMIN_TOKEN; members is skipped)")
	fs.StringVar(&c.AdminToken, "admin-token", os.Getenv("ADMIN_TOKEN"), "the --target's admin token (default $ADMIN_TOKEN)")
	scen := fs.String("scenarios", strings.Join(defaultScenarios, ","), "comma-separated scenarios to run, from: "+strings.Join(scenarioNames, ", "))
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "load time per REST route (and the baseline)")
	fs.IntVar(&c.Conns, "conns", 16, "keep-alive connections for rest and baseline")
	fs.IntVar(&c.DemoUsers, "demo-users", 1000, "simulated members of the server under load")
	fs.IntVar(&c.WSConns, "ws-conns", 100_000, "idle WebSocket subscribers (ws-idle)")
	fs.IntVar(&c.WSProcs, "ws-procs", 0, "client processes holding the ws-idle subscribers (0: as many as the descriptor limit needs)")
	fs.IntVar(&c.SSEStreams, "sse-streams", 1000, "idle server-sent-events streams (sse-idle)")
	fs.IntVar(&c.FanoutSubs, "fanout-subs", 10_000, "subscribers of one user (ws-fanout)")
	fs.IntVar(&c.FanoutPushes, "fanout-pushes", 20, "presence updates pushed to them (ws-fanout)")
	fs.IntVar(&c.IngestEvents, "ingest-events", 1_000_000, "PRESENCE_UPDATEs the simulator floods (ingest)")
	fs.IntVar(&c.IngestUsers, "ingest-users", 1000, "members the flood cycles over (ingest; at most --demo-users)")
	fs.IntVar(&c.HistoryUsers, "history-users", 0, "members who turn presence history on (`.history on` by DM) before the flood (ingest; at most --demo-users)")
	fs.IntVar(&c.Members, "members", 1_000_000, "simulated members of the second server (members)")
	fs.IntVar(&c.RestartMembers, "restart-members", 100_000, "members whose records the data dir holds when restarted (restart)")
	fs.DurationVar(&c.Settle, "settle", 3*time.Second, "wait before reading memory (ws-idle, members, cluster)")
	fs.IntVar(&c.ClusterSubs, "cluster-subs", 1000, "Lanyard subscribers of one user per node (cluster; --demo-users is the simulator's members, --ingest-users the flood's, --duration the REST time per side)")
	fs.IntVar(&c.ClusterPushes, "cluster-pushes", 200, "presences pushed at the shard holder (cluster)")
	fs.IntVar(&c.ClusterIngest, "cluster-ingest-events", 200_000, "PRESENCE_UPDATEs flooded through the holder to the bus (cluster)")
	fs.StringVar(&c.NATSBin, "nats-bin", "", "nats-server binary for the cluster scenario (default: go build github.com/nats-io/nats-server/v2, this module's dependency)")
	fs.StringVar(&c.HeapProfile, "heap-profile", "", "save the server's heap profile to this file while the ws-idle subscribers are held, or once the members scenario's server has settled (go tool pprof -sample_index=inuse_space); starts the server with HALYARD_PPROF=1")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if c.Quick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		quick := func(name string, apply func()) {
			if !set[name] {
				apply()
			}
		}
		quick("duration", func() { c.Duration = 1500 * time.Millisecond })
		quick("conns", func() { c.Conns = 8 })
		quick("demo-users", func() { c.DemoUsers = 100 })
		quick("ws-conns", func() { c.WSConns = 2000 })
		quick("sse-streams", func() { c.SSEStreams = 500 })
		quick("fanout-subs", func() { c.FanoutSubs = 500 })
		quick("fanout-pushes", func() { c.FanoutPushes = 5 })
		quick("ingest-events", func() { c.IngestEvents = 20_000 })
		quick("ingest-users", func() { c.IngestUsers = 100 })
		quick("members", func() { c.Members = 20_000 })
		quick("restart-members", func() { c.RestartMembers = 2000 })
		quick("settle", func() { c.Settle = time.Second })
		quick("cluster-subs", func() { c.ClusterSubs = 100 })
		quick("cluster-pushes", func() { c.ClusterPushes = 20 })
		quick("cluster-ingest-events", func() { c.ClusterIngest = 20_000 })
	}
	for _, s := range strings.Split(*scen, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if !slices.Contains(scenarioNames, s) {
			return c, fmt.Errorf("unknown scenario %q (have %s)", s, strings.Join(scenarioNames, ", "))
		}
		c.Scenarios = append(c.Scenarios, s)
	}
	switch {
	case c.Duration <= 0 || c.Duration > 10*time.Minute:
		return c, errors.New("--duration must be from 1ns to 10m")
	case c.Conns < 1 || c.Conns > 1024:
		return c, errors.New("--conns must be from 1 to 1024")
	case c.DemoUsers < 50 || c.DemoUsers > 1_000_000:
		return c, errors.New("--demo-users must be from 50 (the Lantern bulk) to 1000000")
	case c.WSConns < 1 || c.WSConns > 1_000_000:
		return c, errors.New("--ws-conns must be from 1 to 1000000")
	case c.WSProcs < 0 || c.WSProcs > 64:
		return c, errors.New("--ws-procs must be from 0 (auto) to 64")
	case c.SSEStreams < 1 || c.SSEStreams > 1_000_000:
		return c, errors.New("--sse-streams must be from 1 to 1000000")
	case c.FanoutSubs < 1 || c.FanoutSubs > 200_000:
		return c, errors.New("--fanout-subs must be from 1 to 200000")
	case c.FanoutPushes < 1 || c.FanoutPushes > 1000:
		return c, errors.New("--fanout-pushes must be from 1 to 1000")
	case c.IngestEvents < 1 || c.IngestEvents > 10_000_000:
		return c, errors.New("--ingest-events must be from 1 to 10000000")
	case c.IngestUsers < 1 || c.IngestUsers > c.DemoUsers:
		return c, errors.New("--ingest-users must be from 1 to --demo-users")
	case c.HistoryUsers < 0 || c.HistoryUsers > c.DemoUsers:
		return c, errors.New("--history-users must be from 0 to --demo-users")
	case c.Members < 1 || c.Members > 1_000_000:
		return c, errors.New("--members must be from 1 to 1000000")
	case c.RestartMembers < 1 || c.RestartMembers > 1_000_000:
		return c, errors.New("--restart-members must be from 1 to 1000000")
	case c.ClusterSubs < 1 || c.ClusterSubs > 5000:
		return c, errors.New("--cluster-subs must be from 1 to 5000 (per node, three nodes)")
	case c.ClusterPushes < 1 || c.ClusterPushes > 1000:
		return c, errors.New("--cluster-pushes must be from 1 to 1000")
	case c.ClusterIngest < 1 || c.ClusterIngest > 10_000_000:
		return c, errors.New("--cluster-ingest-events must be from 1 to 10000000")
	}
	c.ServerReadyWait = 2 * time.Minute
	return c, nil
}

func main() {
	if maybeServeBaseline() || maybeServeFanoutFloor() || maybeHoldWSIdle() {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		stop()
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "halyard-load:", err)
		}
		os.Exit(2)
	}
	rep, err := run(ctx, cfg, os.Stdout)
	stop()
	if cfg.JSON {
		b, _ := json.Marshal(rep)
		fmt.Println(string(b))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "halyard-load:", err)
		os.Exit(1)
	}
}
