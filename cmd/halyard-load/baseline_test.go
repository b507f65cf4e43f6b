package main

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"
)

// TestBaselineAnswersTheRoutesHeader starts the baseline child with a
// route's answer and checks that it answers the same body and every header
// field of the route but those net/http writes itself (Date, the length):
// the baseline is a fair floor only if both servers write, and the client
// reads, the same bytes.
func TestBaselineAnswersTheRoutesHeader(t *testing.T) {
	route := http.Header{
		"Access-Control-Allow-Origin": {"*"},
		"Content-Type":                {"application/json; charset=utf-8"},
		"Date":                        {"Mon, 07 Dec 2026 22:13:26 GMT"},
		"Content-Length":              {"17"},
	}
	body := []byte(`{"success":true}` + "\n")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	addr, pid, stop, err := startBaseline(ctx, body, answerHeader(route))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if pid <= 0 {
		t.Errorf("pid = %d", pid)
	}
	resp, err := http.Get("http://" + addr + "/v1/users/94490510688792576")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(body) {
		t.Errorf("body %q, want %q", got, body)
	}
	for _, k := range []string{"Access-Control-Allow-Origin", "Content-Type"} {
		if resp.Header.Get(k) != route.Get(k) {
			t.Errorf("%s: %q, want %q", k, resp.Header.Get(k), route.Get(k))
		}
	}
	if resp.Header.Get("Date") == route.Get("Date") {
		t.Errorf("Date %q repeated from the route's answer, want the baseline's own", resp.Header.Get("Date"))
	}
	if len(resp.Header) != 4 {
		t.Errorf("header %v, want the route's two fields, Date and Content-Length", resp.Header)
	}
}

// TestLegsAddUp checks that two legs of one route report as one span:
// requests and time add up, latencies are pooled, CPU time per request is
// the sum over the sum.
func TestLegsAddUp(t *testing.T) {
	ms := time.Millisecond
	a := leg{lat: latencies{ms, ms, 3 * ms, 3 * ms}, total: 4, size: 10, elapsed: time.Second,
		cpu: 80 * time.Microsecond, cpuKnown: true}
	b := leg{lat: latencies{2 * ms, 2 * ms, 4 * ms}, total: 3, errs: 1, size: 10, elapsed: time.Second,
		cpu: 60 * time.Microsecond, cpuKnown: true}
	got := leg{}.add(a).add(b).result()
	if got.Requests != 7 || got.Errors != 1 || got.Bytes != 10 {
		t.Errorf("requests %d, errors %d, bytes %d; want 7, 1, 10", got.Requests, got.Errors, got.Bytes)
	}
	if got.RPS != 3 {
		t.Errorf("rps %v, want 6 good answers in 2 s", got.RPS)
	}
	if got.Lat.N != 7 || got.Lat.P50 != 2 || got.Lat.Max != 4 {
		t.Errorf("latencies %+v, want the seven pooled", got.Lat)
	}
	if got.CPUPerReqUS != 20 {
		t.Errorf("CPU per request %v µs, want 140 µs / 7", got.CPUPerReqUS)
	}
	unknown := a.add(leg{lat: latencies{ms}, total: 1, elapsed: time.Second})
	if r := unknown.result(); r.CPUPerReqUS != 0 {
		t.Errorf("CPU per request %v with one leg's CPU time unknown, want 0 (not measured)", r.CPUPerReqUS)
	}
}
