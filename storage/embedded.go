package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// maxUnixSocketPath is the longest socket path we trust every platform to
// accept (sun_path is 104 bytes on BSDs and macOS, 108 on Linux).
const maxUnixSocketPath = 100

// newFerretDB serialises ferretdb.New: it writes a package-level variable
// of FerretDB's, which would race when two instances start at once.
var newFerretDB sync.Mutex

// embeddedServer is an in-process FerretDB serving the MongoDB wire
// protocol from SQLite files under DataDir/db. It can be stopped and started
// again on the same address and files, which tests use to simulate an
// outage.
type embeddedServer struct {
	dbDir  string
	socket string // unix socket path; empty when listening on loopback TCP
	logger *slog.Logger

	mu      sync.Mutex
	tcpAddr string // loopback address; its port is fixed after the first start
	cancel  context.CancelFunc
	done    chan struct{} // closed when Run returns
}

// newEmbeddedServer prepares (but does not start) a server for dataDir.
func newEmbeddedServer(dataDir string, logger *slog.Logger) (*embeddedServer, error) {
	dataDir, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, fmt.Errorf("storage: data dir: %w", err)
	}
	e := &embeddedServer{dbDir: filepath.Join(dataDir, "db"), logger: logger}
	if err := os.MkdirAll(e.dbDir, 0o700); err != nil {
		return nil, fmt.Errorf("storage: cannot create the database directory: %w", err)
	}
	if sock := filepath.Join(dataDir, "ferretdb.sock"); len(sock) <= maxUnixSocketPath {
		e.socket = sock
	} else {
		e.tcpAddr = "127.0.0.1:0"
	}
	return e, nil
}

// uri returns the MongoDB URI of the server; valid once started.
func (e *embeddedServer) uri() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.socket != "" {
		// The driver wants the socket path escaped in the host part and
		// recognises it by its "sock" suffix.
		return "mongodb://" + url.PathEscape(e.socket) + "/"
	}
	return "mongodb://" + e.tcpAddr + "/"
}

// reachableURI is uri with an unspecified TCP host (0.0.0.0, ::) made
// 127.0.0.1, which other processes on this machine can dial.
func (e *embeddedServer) reachableURI() string {
	e.mu.Lock()
	addr, sock := e.tcpAddr, e.socket
	e.mu.Unlock()
	if sock != "" {
		return e.uri()
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return e.uri()
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "mongodb://" + net.JoinHostPort(host, port) + "/"
}

// start starts the server and returns once it accepts connections.
func (e *embeddedServer) start() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.done != nil {
		return errors.New("storage: embedded database already running")
	}
	if e.socket != "" {
		if err := removeStaleSocket(e.socket); err != nil {
			return err
		}
	}
	sqliteURL := (&url.URL{
		Scheme: "file",
		Path:   e.dbDir + string(filepath.Separator),
		// WAL is FerretDB's default; synchronous=FULL makes every commit
		// durable before it is acknowledged.
		RawQuery: url.Values{"_pragma": {"synchronous(full)"}}.Encode(),
	}).String()
	cfg := &ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{Unix: e.socket},
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
		Logger:    e.logger,
	}
	if e.socket == "" {
		cfg.Listener.TCP = e.tcpAddr
	}
	newFerretDB.Lock()
	f, err := ferretdb.New(cfg)
	newFerretDB.Unlock()
	if err != nil {
		return fmt.Errorf("storage: cannot start the embedded database in %s: %w", e.dbDir, err)
	}
	if e.socket == "" {
		// Keep the port chosen on the first start, so a restart serves
		// clients at the same address.
		u, err := url.Parse(f.MongoDBURI())
		if err != nil {
			return fmt.Errorf("storage: embedded database address: %w", err)
		}
		e.tcpAddr = u.Host
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(ctx) // always nil; it returns once ctx is canceled and everything is closed
	}()
	e.cancel, e.done = cancel, done
	return nil
}

// stop stops the server and waits until every connection and the SQLite
// files are closed. FerretDB lets connected clients finish for up to 3 s.
func (e *embeddedServer) stop() {
	if e == nil {
		return
	}
	e.mu.Lock()
	cancel, done := e.cancel, e.done
	e.cancel, e.done = nil, nil
	e.mu.Unlock()
	if done == nil {
		return
	}
	cancel()
	<-done
}

// removeStaleSocket removes a socket file left by a crashed process, and
// refuses to touch one that a live server still answers on.
func removeStaleSocket(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("storage: %s exists and is not a socket", path)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return fmt.Errorf("storage: another server is already using %s", path)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("storage: removing stale socket: %w", err)
	}
	return nil
}
