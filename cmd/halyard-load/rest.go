package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// route is one GET the rest scenario loads.
type route struct {
	Name string // key in rest_rps
	Path string
}

// restRoutes are the presence GETs of every dialect for userID, and
// Lantern's bulk call for ids (up to 50).
func restRoutes(userID string, ids []string) []route {
	var bulk strings.Builder
	for i, id := range ids {
		if i > 0 {
			bulk.WriteByte('&')
		}
		bulk.WriteString("user_ids=" + id)
	}
	return []route{
		{"lanyard /v1/users/:id", "/v1/users/" + userID},
		{"lantern /api/v1/users/:id", "/api/v1/users/" + userID},
		{fmt.Sprintf("lantern bulk %d /api/v1/users?user_ids=", len(ids)), "/api/v1/users?" + bulk.String()},
		{"harmy /user/:id", "/user/" + userID},
	}
}

// restResult is one route's figures.
type restResult struct {
	RPS      float64 `json:"rps"`
	Errors   int64   `json:"errors"`
	Bytes    int     `json:"bytes"` // body size of one answer
	Lat      summary `json:"latency"`
	Requests int64   `json:"requests"` // answered
	// CPUPerReqUS is the serving process's CPU time (user and system, all
	// its threads) per answered request, in µs: unlike req/s it hardly
	// moves with the neighbours' load. 0 when the process is not the
	// tool's child (--target).
	CPUPerReqUS float64 `json:"cpu_us_per_req,omitempty"`
}

// loadGET sends GET path over conns keep-alive connections for d and
// reports requests per second and latency. Each connection is a
// goroutine writing one pre-encoded request and reading the answer with
// http.ReadResponse: lighter than http.Client, so more of the two cores
// go to the server under test.
func loadGET(ctx context.Context, addr, path string, conns int, d time.Duration) (restResult, error) {
	l, err := loadLeg(ctx, addr, path, conns, d, 0)
	if err != nil {
		return restResult{}, err
	}
	return l.result(), nil
}

// leg is one span of load on one route: what loadGET reports, before it
// is summarized, so that legs of one route run at different moments can
// be added up (legs.add).
type leg struct {
	lat      latencies
	total    int64 // answers read
	errs     int64 // answers that were not 200
	size     int   // body size of one answer
	elapsed  time.Duration
	cpu      time.Duration // the serving process's CPU time over the leg
	cpuKnown bool
}

// add returns l and o as one leg.
func (l leg) add(o leg) leg {
	if l.total == 0 && l.elapsed == 0 {
		return o
	}
	return leg{lat: append(l.lat, o.lat...), total: l.total + o.total, errs: l.errs + o.errs, size: max(l.size, o.size),
		elapsed: l.elapsed + o.elapsed, cpu: l.cpu + o.cpu, cpuKnown: l.cpuKnown && o.cpuKnown}
}

// result summarizes the leg.
func (l leg) result() restResult {
	r := restResult{Errors: l.errs, Bytes: l.size, Lat: l.lat.summarize(), Requests: l.total}
	if l.elapsed > 0 {
		r.RPS = round(float64(l.total-l.errs)/l.elapsed.Seconds(), 0)
	}
	if l.cpuKnown && l.total > 0 {
		r.CPUPerReqUS = round(float64(l.cpu)/float64(time.Microsecond)/float64(l.total), 1)
	}
	return r
}

// loadLeg is loadGET's load, reported as a leg; pid, when not 0, is the
// serving process whose CPU time over the leg is read.
func loadLeg(ctx context.Context, addr, path string, conns int, d time.Duration, pid int) (leg, error) {
	req := []byte("GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nUser-Agent: halyard-load\r\n\r\n")
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		out     leg
		firstEr error
	)
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	cpu := startCPU(pid)
	start := time.Now()
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat, n, e, sz, err := oneConnection(ctx, addr, req)
			mu.Lock()
			defer mu.Unlock()
			out.lat = append(out.lat, lat...)
			out.total += n
			out.errs += e
			if sz > 0 {
				out.size = sz
			}
			if err != nil && firstEr == nil {
				firstEr = err
			}
		}()
	}
	wg.Wait()
	out.elapsed = time.Since(start)
	out.cpu, out.cpuKnown = cpu.used()
	if out.total == 0 {
		if firstEr == nil {
			firstEr = fmt.Errorf("GET %s: no answer", path)
		}
		return leg{}, firstEr
	}
	return out, nil
}

// oneConnection loops requests on one connection until ctx ends,
// reconnecting if the server closes it.
func oneConnection(ctx context.Context, addr string, req []byte) (lat latencies, n, errs int64, size int, err error) {
	lat = make(latencies, 0, 1<<14)
	for ctx.Err() == nil {
		conn, derr := net.DialTimeout("tcp", addr, 5*time.Second)
		if derr != nil {
			return lat, n, errs, size, derr
		}
		br := bufio.NewReaderSize(conn, 16<<10)
		stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
		for ctx.Err() == nil {
			t0 := time.Now()
			if _, err = conn.Write(req); err != nil {
				break
			}
			resp, rerr := http.ReadResponse(br, nil)
			if rerr != nil {
				err = rerr
				break
			}
			b, rerr := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if rerr != nil {
				err = rerr
				break
			}
			lat = append(lat, time.Since(t0))
			n++
			size = int(b)
			if resp.StatusCode != http.StatusOK {
				errs++
			}
			if resp.Close {
				break
			}
		}
		stop()
		conn.Close()
	}
	if ctx.Err() != nil {
		err = nil // the deadline cut the last request short
	}
	return lat, n, errs, size, err
}
