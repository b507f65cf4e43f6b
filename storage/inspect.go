package storage

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
)

// What `halyard doctor` asks of the store besides Open and ProbeWrite.

// ErrEmbeddedUnknown is RunningEmbeddedURI's answer for a data directory
// whose path is too long for a unix socket: the embedded database then
// listens on a loopback port that no file records, so whether a node runs
// it cannot be told.
var ErrEmbeddedUnknown = errors.New("storage: the data directory's path is too long for the embedded database's unix socket, so whether a node serves it cannot be told")

// RunningEmbeddedURI returns the MongoDB URI of the embedded database a
// running Halyard serves from dataDir (its unix socket answers), or ""
// when none does. Only one process may run the embedded server on a data
// directory, so a checker reaches a running node's database through it
// instead of opening the files a second time. It returns
// ErrEmbeddedUnknown when it cannot tell.
func RunningEmbeddedURI(dataDir string) (string, error) {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return "", fmt.Errorf("storage: data dir: %w", err)
	}
	sock := filepath.Join(abs, "ferretdb.sock")
	if len(sock) > maxUnixSocketPath {
		return "", ErrEmbeddedUnknown
	}
	c, err := net.DialTimeout("unix", sock, time.Second)
	if err != nil {
		return "", nil
	}
	c.Close()
	return "mongodb://" + url.PathEscape(sock) + "/", nil
}

// WriteConcern reports the strongest write concern the database accepts
// now, the one Open picked, and whether it waits for the journal (a write
// acknowledged under it survives a crash of the server). It asks the
// server again, with a delete that matches nothing.
func (s *Store) WriteConcern(ctx context.Context) (name string, journaled bool, err error) {
	wc, err := s.pickWriteConcern(ctx, s.health.Database())
	if err != nil {
		return "", false, fmt.Errorf("storage: write concern at %s: %w", s.uri, err)
	}
	return describeWriteConcern(wc), wc != nil && wc.Journal != nil && *wc.Journal, nil
}

// describeWriteConcern names wc as pickWriteConcern's log lines do.
func describeWriteConcern(wc *writeconcern.WriteConcern) string {
	if wc == nil {
		return "the server's default"
	}
	j := wc.Journal != nil && *wc.Journal
	return fmt.Sprintf("{w: %v, j: %t}", wc.W, j)
}
