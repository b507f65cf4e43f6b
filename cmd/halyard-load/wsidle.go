package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// perSourceAddr is how many connections one 127.0.0.x source address
// carries: below the ~28,000 ephemeral ports Linux binds per address.
const perSourceAddr = 20_000

// sourceAddrs are the local addresses for n connections: 127.0.0.2 and up.
func sourceAddrs(n int) []net.Addr { return sourceAddrsFrom(0, n) }

// sourceAddrsFrom are the local addresses for n connections, starting
// first addresses after 127.0.0.2 (a child process takes its own range).
func sourceAddrsFrom(first, n int) []net.Addr {
	k := (n + perSourceAddr - 1) / perSourceAddr
	out := make([]net.Addr, 0, k)
	for i := first; i < first+k; i++ {
		out = append(out, &net.TCPAddr{IP: net.IPv4(127, byte((2+i)>>16), byte((2+i)>>8), byte(2+i))})
	}
	return out
}

// subscribers holds WebSocket subscribers and keeps them alive with the
// dialect's heartbeat from one goroutine (no goroutine per connection).
type subscribers struct {
	mu    sync.Mutex
	conns []*wsConn
	stop  chan struct{}
	done  chan struct{}
}

func newSubscribers() *subscribers {
	s := &subscribers{stop: make(chan struct{}), done: make(chan struct{})}
	go s.keepAlive(20 * time.Second) // both dialects announce 30 s
	return s
}

func (s *subscribers) add(c *wsConn) {
	s.mu.Lock()
	s.conns = append(s.conns, c)
	s.mu.Unlock()
}

func (s *subscribers) keepAlive(every time.Duration) {
	defer close(s.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		s.mu.Lock()
		conns := s.conns
		s.mu.Unlock()
		for _, c := range conns {
			_ = c.heartbeat()
		}
	}
}

// closeAll stops the heartbeats and closes every connection.
func (s *subscribers) closeAll() {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.Close()
	}
	s.conns = nil
}

// connectMany opens n subscribers (even: Lanyard, odd: Lantern) to the
// users in turn, spread over the source addresses, with parallel dials. It
// stops at the first failure and returns what it holds with the error.
func connectMany(ctx context.Context, addr string, n int, users []string, park bool, subs *subscribers, onConn func(*wsConn)) (int, error) {
	return connectManyFrom(ctx, addr, n, 0, users, park, subs, onConn)
}

// connectManyFrom is connectMany over the source addresses from firstSrc.
func connectManyFrom(ctx context.Context, addr string, n, firstSrc int, users []string, park bool, subs *subscribers, onConn func(*wsConn)) (int, error) {
	return connectDialects(ctx, addr, n, firstSrc, []string{"lanyard", "lantern"}, users, park, subs, onConn)
}

// connectDialects is connectManyFrom with subscriber i in dialects[i %
// len(dialects)].
func connectDialects(ctx context.Context, addr string, n, firstSrc int, dialects, users []string, park bool, subs *subscribers, onConn func(*wsConn)) (int, error) {
	srcs := sourceAddrsFrom(firstSrc, n)
	return openConcurrently(ctx, n, func(i int) error {
		dialect := dialects[i%len(dialects)]
		c, err := subscribe(addr, dialect, users[i%len(users)], srcs[i/perSourceAddr], 10*time.Second)
		if err != nil {
			return fmt.Errorf("subscriber %d (%s): %w", i, dialect, err)
		}
		if park {
			c.park()
		}
		subs.add(c)
		if onConn != nil {
			onConn(c)
		}
		return nil
	})
}

// openConcurrently runs open(0) … open(n-1) from 32 goroutines, stops at
// the first error or when ctx ends, and returns how many succeeded with
// the first error.
func openConcurrently(ctx context.Context, n int, open func(i int) error) (int, error) {
	var next, held atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() && ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := open(i); err != nil {
					errOnce.Do(func() { firstErr = err })
					failed.Store(true)
					return
				}
				held.Add(1)
			}
		}()
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	return int(held.Load()), firstErr
}

// wsIdleResult is the ws-idle scenario's figures.
type wsIdleResult struct {
	Conns             int     `json:"conns"`
	Procs             int     `json:"procs"`      // client processes holding them
	FileLimit         uint64  `json:"file_limit"` // RLIMIT_NOFILE of the tool and of the server it starts
	CappedBy          string  `json:"capped_by,omitempty"`
	SourceAddrs       int     `json:"source_addrs"`
	ConnectSeconds    float64 `json:"connect_s"`
	RSSPerConn        float64 `json:"rss_bytes_per_conn"`
	HeapPerConn       float64 `json:"heap_inuse_bytes_per_conn"`
	GoroutinesPerConn float64 `json:"goroutines_per_conn"`
	RSSBefore         float64 `json:"rss_before_bytes"`
	RSSAfter          float64 `json:"rss_after_bytes"`
	ServerSockets     float64 `json:"server_socket_connections"` // halyard_socket_connections at the reading (dialects that export it)
	// HeapAfterGCPerConn is the heap in use per connection once the heap
	// profile's collection ran (--heap-profile only): the live bytes,
	// where HeapPerConn also counts garbage not collected yet.
	HeapAfterGCPerConn float64 `json:"heap_inuse_after_gc_bytes_per_conn,omitempty"`
	// SplitPerConn is where the RSS per connection goes, from the Go
	// runtime's memory statistics (delta ÷ connections): heap objects
	// (heap_alloc, garbage included), spans in use beyond them
	// (span_slack), freed heap pages the runtime has not returned to the
	// OS yet (heap_unreleased), goroutine stacks, the runtime's own
	// bookkeeping (GC metadata, span structures, the rest) and the
	// difference between RSS and what the runtime obtained from the OS
	// (not_go: negative while the runtime holds address space that was
	// never touched or was released).
	SplitPerConn map[string]float64 `json:"split_per_conn,omitempty"`
	Error        string             `json:"error,omitempty"`
}

