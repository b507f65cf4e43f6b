package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/halyardhq/halyard/discord/discordsim"
)

// membersResult is the members scenario's figures.
type membersResult struct {
	Members   int     `json:"members"`
	Monitored float64 `json:"monitored"`
	ReadyMS   float64 `json:"ready_ms"`
	RSS       float64 `json:"rss_bytes"`
	HeapInuse float64 `json:"heap_inuse_bytes"`
	// ReadyCPU is the server's CPU time (user and system) from exec to
	// /readyz 200, and SimCPU this tool's over the same span — nearly all
	// of it the simulator sending the members: on a shared machine, CPU
	// time says more about a change than the wall clock does.
	ReadyCPU float64 `json:"ready_cpu_s"`
	SimCPU   float64 `json:"sim_cpu_s"`
}

// runMembers starts the Discord simulator with m members in this process
// and a Halyard process in real mode whose bot logs in to it (GUILD_CREATE
// and the member chunks travel the real gateway), then reads the time to
// /readyz and the memory once settled. The simulator (its population and
// the frames it keeps for RESUME) lives in the tool, so the server's RSS is
// Halyard's own. GOMEMLIMIT in the tool's environment reaches the server.
// With heapProfile set, the server's heap profile is saved there once
// settled (after the figures are read).
func runMembers(ctx context.Context, bin string, m int, settle time.Duration, heapProfile string) (membersResult, error) {
	sim, err := discordsim.New(discordsim.Config{Seed: 1, Members: m, HeartbeatInterval: 20 * time.Second})
	if err != nil {
		return membersResult{}, fmt.Errorf("starting the simulator: %v", err)
	}
	defer sim.Close()
	if heapProfile != "" {
		_ = os.Setenv(pprofEnv, "1") // the server inherits it: its profiling routes
	}
	toolBefore, _ := processCPU(os.Getpid())
	srv, err := startProcess(ctx, bin, 0, sim, 15*time.Minute)
	if err != nil {
		return membersResult{}, err
	}
	defer srv.Stop()
	res := membersResult{Members: m, ReadyMS: round(float64(srv.Start)/float64(time.Millisecond), 1)}
	if cpu, ok := processCPU(srv.pid()); ok {
		res.ReadyCPU = round(cpu.Seconds(), 2)
	}
	if cpu, ok := processCPU(os.Getpid()); ok {
		res.SimCPU = round((cpu - toolBefore).Seconds(), 2)
	}
	select {
	case <-ctx.Done():
		return res, ctx.Err()
	case <-time.After(settle):
	}
	after, err := scrape(&http.Client{Timeout: 30 * time.Second}, srv.Base)
	if err != nil {
		return res, err
	}
	res.Monitored = after["halyard_monitored_users"]
	res.RSS = after["process_resident_memory_bytes"]
	res.HeapInuse = after["go_memstats_heap_inuse_bytes"]
	if heapProfile != "" {
		return res, saveHeapProfile(ctx, &http.Client{Timeout: 5 * time.Minute}, srv, heapProfile)
	}
	return res, nil
}
