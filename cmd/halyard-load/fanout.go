package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// markPrefix tags a pushed presence; subscribers find it in the frame.
var markPrefix = []byte("hl-mark-")

// fanoutRun is the shared state of one ws-fanout run.
type fanoutRun struct {
	mu       sync.Mutex
	pushedAt []time.Time // by push number, set before the POST
	got      []atomic.Int64
	lat      latencies
	sample   []byte // the first marked frame received: the floor sends its like
}

// receive is a subscriber's reader: it times every marked frame.
func (r *fanoutRun) receive(c *wsConn) {
	for {
		m, err := c.readMessage()
		if err != nil {
			return
		}
		at := time.Now()
		k, ok := markOf(m)
		if !ok {
			continue
		}
		r.mu.Lock()
		if k < len(r.pushedAt) && !r.pushedAt[k].IsZero() {
			r.lat = append(r.lat, at.Sub(r.pushedAt[k]))
			r.got[k].Add(1)
			if r.sample == nil {
				r.sample = m
			}
		}
		r.mu.Unlock()
	}
}

// markOf is the push number of the mark in a frame, if it carries one.
func markOf(m []byte) (int, bool) {
	i := bytes.Index(m, markPrefix)
	if i < 0 {
		return 0, false
	}
	rest := m[i+len(markPrefix):]
	j := 0
	for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
		j++
	}
	k, err := strconv.Atoi(string(rest[:j]))
	return k, err == nil
}

// fanoutResult is the ws-fanout scenario's figures.
type fanoutResult struct {
	Subscribers int     `json:"subscribers"`
	Pushes      int     `json:"pushes"`
	Delivered   int     `json:"delivered"`
	Missing     int     `json:"missing"`
	Lat         summary `json:"latency"`
	// CPUPerDelivery is the server's CPU time (user and system) over the
	// pushes, in µs per frame delivered: with the floor's, it says
	// whether a ratio comes from the server's work or from the moment.
	CPUPerDelivery float64 `json:"cpu_us_per_delivery"`
	Error          string  `json:"error,omitempty"`

	sample []byte // a marked frame as subscribers received it
}

// runFanout subscribes s clients to userID and pushes presences through
// the demo admin API; latency runs from just before the POST to a
// subscriber reading the frame.
func runFanout(ctx context.Context, srv *server, s, pushes int, userID string) (fanoutResult, error) {
	run := &fanoutRun{pushedAt: make([]time.Time, pushes), got: make([]atomic.Int64, pushes)}
	subs := newSubscribers()
	defer subs.closeAll()
	held, err := connectMany(ctx, srv.Addr, s, []string{userID}, false, subs, func(c *wsConn) { go run.receive(c) })
	res := fanoutResult{Subscribers: held, Pushes: pushes}
	if err != nil {
		res.Error = err.Error()
		if held == 0 {
			return res, err
		}
	}
	fmt.Fprintf(progress, "ws-fanout: %d subscribers connected, pushing %d presences\n", held, pushes)
	client := &http.Client{Timeout: 10 * time.Second}
	cpu := startCPU(srv.pid())
	start := time.Now().UnixMilli()
	err = run.pushAll(ctx, held, func(k int) error {
		body := fmt.Sprintf(`{"user":{"id":%q},"status":"online","client_status":{"desktop":"online"},"activities":[`+
			`{"type":4,"name":"Custom Status","id":"custom","state":"%s%d","created_at":%d}]}`, userID, markPrefix, k, start)
		return post(ctx, client, srv.Base+"/admin/v1/demo/presence", srv.AdminToken, body)
	})
	res.fill(run, held)
	res.CPUPerDelivery = cpu.perEvent(res.Delivered)
	if err != nil {
		return res, err
	}
	return res, ctx.Err()
}

// pushAll runs push for every push number in turn, stamping its time just
// before, and waits (up to 10 s) for all held subscribers to receive it.
func (r *fanoutRun) pushAll(ctx context.Context, held int, push func(k int) error) error {
	for k := range r.pushedAt {
		r.mu.Lock()
		r.pushedAt[k] = time.Now()
		r.mu.Unlock()
		if err := push(k); err != nil {
			return err
		}
		deadline := time.Now().Add(10 * time.Second)
		for r.got[k].Load() < int64(held) && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond) // let the server settle between pushes
	}
	return nil
}

// fill sets the delivery figures of a finished run.
func (res *fanoutResult) fill(r *fanoutRun, held int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	res.Delivered = len(r.lat)
	res.Missing = held*len(r.pushedAt) - res.Delivered
	res.Lat = r.lat.summarize()
	res.sample = r.sample
}

// post sends body to url with the admin token and wants 202 Accepted.
func post(ctx context.Context, client *http.Client, url, token, body string) error {
	status, b, err := postJSON(ctx, client, url, token, body)
	if err == nil && status != http.StatusAccepted {
		err = fmt.Errorf("POST %s: %d %s %s", url, status, http.StatusText(status), b)
	}
	return err
}

// postJSON posts a JSON body with the admin token and returns the answer.
func postJSON(ctx context.Context, client *http.Client, url, token, body string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, b, nil
}
