package lanyard

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/halyardhq/halyard/core"
)

// The engine benchmarks hold 10,000 real loopback sockets. Their clients
// run in a child process (this test binary again, TestSocketLoadClients),
// so the server's process counts only its own memory and both stay under
// the file-descriptor limit.
//
//	go test -run '^$' -bench 'SocketIdleMemory|SocketFanoutLatency' -benchtime 5x ./dialects/lanyard
const engineBenchSockets = 10_000

// BenchmarkSocketIdleMemory reports the server's memory per idle socket:
// N clients subscribed to one user each (op 2 answered), then silent;
// heap in use plus goroutine stacks, after GC, minus the same before they
// connected, divided by N.
func BenchmarkSocketIdleMemory(b *testing.B) {
	e := newSocketEnv(b, SocketOptions{})
	e.join("10")
	for range b.N {
		for e.d.SocketStats().Open > 0 { // the last round's sockets closing
			time.Sleep(50 * time.Millisecond)
		}
		before := liveBytes()
		g0 := runtime.NumGoroutine()
		child := startClients(b, e, "idle", engineBenchSockets)
		time.Sleep(time.Second) // let handlers return and buffers go back
		after := liveBytes()
		g1 := runtime.NumGoroutine()
		b.ReportMetric(float64(after-before)/engineBenchSockets, "bytes/socket")
		b.ReportMetric(float64(g1-g0)/engineBenchSockets, "goroutines/socket")
		child.stop()
	}
}

// BenchmarkSocketFanoutLatency reports how long one presence update takes
// to reach each of N clients subscribed to its user: from just before the
// hub publishes to each client's read of the PRESENCE_UPDATE (wall clock,
// same machine). One update per iteration, the next once all have it.
func BenchmarkSocketFanoutLatency(b *testing.B) {
	e := newSocketEnv(b, SocketOptions{})
	e.join("10")
	child := startClients(b, e, "fanout", engineBenchSockets)
	defer child.stop()
	act := func(i int) []core.Activity {
		return []core.Activity{{Raw: []byte(fmt.Sprintf(`{"type":0,"name":"Visual Studio Code","details":"Editing socket_%d.go","state":"Workspace: halyard","timestamps":{"start":1700000000000},"assets":{"large_image":"mp:external/abc","large_text":"Editing a Go file"},"application_id":"383226320970055681","created_at":1700000000000,"id":"ec0b28a579ecb4bd"}`, i))}}
	}
	var serverDone, published time.Duration
	cpu0, sw0 := processCPU()
	b.ResetTimer()
	for i := range b.N {
		fmt.Fprintf(child.in, "pub %d\n", time.Now().UnixNano())
		out0 := e.d.SocketStats().MessagesOut
		t0 := time.Now()
		e.hub.UpdatePresence("10", &core.Presence{Status: core.StatusOnline, Activities: act(i)})
		published += time.Since(t0)
		for e.d.SocketStats().MessagesOut < out0+engineBenchSockets {
			time.Sleep(time.Millisecond)
		}
		serverDone += time.Since(t0)
		child.expect("done")
	}
	b.StopTimer()
	// The server's CPU time (user + system, this process: the clients run
	// in the child) per delivery is steadier than the wall-clock figures on
	// a shared machine.
	cpu1, sw1 := processCPU()
	b.ReportMetric(float64((cpu1-cpu0).Nanoseconds())/float64(b.N*engineBenchSockets)/1e3, "cpu-µs/delivery")
	// Context switches of the server's threads per delivery: the cost of
	// goroutine hand-offs that the CPU time spreads over the kernel.
	b.ReportMetric(float64(sw1-sw0)/float64(b.N*engineBenchSockets), "ctxsw/delivery")
	b.ReportMetric(float64(serverDone.Milliseconds())/float64(b.N), "written-ms")
	// How long the hub's publish (the notify of every subscriber) held the
	// caller: the writes that overlap it are not waiting for it.
	b.ReportMetric(float64(published.Microseconds())/float64(b.N)/1e3, "publish-ms")
	fmt.Fprintln(child.in, "end")
	f := strings.Fields(child.expect("lat"))
	for i, unit := range []string{"p50-ms", "p99-ms", "max-ms", "first-ms"} {
		v, _ := strconv.ParseFloat(f[i+1], 64)
		b.ReportMetric(v, unit)
	}
}

