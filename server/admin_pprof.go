package server

import (
	"net/http"
	"net/http/pprof"
	runtimepprof "runtime/pprof"

	"github.com/labstack/echo/v4"
)

// PprofEnv is the environment variable that turns the admin profiling
// routes on ("1"); they are off by default. cmd/halyard reads it into
// Options.Pprof.
const PprofEnv = "HALYARD_PPROF"

// registerPprof adds Go's runtime profiles under the admin API, guarded by
// the admin token like every admin route:
//
//	GET /admin/v1/debug/pprof/heap        (allocs, goroutine, block, mutex, threadcreate)
//	GET /admin/v1/debug/pprof/profile     (CPU, ?seconds=N)
//	GET /admin/v1/debug/pprof/trace       (execution trace, ?seconds=N)
//
// with net/http/pprof's query parameters (?gc=1 collects before a heap
// profile, ?debug=1 answers text). They exist so a heap profile can be
// taken of a server under load (cmd/halyard-load --heap-profile); a
// profile names the code's functions, so they stay off unless the operator
// asks.
func (s *Server) registerPprof(g *echo.Group) {
	g.GET("/debug/pprof/:profile", func(c echo.Context) error {
		name := c.Param("profile")
		var h http.Handler
		switch {
		case name == "profile":
			h = http.HandlerFunc(pprof.Profile)
		case name == "trace":
			h = http.HandlerFunc(pprof.Trace)
		case runtimepprof.Lookup(name) != nil:
			h = pprof.Handler(name)
		default:
			return JSON(c, http.StatusNotFound, adminError(http.StatusNotFound, "no such profile: heap, allocs, goroutine, block, mutex, threadcreate, profile or trace"))
		}
		h.ServeHTTP(c.Response(), c.Request())
		return nil
	})
}
