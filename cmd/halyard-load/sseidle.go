package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// sseIdleResult is the sse-idle scenario's figures.
type sseIdleResult struct {
	Streams           int     `json:"streams"`
	ConnectSeconds    float64 `json:"connect_s"`
	RSSPerStream      float64 `json:"rss_bytes_per_stream"`
	HeapPerStream     float64 `json:"heap_inuse_bytes_per_stream"`
	GoroutinesPerConn float64 `json:"goroutines_per_stream"`
	ServerStreams     float64 `json:"server_sse_streams"` // halyard_sse_streams at the reading
	Error             string  `json:"error,omitempty"`
}

// openIdleStream opens GET /v1/users/<user>/events on a raw connection and
// reads up to the initial state's event; then the stream is left alone
// (the client holds no goroutine either, and reads nothing more: the
// server's pings wait in the socket buffers).
func openIdleStream(addr, user string, src net.Addr, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout, LocalAddr: src}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	_ = nc.SetDeadline(time.Now().Add(timeout))
	if _, err := fmt.Fprintf(nc, "GET /v1/users/%s/events HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n", user, addr); err != nil {
		nc.Close()
		return nil, err
	}
	br := bufio.NewReaderSize(nc, 4096)
	status, err := br.ReadString('\n')
	if err != nil || !strings.Contains(status, " 200 ") {
		nc.Close()
		return nil, fmt.Errorf("status %q: %v", strings.TrimSpace(status), err)
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			nc.Close()
			return nil, err
		}
		if strings.HasPrefix(line, "event: presence") {
			break
		}
	}
	_ = nc.SetDeadline(time.Time{})
	return nc, nil
}

// runSSEIdle holds n idle event streams (one per user in turn) and reads
// the server's memory per stream from its /metrics (delta ÷ n), as
// ws-idle does for sockets.
func runSSEIdle(ctx context.Context, srv *server, n int, users []string, settle time.Duration) (sseIdleResult, error) {
	client := &http.Client{Timeout: 10 * time.Second}
	before, err := scrape(client, srv.Base)
	if err != nil {
		return sseIdleResult{}, err
	}
	// Source addresses of their own (127.0.1.x): ws-idle's closed
	// connections leave 127.0.0.x's ports in TIME_WAIT.
	srcs := sourceAddrs(n)
	for i, a := range srcs {
		ip := a.(*net.TCPAddr).IP.To4()
		srcs[i] = &net.TCPAddr{IP: net.IPv4(127, 0, ip[2]+1, ip[3])}
	}
	conns := make([]net.Conn, n)
	t0 := time.Now()
	held, firstErr := openConcurrently(ctx, n, func(i int) error {
		nc, err := openIdleStream(srv.Addr, users[i%len(users)], srcs[i/perSourceAddr], 10*time.Second)
		if err != nil {
			return fmt.Errorf("stream %d: %w", i, err)
		}
		conns[i] = nc
		return nil
	})
	defer func() {
		for _, nc := range conns {
			if nc != nil {
				nc.Close()
			}
		}
		time.Sleep(500 * time.Millisecond) // let the server notice before the next scenario
	}()
	res := sseIdleResult{Streams: held, ConnectSeconds: round(time.Since(t0).Seconds(), 2)}
	if firstErr != nil {
		res.Error = firstErr.Error()
	}
	if res.Streams == 0 {
		return res, firstErr
	}
	after, err := scrapeAfter(ctx, client, srv.Base, settle)
	if err != nil {
		return res, err
	}
	per := func(name string) float64 { return round((after[name]-before[name])/float64(res.Streams), 1) }
	res.RSSPerStream = per("process_resident_memory_bytes")
	res.HeapPerStream = per("go_memstats_heap_inuse_bytes")
	res.GoroutinesPerConn = round((after["go_goroutines"]-before["go_goroutines"])/float64(res.Streams), 2)
	res.ServerStreams = after["halyard_sse_streams"]
	return res, nil
}
