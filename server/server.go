// Package server is Halyard's HTTP base: the echo instance every dialect
// registers its routes on, with the cross-dialect rules (CORS, body cap,
// unknown routes by prefix), health and readiness probes, request logging
// and the admin API.
package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/core"
)

// Dialect is one public API rendering of the hub (Lanyard, Lantern, harmy).
type Dialect interface {
	// Register adds the dialect's routes. Middleware added with the
	// Echo's Use or Pre is not run (Server.ServeHTTP); a dialect that
	// rewrites paths before routing implements PathRewriter.
	Register(e *echo.Echo)
	// ErrorFormat declares the paths the dialect owns and how the server
	// answers for it there (unknown routes, bodies over the cap, errors
	// no handler answered).
	ErrorFormat() ErrorFormat
}

// Options configures the server.
type Options struct {
	Hub    *core.Hub
	Tokens *core.Tokens
	Logger *slog.Logger
	// AdminToken enables the admin API when set.
	AdminToken string
	// Ready reports why the server is not ready yet (nil when ready).
	Ready func(ctx context.Context) []string
	// Demo drives the simulator in --demo mode; nil otherwise.
	Demo DemoDriver
	// Timeouts bound slow clients; zero fields take DefaultTimeouts' values.
	Timeouts Timeouts
	// TrustedProxyHeader names the header a trusted reverse proxy puts the
	// client's address in; the request log names clients by it
	// (internal/clientaddr). Empty: the TCP peer's address.
	TrustedProxyHeader string
	// Version is the build's version for GET /admin/v1/stats; read from
	// the build info when empty.
	Version string
	// SocketStats reads each dialect's socket counters for the admin stats.
	SocketStats map[string]func() SocketStats
	// History is the presence history a backup carries and a restore
	// brings back (history.Recorder); nil when history is unavailable:
	// backups then hold no history section, and a restore of one is
	// refused.
	History HistoryBackup
	// Cluster is this node's view of its cluster for GET
	// /admin/v1/cluster; nil on a single node.
	Cluster ClusterView
	// Pprof adds Go's runtime profiles under /admin/v1/debug/pprof/
	// (admin_pprof.go); off unless the operator sets HALYARD_PPROF=1.
	Pprof bool
}

// Timeouts bounds how long a client may hold a connection without making
// progress, so slow clients (slowloris) cannot exhaust connections.
type Timeouts struct {
	// ReadHeader bounds reading a request's headers.
	ReadHeader time.Duration
	// Read bounds reading a whole request, body included. WebSocket
	// upgrades clear it (gorilla/websocket resets the deadlines).
	Read time.Duration
	// Write bounds writing an answer.
	Write time.Duration
	// Idle bounds the wait for the next request on a keep-alive connection.
	Idle time.Duration
	// MaxHeaderBytes caps the request line and headers.
	MaxHeaderBytes int
}

// DefaultTimeouts are the timeouts used when Options.Timeouts leaves a field zero.
var DefaultTimeouts = Timeouts{ReadHeader: 10 * time.Second, Read: 30 * time.Second,
	Write: 60 * time.Second, Idle: 120 * time.Second, MaxHeaderBytes: 64 << 10}

// withDefaults fills the zero fields from DefaultTimeouts.
func (t Timeouts) withDefaults() Timeouts {
	d := DefaultTimeouts
	if t.ReadHeader > 0 {
		d.ReadHeader = t.ReadHeader
	}
	if t.Read > 0 {
		d.Read = t.Read
	}
	if t.Write > 0 {
		d.Write = t.Write
	}
	if t.Idle > 0 {
		d.Idle = t.Idle
	}
	if t.MaxHeaderBytes > 0 {
		d.MaxHeaderBytes = t.MaxHeaderBytes
	}
	return d
}

// Server is the HTTP listener and router.
type Server struct {
	opts Options
	log  *slog.Logger
	echo *echo.Echo
	// metrics times every routed request when set (EnableMetrics).
	metrics *Metrics
	http    *http.Server
	ln      net.Listener
	// bodyTimeout bounds reading a request, body included, from its
	// start, headerTimeout its headers (deadlines.go); 0 until Serve, and
	// when the listener is not TCP (net/http's ReadTimeout then does).
	bodyTimeout, headerTimeout time.Duration
	done                       chan error
	// formats are the registered dialects' error formats and the admin
	// API's; set before Serve, read only after.
	formats []ErrorFormat
	// rewriters are the registered dialects that rewrite paths before
	// routing (PathRewriter); set before Serve, read only after.
	rewriters []PathRewriter
}

// New builds the router with the base routes; dialects add theirs with
// Register before Serve.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	s := &Server{opts: opts, log: opts.Logger, echo: e, formats: []ErrorFormat{adminFormat()}}
	e.HTTPErrorHandler = s.handleError
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	if opts.AdminToken != "" {
		s.registerAdmin()
	}
	return s
}

// Echo returns the router, for dialects to register routes on. The
// server runs its routes itself (ServeHTTP): middleware added with the
// Echo's Use or Pre is not run.
func (s *Server) Echo() *echo.Echo { return s.echo }

// Register adds every dialect's routes and error format, and its path
// rewrite when it has one (PathRewriter).
func (s *Server) Register(dialects ...Dialect) {
	for _, d := range dialects {
		s.formats = append(s.formats, d.ErrorFormat().withDefaults())
		if rw, ok := d.(PathRewriter); ok {
			s.rewriters = append(s.rewriters, rw)
		}
		d.Register(s.echo)
	}
}

// Listen opens the listening socket on addr ("host:port").
func (s *Server) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s.ln = ln
	return nil
}

// Addr returns the listening address once Listen succeeded.
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Serve serves HTTP in the background until Shutdown.
//
// On a TCP listener the write and body timeouts are the server's own
// (deadlines.go): net/http's WriteTimeout and ReadTimeout would arm and
// clear deadlines four times per request, which a keep-alive connection
// pays on every GET.
func (s *Server) Serve() {
	t := s.opts.Timeouts.withDefaults()
	s.http = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: t.ReadHeader,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    t.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	ln := s.ln
	if tl, ok := ln.(*net.TCPListener); ok {
		ln = s.ownDeadlines(tl, t)
	} else {
		s.http.ReadTimeout, s.http.WriteTimeout = t.Read, t.Write
	}
	s.done = make(chan error, 1)
	go func() {
		err := s.http.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
}

// Shutdown stops accepting requests and waits for those in flight;
// hijacked WebSocket connections are the socket engine's to close
// (socket.Engine.Close).
func (s *Server) Shutdown(ctx context.Context) error {
	if s.http == nil {
		if s.ln != nil {
			return s.ln.Close()
		}
		return nil
	}
	err := s.http.Shutdown(ctx)
	if serr := <-s.done; err == nil {
		err = serr
	}
	return err
}
