package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/halyardhq/halyard/discord/discordsim"
)

// restartResult is the restart scenario's figures (issue 12).
type restartResult struct {
	Members int `json:"members"`
	// Records is how many user records the data dir held at the restart.
	Records float64 `json:"records"`
	// PopulateS is how long the first run took from exec until every
	// member's record was written.
	PopulateS float64 `json:"populate_s"`
	// ReadyMS is exec → /readyz 200 on the populated data dir.
	ReadyMS float64 `json:"ready_ms"`
	// FirstWriteMS is exec → the first accepted KV write (a token issued
	// through the admin API, then a Lanyard KV PUT with it).
	FirstWriteMS float64 `json:"first_write_ms"`
	// Rewritten is the records the restarted server had to write again
	// (changed since the last run, e.g. last seen), read at ready.
	Rewritten float64 `json:"rewritten_at_ready"`
	// RewriteS is how long after ready those were all written.
	RewriteS float64 `json:"rewrite_s"`
	// StopMS is how long the restarted server took to stop on SIGTERM.
	StopMS float64 `json:"stop_ms"`
}

// runRestart is issue 12's restart, measured: a real-mode Halyard against
// an m-member simulator in the tool's process writes every member's record
// into a data dir, stops (SIGTERM), and starts again on that data dir.
// It reports exec → ready and exec → first accepted write of the second
// start, and how long the records it rewrites take.
func runRestart(ctx context.Context, bin string, m int) (restartResult, error) {
	res := restartResult{Members: m}
	sim, err := discordsim.New(discordsim.Config{Seed: 1, Members: m, HeartbeatInterval: 20 * time.Second})
	if err != nil {
		return res, fmt.Errorf("starting the simulator: %v", err)
	}
	defer sim.Close()
	dataDir, err := os.MkdirTemp("", "halyard-load-restart-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dataDir)
	token := randomHex(16)
	client := &http.Client{Timeout: 30 * time.Second}

	first, err := startProcessIn(ctx, bin, dataDir, token, 0, sim, 15*time.Minute)
	if err != nil {
		return res, err
	}
	defer first.Stop()
	fmt.Fprintf(progress, "%-10s first run ready after %.1f s; writing %d members' records …\n", "restart", first.Start.Seconds(), m)
	if err := waitRecordsWritten(ctx, client, first, m, 60*time.Minute); err != nil {
		return res, err
	}
	res.PopulateS = round(time.Since(first.Exec).Seconds(), 1)
	users, _, err := listUsers(ctx, first)
	if err != nil {
		return res, err
	}
	first.Stop()

	second, err := startProcessIn(ctx, bin, dataDir, token, 0, sim, 15*time.Minute)
	if err != nil {
		return res, err
	}
	defer second.Stop()
	res.ReadyMS = round(float64(second.Start)/float64(time.Millisecond), 1)
	if err := firstWrite(ctx, client, second, users[len(users)/2]); err != nil {
		return res, fmt.Errorf("%v\nthe server's log:\n%s", err, second.logs)
	}
	res.FirstWriteMS = round(float64(time.Since(second.Exec))/float64(time.Millisecond), 1)

	after, err := scrape(client, second.Base)
	if err != nil {
		return res, err
	}
	res.Rewritten = after["halyard_user_records_pending"]
	rewriteFrom := time.Now()
	if err := waitRecordsWritten(ctx, client, second, m, 60*time.Minute); err != nil {
		return res, err
	}
	res.RewriteS = round(time.Since(rewriteFrom).Seconds(), 1)
	res.Records = float64(m) // every member's record was written before the restart

	stopFrom := time.Now()
	second.Stop()
	res.StopMS = round(float64(time.Since(stopFrom))/float64(time.Millisecond), 1)
	return res, nil
}

// waitRecordsWritten polls /metrics until the server monitors m users and
// no user record waits to be written.
func waitRecordsWritten(ctx context.Context, client *http.Client, srv *server, m int, bound time.Duration) error {
	deadline := time.Now().Add(bound)
	for {
		got, err := scrape(client, srv.Base)
		if err == nil && int(got["halyard_monitored_users"]) >= m && got["halyard_user_records_pending"] == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("records not written within %s (last scrape: %v, %.0f pending)", bound, err, got["halyard_user_records_pending"])
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// firstWrite issues a token for userID through the admin API and writes
// one KV pair with it, retrying every few milliseconds until both are
// accepted (bounded).
func firstWrite(ctx context.Context, client *http.Client, srv *server, userID string) error {
	deadline := time.Now().Add(2 * time.Minute)
	var last string
	for time.Now().Before(deadline) {
		code, body, err := call(ctx, client, "POST", srv.Base+"/admin/v1/users/"+userID+"/token", "Bearer "+srv.AdminToken, "")
		if err == nil && code == http.StatusOK {
			var tok struct{ Token string }
			if json.Unmarshal([]byte(body), &tok) != nil || tok.Token == "" {
				return fmt.Errorf("token answer %q", body)
			}
			code, body, err = call(ctx, client, "PUT", srv.Base+"/v1/users/"+userID+"/kv/restart", tok.Token, "1")
			if err == nil && code == http.StatusNoContent {
				return nil
			}
		}
		last = fmt.Sprintf("%d %s %v", code, body, err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return errors.New("no write accepted within 2 minutes of ready: " + last)
}

// call makes one request and returns its status and body.
func call(ctx context.Context, client *http.Client, method, url, auth, body string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", auth)
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}
