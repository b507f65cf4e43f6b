package main

import (
	"context"
	"net/http"
	"time"
)

// membersResult is the members scenario's figures.
type membersResult struct {
	Members   int     `json:"members"`
	Monitored float64 `json:"monitored"`
	ReadyMS   float64 `json:"ready_ms"`
	RSS       float64 `json:"rss_bytes"`
	HeapInuse float64 `json:"heap_inuse_bytes"`
}

// runMembers starts a second server with m simulated members (its bot
// receives GUILD_CREATE and the member chunks) and reads the time to
// /readyz and the memory once settled.
func runMembers(ctx context.Context, bin string, m int, settle time.Duration) (membersResult, error) {
	srv, err := startServer(ctx, bin, m, 15*time.Minute)
	if err != nil {
		return membersResult{}, err
	}
	defer srv.Stop()
	res := membersResult{Members: m, ReadyMS: round(float64(srv.Start)/float64(time.Millisecond), 1)}
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
	return res, nil
}
