package main

import (
	"bufio"
	"context"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3filter"
)

func init() {
	// The first event of a stream is checked as an opaque string.
	openapi3filter.RegisterBodyDecoder("text/event-stream", openapi3filter.FileBodyDecoder)
}

// driveBadgeRoutes drives GET /badge/{id}/{badge} for
// TestOpenAPILiveResponses: each badge, the styles and overrides, a 304,
// and the error badges.
func driveBadgeRoutes(a *apiChecker, user, unmonitored string) {
	a.t.Helper()
	const tmpl = "/badge/{id}/{badge}"
	var tag string
	for _, kind := range []string{"status", "activity", "listening", "custom"} {
		a.do(req{method: "GET", path: "/badge/" + user + "/" + kind + ".svg", template: tmpl, status: 200})
	}
	a.do(req{method: "GET", path: "/badge/" + user + "/status.svg?style=for-the-badge&label=me&color=ff69b4", template: tmpl, status: 200})
	hr, _ := http.Get(a.base + "/badge/" + user + "/status.svg?style=flat-square")
	if hr != nil {
		tag = hr.Header.Get("ETag")
		hr.Body.Close()
	}
	a.do(req{method: "GET", path: "/badge/" + user + "/status.svg?style=flat-square", header: map[string]string{"If-None-Match": tag}, template: tmpl, status: 304})
	a.do(req{method: "GET", path: "/badge/" + unmonitored + "/status.svg", template: tmpl, status: 404})
	a.do(req{method: "GET", path: "/badge/abc/status.svg", template: tmpl, status: 400})
	a.do(req{method: "GET", path: "/badge/" + user + "/status.svg?color=nope", template: tmpl, status: 400})
}

// driveStreamRoutes drives the event streams for TestOpenAPILiveResponses:
// a stream is read up to its first event, which is validated with the
// headers; the errors go through apiChecker.do.
func driveStreamRoutes(a *apiChecker, user, other, unmonitored string) {
	a.t.Helper()
	a.stream("/v1/users/"+user+"/events", "/v1/users/{id}/events")
	a.stream("/v1/events?ids="+user+","+other, "/v1/events")
	a.do(req{method: "GET", path: "/v1/users/abc/events", status: 400})
	a.do(req{method: "GET", path: "/v1/users/" + unmonitored + "/events", status: 404})
	a.do(req{method: "GET", path: "/v1/events?ids=", status: 400})
	a.do(req{method: "GET", path: "/v1/events?ids=1,,2", status: 400})
}

// stream opens an event stream, reads it up to the end of its first
// presence event and validates the status, headers and that beginning
// against the document.
func (a *apiChecker) stream(path, template string) {
	a.t.Helper()
	hr, _ := http.NewRequest("GET", a.base+path, nil)
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		a.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		a.t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	var first strings.Builder
	br := bufio.NewReader(resp.Body)
	for !strings.Contains(first.String(), "\ndata: ") || !strings.HasSuffix(first.String(), "\n\n") {
		line, err := br.ReadString('\n')
		if err != nil {
			a.t.Fatalf("GET %s: %v after %q", path, err, first.String())
		}
		first.WriteString(line)
	}
	route, params, err := a.router.FindRoute(hr)
	if err != nil || route.Path != template {
		a.t.Fatalf("GET %s: routed to %v (%v), want %s", path, route, err, template)
	}
	op := "GET " + route.Path
	if a.seen[op] == nil {
		a.seen[op] = map[int]int{}
	}
	a.seen[op][resp.StatusCode]++
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: hr, PathParams: params, Route: route},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes([]byte(first.String()))
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		a.t.Fatalf("GET %s: the stream does not match the document: %v", path, err)
	}
}
