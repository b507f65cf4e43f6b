package server

import (
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// TestObserverFor: one route's text at two addresses (two router nodes
// with the same pattern) records into the same series; method and status
// class pick their own; past maxCachedRoutes routes are still recorded.
func TestObserverFor(t *testing.T) {
	m := NewMetrics(nil)
	a := "/v1/users/:id"
	b := strings.Clone(a) // the same text elsewhere
	get, ok2xx, ok4xx := methodIndex("GET"), statusIndex(200), statusIndex(404)
	m.observerFor(a, get, ok2xx).Observe(0.001)
	m.observerFor(b, get, ok2xx).Observe(0.001)
	m.observerFor(a, get, ok4xx).Observe(0.001)
	m.observerFor(a, methodIndex("BREW"), ok2xx).Observe(0.001)
	for range maxCachedRoutes + 10 {
		m.observerFor(strings.Clone("/many"), get, ok2xx).Observe(0.001)
	}
	if n := len(*m.routes.Load()); n > maxCachedRoutes {
		t.Fatalf("%d routes kept, more than %d", n, maxCachedRoutes)
	}
	want := map[string]uint64{
		"/v1/users/:id GET 2xx":   2,
		"/v1/users/:id GET 4xx":   1,
		"/v1/users/:id OTHER 2xx": 1,
		"/many GET 2xx":           maxCachedRoutes + 10,
	}
	got := map[string]uint64{}
	families, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "halyard_http_request_duration_seconds" {
			continue
		}
		for _, s := range f.GetMetric() {
			got[label(s, "route")+" "+label(s, "method")+" "+label(s, "code")] = s.GetHistogram().GetSampleCount()
		}
	}
	if len(got) != len(want) {
		t.Fatalf("series %v, want %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Fatalf("series %v, want %v", got, want)
		}
	}
}

// label is the value of a series' label.
func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
