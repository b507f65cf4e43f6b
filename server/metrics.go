package server

import (
	"maps"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/internal/buildinfo"
	"github.com/halyardhq/halyard/internal/httpconn"
)

// Metrics is Halyard's Prometheus registry: the server's own halyard_*
// metrics (HTTP, hub, and the gateway and socket sources wired in with
// RegisterGateway and RegisterSockets) plus the Go runtime and process
// collectors. It is private to the server, so nothing registered globally
// by a library leaks into /metrics.
type Metrics struct {
	reg      *prometheus.Registry
	handler  http.Handler
	requests *prometheus.HistogramVec
	// inFlight counts the requests being answered: an integer added to
	// twice per request, read by the gauge when scraped (a Gauge's Inc
	// and Dec are each a compare-and-swap loop on a float).
	inFlight atomic.Int64
	// routes are requests' histograms by route, each looked up once per
	// label set (observerFor): WithLabelValues hashes, checks and looks
	// up the three values again on every request. The map is keyed by
	// the route pattern's bytes' address and length, which echo hands
	// out the same for every request of a route (c.Path), so a lookup
	// does not hash the pattern; a pattern at another address (the same
	// text in another route) gets an entry of its own, holding the same
	// histograms.
	routes   atomic.Pointer[map[routeKey]*routeObservers]
	routesMu sync.Mutex // serializes additions to routes
	// recent holds routes by their key's hash, so that a request
	// finds its route with one load and a comparison: a lookup in routes
	// cost as much as the one by label values it replaced (perf: 0.11
	// against 0.12 µs a request). Two routes on one slot take turns in
	// it, each found in routes when the other is there.
	recent [recentSlots]atomic.Pointer[routeObservers]
}

// recentSlots is the size of Metrics.recent (a power of two).
const recentSlots = 64

// routeKey is a route pattern by its bytes' address and length (two
// patterns may start at the same address: echo slices its nodes' paths).
type routeKey struct {
	data *byte
	len  int
}

// routeObservers are one route's histograms by method and status class
// (their indexes in methodLabels and statusClasses), each set once.
type routeObservers struct {
	key     routeKey // route's, by which it was found
	route   string
	byLabel [len(methodLabels)][len(statusClasses)]atomic.Pointer[prometheus.Observer]
}

// NewMetrics returns a registry with the HTTP, hub, build, Go runtime and
// process metrics.
func NewMetrics(hub *core.Hub) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "halyard_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern, method and status class (WebSocket sessions excluded).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method", "code"}),
	}
	inFlight := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "halyard_http_requests_in_flight",
		Help: "HTTP requests being answered now (WebSocket sessions excluded).",
	}, func() float64 { return float64(m.inFlight.Load()) })
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, inFlight,
		newBuildInfoGauge(buildinfo.Read()),
	)
	if hub != nil {
		reg.MustRegister(newHubCollector(hub))
	}
	// A collector that fails costs its own series, never the whole page.
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	return m
}

// Register adds a collector to the registry, for components the server
// does not know (a dialect's own counters).
func (m *Metrics) Register(c prometheus.Collector) error { return m.reg.Register(c) }

// Gatherer returns the registry, for tests and embedding.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// EnableMetrics serves m at /metrics and times every request into it
// (CORS preflights, answered before routing, are not counted, as in
// Lanyard). Call it once, before Serve.
func (s *Server) EnableMetrics(m *Metrics) {
	s.metrics = m
	s.echo.Any("/metrics", m.serve)
	s.echo.Any("/metrics/*", metricsElsewhere)
}

// serve answers /metrics, whatever the method, in the Prometheus text
// format whatever the Accept header asks for (docs/compat/lanyard.md §2.9).
func (m *Metrics) serve(c echo.Context) error {
	req := c.Request().Clone(c.Request().Context())
	req.Header.Del("Accept")
	m.handler.ServeHTTP(c.Response(), req)
	return nil
}

