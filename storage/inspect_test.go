package storage

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// A second client reaches a running embedded database through its socket
// (as `halyard doctor` does), sees what the node wrote, and gets the same
// journaled write concern.
func TestRunningEmbeddedURI(t *testing.T) {
	dir := t.TempDir()
	if uri, err := RunningEmbeddedURI(dir); uri != "" || err != nil {
		t.Fatalf("no database runs in %s, got %q %v", dir, uri, err)
	}
	long := filepath.Join(dir, strings.Repeat("d", maxUnixSocketPath))
	if _, err := RunningEmbeddedURI(long); !errors.Is(err, ErrEmbeddedUnknown) {
		t.Errorf("a data dir too long for a socket: %v", err)
	}
	node := openTemp(t, Config{DataDir: dir})
	if err := node.ProbeWrite(t.Context()); err != nil {
		t.Fatal(err)
	}
	uri, err := RunningEmbeddedURI(dir)
	if uri == "" || err != nil {
		t.Fatalf("the running embedded database is not found: %v", err)
	}
	other := openTemp(t, Config{URI: uri})
	if other.Embedded() {
		t.Error("the second client started its own server")
	}
	var doc bson.M
	if err := other.health.FindOne(t.Context(), bson.D{{Key: "_id", Value: probeDocID}}).Decode(&doc); err != nil {
		t.Fatalf("the node's probe document is not seen through the socket: %v", err)
	}
	for _, s := range []*Store{node, other} {
		name, journaled, err := s.WriteConcern(context.Background())
		if err != nil || !journaled || name != "{w: majority, j: true}" {
			t.Errorf("WriteConcern: %q %v %v", name, journaled, err)
		}
	}
}