// runWSIdle holds n idle subscribers and reads the server's memory per
// connection from its /metrics (delta from before connecting ÷ n).
//
// procs child processes hold the subscribers (0: as many as the tool's
// descriptor limit needs; 1: the tool itself), so the server, not the
// tool, is what caps the count. With heapProfile set, the server's heap
// profile is saved there right after the reading.
func runWSIdle(ctx context.Context, srv *server, n, procs int, users []string, settle time.Duration, heapProfile string) (wsIdleResult, error) {
	client := &http.Client{Timeout: 10 * time.Second}
	before, err := scrape(client, srv.Base)
	if err != nil {
		return wsIdleResult{}, err
	}
	limit := fileLimit()
	procs = wsIdleProcs(n, procs, limit)
	defer time.Sleep(500 * time.Millisecond) // runs last: let the server notice the closes before the next scenario
	t0 := time.Now()
	var held int
	var cerr error
	if procs == 1 {
		subs := newSubscribers()
		defer subs.closeAll()
		held, cerr = connectMany(ctx, srv.Addr, n, users, true, subs, nil)
	} else {
		var stop func()
		held, stop, cerr = holdIdleInChildren(ctx, srv.Addr, n, procs, users)
		defer stop()
	}
	res := wsIdleResult{Conns: held, Procs: procs, FileLimit: limit, SourceAddrs: len(sourceAddrs(n)) + procs - 1,
		ConnectSeconds: round(time.Since(t0).Seconds(), 2)}
	if cerr != nil {
		res.Error = cerr.Error()
		if limit > 0 && uint64(held)+200 >= limit {
			// The server inherits the tool's limit and holds one
			// descriptor per socket plus a few of its own.
			res.CappedBy = fmt.Sprintf("the server's RLIMIT_NOFILE (%d): raise the hard limit (ulimit -Hn, LimitNOFILE=) to measure more", limit)
		}
	}
	if held == 0 {
		return res, cerr
	}
	after, err := scrapeAfter(ctx, client, srv.Base, settle)
	if err != nil {
		return res, err
	}
	per := func(name string) float64 { return round((after[name]-before[name])/float64(held), 1) }
	res.RSSPerConn = per("process_resident_memory_bytes")
	res.HeapPerConn = per("go_memstats_heap_inuse_bytes")
	res.GoroutinesPerConn = round((after["go_goroutines"]-before["go_goroutines"])/float64(held), 2)
	res.RSSBefore, res.RSSAfter = before["process_resident_memory_bytes"], after["process_resident_memory_bytes"]
	res.ServerSockets = after["halyard_socket_connections"]
	res.SplitPerConn = memorySplit(before, after, held)
	if heapProfile != "" {
		if err := saveHeapProfile(ctx, client, srv, heapProfile); err != nil {
			return res, err
		}
		gced, err := scrape(client, srv.Base)
		if err != nil {
			return res, err
		}
		res.HeapAfterGCPerConn = round((gced["go_memstats_heap_inuse_bytes"]-before["go_memstats_heap_inuse_bytes"])/float64(held), 1)
	}
	return res, nil
}

// memorySplit splits the growth of the server's memory between two
// scrapes into the runtime's parts, per connection (see SplitPerConn).
func memorySplit(before, after metrics, n int) map[string]float64 {
	d := func(name string) float64 { return after[name] - before[name] }
	per := func(v float64) float64 { return round(v/float64(n), 1) }
	return map[string]float64{
		"heap_alloc":      per(d("go_memstats_heap_alloc_bytes")),
		"span_slack":      per(d("go_memstats_heap_inuse_bytes") - d("go_memstats_heap_alloc_bytes")),
		"heap_unreleased": per(d("go_memstats_heap_idle_bytes") - d("go_memstats_heap_released_bytes")),
		"stacks":          per(d("go_memstats_stack_inuse_bytes")),
		"runtime_gc":      per(d("go_memstats_gc_sys_bytes")),
		"runtime_spans":   per(d("go_memstats_mspan_sys_bytes") + d("go_memstats_mcache_sys_bytes")),
		"runtime_other":   per(d("go_memstats_other_sys_bytes") + d("go_memstats_buck_hash_sys_bytes")),
		"not_go":          per(d("process_resident_memory_bytes") - d("go_memstats_sys_bytes")),
	}
}

// scrapeAfter waits settle (the server's memory settling after a
// scenario's connections opened), then reads its /metrics.
func scrapeAfter(ctx context.Context, client *http.Client, base string, settle time.Duration) (metrics, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(settle):
	}
	return scrape(client, base)
}
