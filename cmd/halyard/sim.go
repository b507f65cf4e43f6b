package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/halyardhq/halyard/discord/discordsim"
	"github.com/halyardhq/halyard/server"
)

// runSim is `halyard sim`: the Discord simulator alone, for several nodes
// to share (DISCORD_API_URL / DISCORD_GATEWAY_URL), with the demo admin
// routes a --demo node has (POST /admin/v1/demo/presence, POST and
// DELETE /admin/v1/demo/members, POST and GET /admin/v1/demo/messages,
// POST /admin/v1/demo/flood) on the same address, guarded by ADMIN_TOKEN.
// Once listening it prints the two settings a node needs, and nothing
// else, on stdout; BOT_TOKEN (the token the simulator accepts, sim-token
// by default) and a generated admin token go to stderr. It serves until
// ctx ends.
func runSim(ctx context.Context, args []string, environ map[string]string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("halyard sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	st := discordsim.Standalone{Addr: "127.0.0.1:4100", Members: 50, Guilds: 1, Shards: 1, MaxConcurrency: 1,
		Seed: 1, Heartbeat: 41250 * time.Millisecond, EnforceMaxConcurrency: true}
	st.Flags(fs)
	churn := fs.Duration("churn", 3*time.Second, "how often simulated presences change; 0 freezes them")
	logLevel := fs.String("log-level", "warn", "debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: halyard sim --addr HOST:PORT [--users N] [--churn D] [--guilds N] [--shards N]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := checkSimFlags(fs, st, *churn, *logLevel); err != nil {
		fmt.Fprintf(stderr, "halyard sim: %s\n", err)
		return 2
	}
	log := newLogger(stderr, *logLevel, "text")
	token := environ["ADMIN_TOKEN"]
	if token == "" {
		token = randomHex(16)
		fmt.Fprintf(stderr, "halyard sim: ADMIN_TOKEN=%s (generated; set ADMIN_TOKEN to choose it)\n", token)
	}
	cfg := st.Config(log.With("component", "discordsim"))
	if t := environ["BOT_TOKEN"]; t != "" {
		cfg.Token = t
	}
	routes := &lateHandler{}
	cfg.Extra = routes
	sim, err := discordsim.New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "halyard sim: %s\n", oneLine(err))
		return 1
	}
	defer sim.Close()
	routes.set(server.DemoHandler(token, simDriver{sim}, log.With("component", "http")))
	fmt.Fprintf(stderr, "halyard sim: BOT_TOKEN=%s; %d members in %d guilds, %d shards recommended\n",
		sim.Token(), st.Members, st.Guilds, st.Shards)
	addr := sim.ReachableAddr()
	fmt.Fprintf(stdout, "DISCORD_API_URL=http://%s\nDISCORD_GATEWAY_URL=ws://%s/\n", addr, addr)
	if *churn > 0 && st.Members > 0 {
		defer sim.StartChurn(*churn, discordsim.ChurnPerTick(st.Members))()
	}
	<-ctx.Done()
	return 0
}

// checkSimFlags refuses settings the simulator cannot run with.
func checkSimFlags(fs *flag.FlagSet, st discordsim.Standalone, churn time.Duration, logLevel string) error {
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case st.Addr == "":
		return errors.New("--addr must be host:port")
	case st.Members < 0 || st.Members > 1_000_000:
		return fmt.Errorf("--users must be from 0 to 1000000, got %d", st.Members)
	case st.Guilds < 1 || st.Guilds > 10_000:
		return fmt.Errorf("--guilds must be from 1 to 10000, got %d", st.Guilds)
	case st.Shards < 1 || st.Shards > maxShardCount:
		return fmt.Errorf("--shards must be from 1 to %d, got %d", maxShardCount, st.Shards)
	case st.MaxConcurrency < 1 || st.MaxConcurrency > 1024:
		return fmt.Errorf("--max-concurrency must be from 1 to 1024, got %d", st.MaxConcurrency)
	case st.Heartbeat <= 0:
		return errors.New("--heartbeat must be positive")
	case churn < 0:
		return errors.New("--churn must not be negative")
	}
	return Log{LogLevel: logLevel, LogFormat: "text"}.validate()
}

// lateHandler serves the demo routes of a simulator that listens before
// they can be built (they drive it); until then it answers 503.
type lateHandler struct{ h atomic.Pointer[http.Handler] }

func (l *lateHandler) set(h http.Handler) { l.h.Store(&h) }

// ServeHTTP implements http.Handler.
func (l *lateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h := l.h.Load(); h != nil {
		(*h).ServeHTTP(w, r)
		return
	}
	http.Error(w, "starting", http.StatusServiceUnavailable)
}