// processCPU is the user and system CPU time this process has used and
// its threads' context switches (voluntary and not).
func processCPU() (time.Duration, int64) {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), ru.Nvcsw + ru.Nivcsw
}

func liveBytes() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc + ms.StackInuse)
}

type clientProc struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
	tb  testing.TB
}

func startClients(tb testing.TB, e *socketEnv, mode string, n int) *clientProc {
	tb.Helper()
	url := "ws" + strings.TrimPrefix(e.ts.URL, "http") + "/socket"
	cmd := exec.Command(os.Args[0], "-test.run=^TestSocketLoadClients$", "-test.timeout=10m")
	cmd.Env = append(os.Environ(), "HALYARD_SOCKET_CLIENTS="+mode+" "+url+" "+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	p := &clientProc{cmd: cmd, in: in, out: bufio.NewScanner(out), tb: tb}
	p.out.Buffer(nil, 1<<20)
	p.expect("ready")
	return p
}

// expect returns the child's next line starting with word.
func (p *clientProc) expect(word string) string {
	for p.out.Scan() {
		if line := p.out.Text(); strings.HasPrefix(line, word) {
			return line
		}
	}
	p.tb.Fatalf("client process ended before %q: %v", word, p.out.Err())
	return ""
}

func (p *clientProc) stop() {
	_ = p.in.Close()
	_ = p.cmd.Wait()
}

// TestSocketLoadClients is the benchmarks' client process; it runs only
// when a benchmark starts it (HALYARD_SOCKET_CLIENTS="mode url n"). It
// opens n sockets, subscribes each to user 10, waits for every
// INIT_STATE and prints "ready". In "fanout" mode, each "pub <ns>" line
// on stdin announces an update: once every socket has read it, it prints
// "done"; "end" prints "lat <p50> <p99> <max> <min>" in milliseconds.
func TestSocketLoadClients(t *testing.T) {
	spec := os.Getenv("HALYARD_SOCKET_CLIENTS")
	if spec == "" {
		t.Skip("client process of BenchmarkSocketIdleMemory/FanoutLatency")
	}
	f := strings.Fields(spec)
	mode, url := f[0], f[1]
	n, _ := strconv.Atoi(f[2])
	conns := make([]*websocket.Conn, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				ws, _, err := websocket.DefaultDialer.Dial(url, nil)
				if err == nil {
					_, _, err = ws.ReadMessage() // Hello
				}
				if err == nil {
					err = ws.WriteMessage(websocket.TextMessage, []byte(`{"op":2,"d":{"subscribe_to_id":"10"}}`))
				}
				if err == nil {
					_, _, err = ws.ReadMessage() // INIT_STATE
				}
				if err != nil {
					errs <- err
					return
				}
				conns[i] = ws
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	fmt.Println("ready")
	in := bufio.NewScanner(os.Stdin)
	if mode != "fanout" {
		for in.Scan() {
		}
		return
	}
	// Each reader stamps its own slot; the last of a round signals.
	recv := make([]int64, n)
	var count atomic.Int64
	round := make(chan struct{}, 1)
	for i, ws := range conns {
		go func() {
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					return
				}
				recv[i] = time.Now().UnixNano()
				if count.Add(1)%int64(n) == 0 {
					round <- struct{}{}
				}
			}
		}()
	}
	var lat []float64
	for in.Scan() {
		line := in.Text()
		if line == "end" {
			break
		}
		t0, _ := strconv.ParseInt(strings.TrimPrefix(line, "pub "), 10, 64)
		<-round
		for _, t := range recv {
			lat = append(lat, float64(t-t0)/1e6)
		}
		fmt.Println("done")
	}
	slices.Sort(lat)
	pct := func(p float64) float64 { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	fmt.Printf("lat %.2f %.2f %.2f %.2f\n", pct(0.50), pct(0.99), lat[len(lat)-1], lat[0])
}
