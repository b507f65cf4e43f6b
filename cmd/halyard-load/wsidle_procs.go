package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// wsIdleChildEnv marks a ws-idle child process: it holds its share of the
// idle subscribers, so that the tool's own descriptor limit (one process)
// does not cap how many sockets it can measure the server holding.
const wsIdleChildEnv = "HALYARD_LOAD_WS_IDLE_CHILD"

// wsIdleShare is one child's share of the idle subscribers.
type wsIdleShare struct {
	Addr     string   `json:"addr"`
	N        int      `json:"n"`
	FirstSrc int      `json:"first_src"` // index of its first 127.0.0.x source address
	Users    []string `json:"users"`
}

// maybeHoldWSIdle holds a share and never returns when this process is a
// ws-idle child; otherwise it returns false at once. Its first line is
// "held N" or "held N error: …"; it then keeps the subscribers alive with
// heartbeats until the parent kills it.
func maybeHoldWSIdle() bool {
	v := os.Getenv(wsIdleChildEnv)
	if v == "" {
		return false
	}
	var sh wsIdleShare
	if err := json.Unmarshal([]byte(v), &sh); err != nil {
		fmt.Println("held 0 error:", err)
		os.Exit(1)
	}
	raiseFileLimit(uint64(sh.N) + 1000)
	subs := newSubscribers()
	held, err := connectManyFrom(context.Background(), sh.Addr, sh.N, sh.FirstSrc, sh.Users, true, subs, nil)
	if err != nil {
		fmt.Printf("held %d error: %s\n", held, strings.ReplaceAll(err.Error(), "\n", " "))
	} else {
		fmt.Printf("held %d\n", held)
	}
	select {}
}

// wsIdleProcs is how many processes hold n subscribers when procs is 0
// (auto): one per limit's worth of descriptors, keeping 1 000 spare.
func wsIdleProcs(n, procs int, limit uint64) int {
	if procs > 0 {
		return procs
	}
	per := int(max(limit, 2000) - 1000)
	return max(1, (n+per-1)/per)
}

// holdIdleInChildren spreads n parked subscribers over procs child
// processes, each on its own 127.0.0.x source addresses, and returns how
// many they hold, a function that closes them all, and the first error.
func holdIdleInChildren(ctx context.Context, addr string, n, procs int, users []string) (int, func(), error) {
	var (
		mu       sync.Mutex
		held     int
		firstErr error
		stops    []func()
		wg       sync.WaitGroup
	)
	first := 0
	for i := range procs {
		share := wsIdleShare{Addr: addr, N: n / procs, FirstSrc: first, Users: users}
		if i < n%procs {
			share.N++
		}
		if share.N == 0 {
			continue
		}
		first += len(sourceAddrs(share.N))
		b, _ := json.Marshal(share)
		wg.Add(1)
		go func() {
			defer wg.Done()
			line, stop, err := startChildWait(ctx, wsIdleChildEnv, string(b), 10*time.Minute)
			mu.Lock()
			defer mu.Unlock()
			if stop != nil {
				stops = append(stops, stop)
			}
			if err == nil {
				var k int
				k, err = parseHeld(line)
				held += k
			}
			if err != nil && firstErr == nil {
				firstErr = fmt.Errorf("ws-idle child %d: %w", i, err)
			}
		}()
	}
	wg.Wait()
	return held, func() {
		for _, stop := range stops {
			stop()
		}
	}, firstErr
}

// parseHeld reads a child's "held N[ error: …]" line.
func parseHeld(line string) (int, error) {
	rest, ok := strings.CutPrefix(line, "held ")
	if !ok {
		return 0, fmt.Errorf("unexpected line %q", line)
	}
	num, msg, failed := strings.Cut(rest, " error: ")
	k, err := strconv.Atoi(num)
	if err != nil {
		return 0, fmt.Errorf("unexpected line %q", line)
	}
	if failed {
		return k, fmt.Errorf("%s", msg)
	}
	return k, nil
}
