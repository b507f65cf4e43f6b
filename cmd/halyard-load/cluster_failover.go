package main

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// failoverMarks numbers the failover's pushes apart from delivery's.
const failoverMarks = 1_000_000

// failover subscribes a few sockets on the two survivors, kills the
// holder with SIGKILL, keeps pushing presences through the simulator
// every 100 ms, and times (from the kill) the lease taken by a survivor,
// that survivor's gateway READY, and the first presence pushed after the
// kill on the other survivor's (the follower's) sockets.
func (c *clusterRun) failover(ctx context.Context, holder int) (failoverResult, error) {
	res := failoverResult{OldHolder: c.names[holder]}
	survivors := c.others(holder)
	const bound = 2 * time.Minute
	r := newCrossRun(failoverMarks, len(c.nodes), int(bound/(100*time.Millisecond))+1)
	subs := newSubscribers()
	defer func() { r.closing.Store(true); subs.closeAll() }()
	held, err := c.subscribeAll(ctx, survivors, min(c.sizes.SubsPerNode, 20), r, subs)
	for _, h := range held {
		res.SurvivorSocket += h
	}
	if err != nil {
		return res, err
	}

	t0 := time.Now()
	if err := c.nodes[holder].Kill(); err != nil {
		return res, err
	}
	pushCtx, cancelPushes := context.WithCancel(ctx)
	pushErr, pushDone := make(chan error, 1), make(chan struct{})
	stopPushes := func() { cancelPushes(); <-pushDone }
	defer stopPushes()
	go func() {
		defer close(pushDone)
		start := time.Now().UnixMilli()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for k := 0; k < len(r.pushedAt); k++ {
			r.stamp(k)
			if err := c.push(pushCtx, r.base+k, start); err != nil && pushCtx.Err() == nil {
				pushErr <- err
				return
			}
			select {
			case <-pushCtx.Done():
				return
			case <-tick.C:
			}
		}
	}()

	newHolder := -1
	deadline := t0.Add(bound)
	for newHolder < 0 || res.HolderReadyS == 0 || res.FirstFreshS == 0 {
		if time.Now().After(deadline) {
			return res, fmt.Errorf("not done within %s of the kill (new holder %q, ready %.1f s, fresh %.1f s)", bound, res.NewHolder, res.HolderReadyS, res.FirstFreshS)
		}
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case err := <-pushErr:
			return res, fmt.Errorf("pushing presences: %w", err)
		case <-time.After(20 * time.Millisecond):
		}
		if newHolder < 0 {
			for _, i := range survivors {
				if c.holdsShard0(ctx, c.nodes[i]) {
					newHolder = i
					res.NewHolder, res.LeaseTakenS = c.names[i], round(time.Since(t0).Seconds(), 3)
					for _, j := range survivors {
						if j != i {
							res.Follower = c.names[j]
						}
					}
					break
				}
			}
			continue
		}
		if res.HolderReadyS == 0 {
			if m, err := scrape(c.client, c.nodes[newHolder].Base); err == nil && m["halyard_gateway_ready"] == 1 {
				res.HolderReadyS = round(time.Since(t0).Seconds(), 3)
			}
		}
		if res.FirstFreshS == 0 {
			for _, j := range survivors {
				if j == newHolder {
					continue
				}
				r.mu.Lock()
				first := r.first[j]
				r.mu.Unlock()
				if !first.IsZero() {
					res.FirstFreshS = round(first.Sub(t0).Seconds(), 3)
				}
			}
		}
	}
	res.SocketsClosed = int(r.closed.Load())
	return res, nil
}

// Kill ends the server with SIGKILL (no shutdown: it frees no lease) and
// waits for it to exit.
func (s *server) Kill() error {
	if s == nil || s.cmd == nil || s.cmd.Process == nil {
		return errors.New("no process to kill")
	}
	if err := s.cmd.Process.Kill(); err != nil {
		return err
	}
	<-s.exited
	return nil
}
