package httpconn

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// BenchmarkKeepAlive measures one GET on a keep-alive connection, client
// and server in this process on loopback, with net/http's four timeouts
// ("nethttp"), with the write timeout armed by Conn and no read
// timeout ("armed", as server.Server serves), and with the header
// timeout alone ("bare", the load tool's baseline server). The answer is
// the same 700 bytes; the differences are the deadlines' cost.
//
//	go test ./internal/httpconn -run XXX -bench KeepAlive -count 5
func BenchmarkKeepAlive(b *testing.B) {
	body := []byte(strings.Repeat("x", 700))
	plain := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	for _, tc := range []struct {
		name string
		srv  func() *http.Server
		wrap bool
	}{
		{"nethttp", func() *http.Server {
			return &http.Server{Handler: plain, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
				WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}
		}, false},
		{"armed", func() *http.Server {
			return &http.Server{Handler: plain, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
		}, true},
		{"bare", func() *http.Server { return &http.Server{Handler: plain, ReadHeaderTimeout: 10 * time.Second} }, false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			tl, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				b.Fatal(err)
			}
			var ln net.Listener = tl
			if tc.wrap {
				ln = Listener{TCPListener: tl, WriteTimeout: 60 * time.Second, WriteSlack: time.Second}
			}
			srv := tc.srv()
			go func() { _ = srv.Serve(ln) }()
			defer srv.Close()
			b.ReportAllocs()
			b.SetParallelism(8) // 16 connections on 2 cores, as the load tool
			b.RunParallel(func(pb *testing.PB) {
				keepAlive(b, tl.Addr().String(), len(body), pb)
			})
		})
	}
}

// keepAlive asks GETs on one connection while pb says so.
func keepAlive(b *testing.B, addr string, bodyLen int, pb *testing.PB) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		b.Error(err)
		return
	}
	defer conn.Close()
	req := []byte("GET /v1/users/94490510688792576 HTTP/1.1\r\nHost: halyard\r\nUser-Agent: bench\r\n\r\n")
	br := bufio.NewReaderSize(conn, 4096)
	// The first answer gives the size of every answer (the Date field
	// has a fixed width).
	if _, err := conn.Write(req); err != nil {
		b.Error(err)
		return
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		b.Error(err)
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	size := len("HTTP/1.1 200 OK\r\n") + 2 + bodyLen
	for k, vv := range resp.Header {
		for _, v := range vv {
			size += len(k) + 2 + len(v) + 2
		}
	}
	buf := make([]byte, size)
	for pb.Next() {
		if _, err := conn.Write(req); err != nil {
			b.Error(err)
			return
		}
		if _, err := io.ReadFull(br, buf); err != nil {
			b.Error(err)
			return
		}
	}
}
