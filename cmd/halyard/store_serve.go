package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/halyardhq/halyard/storage"
)

// runStore is `halyard store`: the embedded MongoDB-compatible database
// (FerretDB on SQLite files in --data-dir/db) served on TCP, so several
// nodes of a demo or a small cluster can share one MONGODB_URI without a
// MongoDB. It creates Halyard's collections and indexes, prints the
// MONGODB_URI line on stdout once it accepts connections, and serves until
// ctx ends. Production runs a MongoDB replica set instead.
func runStore(ctx context.Context, args []string, environ map[string]string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("halyard store", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:27017", "TCP listen address host:port")
	dataDir := fs.String("data-dir", "", "directory of the database files (required)")
	database := fs.String("database", "", "database name to prepare (default MONGODB_NAME, else "+storage.DefaultDatabase+")")
	logLevel := fs.String("log-level", "warn", "debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: halyard store --addr HOST:PORT --data-dir DIR")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	bad := func(msg string) int {
		fmt.Fprintf(stderr, "halyard store: %s\n", msg)
		return 2
	}
	switch {
	case fs.NArg() > 0:
		return bad(fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	case *dataDir == "":
		return bad("--data-dir is required")
	case *addr == "":
		return bad("--addr must be host:port")
	}
	if err := (Log{LogLevel: *logLevel, LogFormat: "text"}).validate(); err != nil {
		return bad(err.Error())
	}
	name := *database
	if name == "" {
		name = environ["MONGODB_NAME"]
	}
	log := newLogger(stderr, *logLevel, "text")
	openCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	st, err := storage.Open(openCtx, storage.Config{DataDir: *dataDir, Database: name, EmbeddedAddr: *addr,
		Logger: log.With("component", "storage")})
	if err != nil {
		fmt.Fprintf(stderr, "halyard store: %s\n", oneLine(err))
		return 1
	}
	defer st.Close()
	fmt.Fprintf(stdout, "MONGODB_URI=%s\n", st.EmbeddedURI())
	<-ctx.Done()
	return 0
}
