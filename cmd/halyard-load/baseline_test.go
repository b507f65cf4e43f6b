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