// metricsElsewhere answers paths under /metrics as Lanyard does: 404 with
// a plain-text pointer and no content type.
func metricsElsewhere(c echo.Context) error {
	c.Response().Header()["Content-Type"] = nil // no sniffed type either
	c.Response().WriteHeader(http.StatusNotFound)
	_, err := c.Response().Write([]byte("Metrics available at /metrics"))
	return err
}

// record times one request by its route pattern (bounded: never the raw
// path), method and status class.
func (m *Metrics) record(c echo.Context, start time.Duration) {
	route := c.Path()
	if route == "" {
		route = unmatchedRoute
	}
	m.observerFor(route, methodIndex(c.Request().Method), statusIndex(c.Response().Status)).
		Observe((httpconn.Now() - start).Seconds())
}

// unmatchedRoute is the route label of requests no route matched.
const unmatchedRoute = "unmatched"

// maxCachedRoutes bounds routes: echo's patterns are its router's, a few
// dozen; past the bound a route's histograms are looked up per request.
const maxCachedRoutes = 1024

// observerFor returns the requests histogram of a route, a method and a
// status class (by index).
func (m *Metrics) observerFor(route string, method, class uint8) prometheus.Observer {
	r := m.routeFor(route)
	slot := &r.byLabel[method][class]
	if o := slot.Load(); o != nil {
		return *o
	}
	o := m.requests.WithLabelValues(route, methodLabels[method], statusClasses[class])
	slot.Store(&o) // another request may have stored the same histogram
	return o
}

// routeFor returns the histograms of route.
func (m *Metrics) routeFor(route string) *routeObservers {
	key := routeKey{unsafe.StringData(route), len(route)}
	slot := &m.recent[recentSlot(key)]
	if r := slot.Load(); r != nil && r.key == key {
		return r
	}
	r := m.routeIn(route, key)
	slot.Store(r)
	return r
}

// recentSlot is the slot of Metrics.recent for a route at key: a
// Fibonacci hash of its address and length.
func recentSlot(key routeKey) uint64 {
	return (uint64(uintptr(unsafe.Pointer(key.data))) ^ uint64(key.len)) * 0x9E3779B97F4A7C15 >> (64 - 6) & (recentSlots - 1)
}

// routeIn returns the histograms of route, at key, from routes, adding
// them when they are not there.
func (m *Metrics) routeIn(route string, key routeKey) *routeObservers {
	if all := m.routes.Load(); all != nil {
		if r, ok := (*all)[key]; ok {
			return r
		}
	}
	m.routesMu.Lock()
	defer m.routesMu.Unlock()
	old := m.routes.Load()
	if old != nil {
		if r, ok := (*old)[key]; ok {
			return r
		}
	}
	r := &routeObservers{key: key, route: route}
	if old != nil && len(*old) >= maxCachedRoutes {
		return r // not kept: a route pattern made per request would grow the map
	}
	all := make(map[routeKey]*routeObservers, 1)
	if old != nil {
		maps.Copy(all, *old)
	}
	all[key] = r
	m.routes.Store(&all)
	return r
}

// methodLabels are the method label's values: the standard methods, then
// "OTHER" for any other.
var methodLabels = [...]string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodOptions, "OTHER"}

// methodIndex keeps the method label to the standard methods: the index of
// method's label in methodLabels.
func methodIndex(method string) uint8 {
	for i, m := range methodLabels[:len(methodLabels)-1] {
		if method == m {
			return uint8(i)
		}
	}
	return uint8(len(methodLabels) - 1)
}

// statusIndex is the index of a status code's class in statusClasses:
// "1xx", "2xx"…, "other" outside 100–599.
func statusIndex(status int) uint8 {
	if status < 100 || status > 599 {
		return uint8(len(statusClasses) - 1)
	}
	return uint8(status/100 - 1)
}

// statusClasses are the status class label's values, built once (not per
// request).
var statusClasses = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx", "other"}
