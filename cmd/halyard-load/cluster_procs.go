package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// helperProc is a helper process of the cluster scenario (a NATS server,
// `halyard store`, `halyard sim`): its output goes to a tail for error
// messages, and lines are offered to a matcher until it is satisfied.
type helperProc struct {
	name   string
	cmd    *exec.Cmd
	logs   *tail
	exited chan struct{}
}

// startHelper runs bin with args and env in dir and returns once match has
// accepted a line of its output (stdout or stderr), or fails if the
// process exits, ctx ends or timeout passes first.
func startHelper(ctx context.Context, name, bin string, args, env []string, dir string, match func(line string) bool, timeout time.Duration) (*helperProc, error) {
	cmd := exec.Command(bin, args...)
	cmd.Dir, cmd.Env = dir, env
	c := &helperProc{name: name, cmd: cmd, logs: &tail{max: 16 << 10}, exited: make(chan struct{})}
	lw := &lineWatcher{to: c.logs, match: match, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = lw, lw
	// As the servers: own process group, killed with the tool.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	go func() { _ = cmd.Wait(); close(c.exited) }()
	select {
	case <-lw.done:
		return c, nil
	case <-c.exited:
		return nil, fmt.Errorf("%s exited before it was ready:\n%s", name, c.logs)
	case <-ctx.Done():
		c.Stop()
		return nil, ctx.Err()
	case <-time.After(timeout):
		c.Stop()
		return nil, fmt.Errorf("%s not ready within %s:\n%s", name, timeout, c.logs)
	}
}

// Stop ends the process (SIGTERM, then SIGKILL to its group after 10 s).
// Safe to call twice and on a process that already exited.
func (c *helperProc) Stop() {
	if c == nil || c.cmd == nil || c.cmd.Process == nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		<-c.exited
	}
}

// lineWatcher passes output on and hands each complete line to match
// until match returns true; done is closed then.
type lineWatcher struct {
	to    io.Writer
	match func(string) bool
	done  chan struct{}

	mu      sync.Mutex
	line    []byte
	matched bool
}

func (w *lineWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	if !w.matched {
		w.line = append(w.line, p...)
		for {
			i := bytes.IndexByte(w.line, '\n')
			if i < 0 {
				break
			}
			if w.match(strings.TrimSpace(string(w.line[:i]))) {
				w.matched, w.line = true, nil
				close(w.done)
				break
			}
			w.line = w.line[i+1:]
		}
	}
	w.mu.Unlock()
	return w.to.Write(p)
}

// keyValues collects the KEY=VALUE lines a process prints (halyard store
// and halyard sim announce their addresses so) until it has every key.
func keyValues(keys ...string) (map[string]string, func(string) bool) {
	got := map[string]string{}
	var mu sync.Mutex
	return got, func(line string) bool {
		k, v, ok := strings.Cut(line, "=")
		mu.Lock()
		defer mu.Unlock()
		if ok && !strings.ContainsAny(k, " \t") {
			got[k] = v
		}
		for _, want := range keys {
			if got[want] == "" {
				return false
			}
		}
		return true
	}
}

// buildNATSServer compiles nats-server from this module's own dependency
// (the version go.mod pins) into dir, as README's Cluster section does.
func buildNATSServer(ctx context.Context, dir string) (string, error) {
	return buildFromModule(ctx, filepath.Join(dir, "nats-server"), "github.com/nats-io/nats-server/v2", "--nats-bin")
}

// natsClientLine is nats-server's log line naming its client port.
var natsClientLine = regexp.MustCompile(`Listening for client connections on (\S+)`)

// startNATSCluster runs n nats-server processes with JetStream, routed
// to each other on loopback, each with its store under dir, and returns
// them with their client URLs once JetStream answers. The route ports are
// picked here (every server's routes must name them all before any
// starts); the client ports the servers pick themselves.
func startNATSCluster(ctx context.Context, bin, dir string, n int) ([]*helperProc, []string, error) {
	routePorts := make([]int, n)
	var routes []string
	for i := range routePorts {
		p, err := freePort()
		if err != nil {
			return nil, nil, err
		}
		routePorts[i] = p
		routes = append(routes, "nats://127.0.0.1:"+strconv.Itoa(p))
	}
	var servers []*helperProc
	var urls []string
	stopAll := func() {
		for _, s := range servers {
			s.Stop()
		}
	}
	for i := range n {
		name := fmt.Sprintf("nats-%d", i)
		var url string
		match := func(line string) bool {
			if m := natsClientLine.FindStringSubmatch(line); m != nil {
				url = "nats://" + m[1]
				return true
			}
			return false
		}
		args := []string{"--name", name, "--addr", "127.0.0.1", "--port", "-1", "--jetstream",
			"--store_dir", filepath.Join(dir, name), "--cluster_name", "halyard-load",
			"--cluster", "nats://127.0.0.1:" + strconv.Itoa(routePorts[i]), "--routes", strings.Join(routes, ",")}
		s, err := startHelper(ctx, name, bin, args, os.Environ(), dir, match, time.Minute)
		if err != nil {
			stopAll()
			return nil, nil, err
		}
		servers = append(servers, s)
		urls = append(urls, url)
	}
	if err := waitJetStream(ctx, strings.Join(urls, ","), time.Minute); err != nil {
		stopAll()
		return nil, nil, err
	}
	return servers, urls, nil
}

// waitJetStream connects to the servers and waits until JetStream
// answers (its meta leader is elected).
func waitJetStream(ctx context.Context, urls string, timeout time.Duration) error {
	nc, err := nats.Connect(urls, nats.Timeout(5*time.Second))
	if err != nil {
		return fmt.Errorf("connecting to NATS: %v", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	for {
		actx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := js.AccountInfo(actx)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("JetStream did not answer within %s: %v", timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// freePort is a loopback TCP port free at the time of asking.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
