package server

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestRequestLogNamesClient: the request log names the client by the one
// rule (internal/clientaddr): the trusted header's right-most entry, never
// an entry the client wrote itself; the TCP peer without the header.
func TestRequestLogNamesClient(t *testing.T) {
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	base := startServer(t, Options{Logger: logger, TrustedProxyHeader: "X-Forwarded-For"})
	do(t, "GET", base+"/healthz", map[string]string{"X-Forwarded-For": "198.51.100.66, 203.0.113.5"}, nil)
	do(t, "GET", base+"/readyz", nil, nil)
	var healthz, readyz string
	for _, line := range strings.Split(logs.String(), "\n") {
		switch {
		case strings.Contains(line, "path=/healthz"):
			healthz = line
		case strings.Contains(line, "path=/readyz"):
			readyz = line
		}
	}
	if !strings.Contains(healthz, "client=203.0.113.5 ") || strings.Contains(healthz, "198.51.100.66") {
		t.Errorf("behind the proxy: %q", healthz)
	}
	if !strings.Contains(readyz, "client=127.0.0.1 ") {
		t.Errorf("without the header: %q", readyz)
	}
}
