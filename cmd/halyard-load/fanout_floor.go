package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// floorEnv marks a fan-out floor child process: the tool re-executes
// itself with it set, as for the REST baseline, so the bare writer loop has
// a process (scheduler, GC, cores) of its own, as Halyard has.
const floorEnv = "HALYARD_LOAD_SERVE_FANOUT_FLOOR"

// floorServer is the fan-out floor: a bare WebSocket server that answers
// the subscribe handshake of both dialects just enough for the tool's
// clients, then, on POST /push, writes one prepared frame to every socket
// from one writer goroutine per core. Nothing else runs in it: no hub, no
// rendering, no queues, so its latency is what the kernel and the
// WebSocket framing cost for the same sockets and bytes.
type floorServer struct {
	mu    sync.Mutex
	conns []*websocket.Conn
}

var floorUpgrader = websocket.Upgrader{ReadBufferSize: 512, WriteBufferSize: 4096,
	CheckOrigin: func(*http.Request) bool { return true }}

// maybeServeFanoutFloor serves the floor and never returns when this
// process is a floor child; otherwise it returns false at once.
func maybeServeFanoutFloor() bool {
	if os.Getenv(floorEnv) == "" {
		return false
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "fanout floor:", err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String()) // the parent reads the address from this line
	f := &floorServer{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /lanyard/socket", func(w http.ResponseWriter, r *http.Request) { f.accept(w, r, "INIT_STATE") })
	mux.HandleFunc("GET /lantern/socket", func(w http.ResponseWriter, r *http.Request) { f.accept(w, r, "INIT_ACK") })
	mux.HandleFunc("POST /push", f.push)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	_ = srv.Serve(ln)
	os.Exit(0)
	return true
}

// accept completes the tool's subscribe exchange (Hello, the client's
// subscribe, an acknowledgement carrying ack) and keeps the socket.
func (f *floorServer) accept(w http.ResponseWriter, r *http.Request, ack string) {
	c, err := floorUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	if c.WriteMessage(websocket.TextMessage, []byte(`{"op":1,"d":{"heartbeat_interval":30000}}`)) != nil {
		c.Close()
		return
	}
	if _, _, err := c.ReadMessage(); err != nil {
		c.Close()
		return
	}
	// The acknowledgement is written and the socket kept under one hold
	// of f.mu: the client counts itself subscribed once it reads the
	// acknowledgement, so a push (which takes the list under f.mu) right
	// after must include it. Written first and kept after, the last
	// subscriber sometimes missed the first push ("1 of 120 deliveries
	// missing").
	f.mu.Lock()
	err = c.WriteMessage(websocket.TextMessage, []byte(`{"op":0,"t":"`+ack+`","d":{}}`))
	if err == nil {
		f.conns = append(f.conns, c)
	}
	f.mu.Unlock()
	if err != nil {
		c.Close()
		return
	}
	go func() { // heartbeats arrive; nothing is answered
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				c.Close()
				return
			}
		}
	}()
}

// push writes the request body as one prepared text frame to every
// socket, split over one writer per core, and answers 202 once the
// writers have started (as Halyard answers the demo push before its
// fan-out ends).
func (f *floorServer) push(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	conns := f.conns
	f.mu.Unlock()
	writers := runtime.GOMAXPROCS(0)
	per := (len(conns) + writers - 1) / max(writers, 1)
	for i := 0; i < len(conns); i += max(per, 1) {
		part := conns[i:min(i+per, len(conns))]
		go func() {
			for _, c := range part {
				_ = c.WritePreparedMessage(pm)
			}
		}()
	}
	w.WriteHeader(http.StatusAccepted)
}

// floorResult is the fan-out floor's figures: the same subscribers and
// pushes as ws-fanout, sent by the bare writer loop.
type floorResult struct {
	Subscribers int     `json:"subscribers"`
	Pushes      int     `json:"pushes"`
	Writers     int     `json:"writers"`
	FrameBytes  int     `json:"frame_bytes"`
	Delivered   int     `json:"delivered"`
	Missing     int     `json:"missing"`
	Lat         summary `json:"latency"`
	// CPUPerDelivery is the floor process's CPU time (user and system)
	// over its pushes, in µs per frame delivered.
	CPUPerDelivery float64 `json:"cpu_us_per_delivery"`
	Error          string  `json:"error,omitempty"`
}

// runFanoutFloor measures the floor for a ws-fanout run: s subscribers of
// the floor child, pushes frames shaped like sample (the frame Halyard
// sent, its mark renumbered), latency from just before each POST to a
// subscriber reading the frame, as in ws-fanout.
func runFanoutFloor(ctx context.Context, s, pushes int, sample []byte) (floorResult, error) {
	res := floorResult{Pushes: pushes, Writers: runtime.GOMAXPROCS(0), FrameBytes: len(sample)}
	i := bytes.Index(sample, markPrefix)
	if i < 0 {
		return res, fmt.Errorf("no marked frame from ws-fanout to copy")
	}
	head := sample[:i+len(markPrefix)]
	j := len(head)
	for j < len(sample) && sample[j] >= '0' && sample[j] <= '9' {
		j++
	}
	tail := sample[j:]
	addr, pid, stop, err := startChildProc(ctx, floorEnv, "1", 30*time.Second)
	if err != nil {
		return res, err
	}
	defer stop()
	run := &fanoutRun{pushedAt: make([]time.Time, pushes), got: make([]atomic.Int64, pushes)}
	subs := newSubscribers()
	defer subs.closeAll()
	held, err := connectMany(ctx, addr, s, []string{"0"}, false, subs, func(c *wsConn) { go run.receive(c) })
	res.Subscribers = held
	if err != nil {
		res.Error = err.Error()
		if held == 0 {
			return res, err
		}
	}
	fmt.Fprintf(progress, "fanout-floor: %d subscribers connected, pushing %d frames\n", held, pushes)
	client := &http.Client{Timeout: 10 * time.Second}
	cpu := startCPU(pid)
	err = run.pushAll(ctx, held, func(k int) error {
		frame := append(append(append([]byte(nil), head...), strconv.Itoa(k)...), tail...)
		return post(ctx, client, "http://"+addr+"/push", "", string(frame))
	})
	var fr fanoutResult
	fr.fill(run, held)
	res.Delivered, res.Missing, res.Lat = fr.Delivered, fr.Missing, fr.Lat
	res.CPUPerDelivery = cpu.perEvent(res.Delivered)
	if err != nil {
		return res, err
	}
	return res, ctx.Err()
}
