package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/halyardhq/halyard/discord/discordsim"
)

// buildServer compiles ./cmd/halyard of this module into dir.
func buildServer(ctx context.Context, dir string) (string, error) {
	return buildFromModule(ctx, filepath.Join(dir, "halyard"), "./cmd/halyard", "--server-bin")
}

// buildFromModule compiles pkg (a path inside this module, or one of its
// dependencies at the version go.mod pins) into bin, from the module's
// root; flag names the option that skips the build.
func buildFromModule(ctx context.Context, bin, pkg, flag string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside the Halyard module: run from its tree or pass %s", flag)
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg)
	cmd.Dir = filepath.Dir(gomod)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return bin, nil
}

// server is a Halyard process the tool started (or, with --target, one it
// only talks to: cmd is nil).
type server struct {
	Base       string // http://127.0.0.1:port
	Addr       string // 127.0.0.1:port
	AdminToken string
	Exec       time.Time     // when the process was started
	Start      time.Duration // exec → first /readyz 200
	cmd        *exec.Cmd
	dataDir    string
	// removeDataDir says Stop removes dataDir (the tool made it).
	removeDataDir bool
	logs          *tail
	exited        chan struct{}
}

// pid is the server process's id, 0 for a --target the tool did not start.
func (s *server) pid() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// startServer runs bin in demo mode on a free loopback port with a fresh
// data directory and waits for /readyz.
func startServer(ctx context.Context, bin string, demoUsers int, readyTimeout time.Duration) (*server, error) {
	return startProcess(ctx, bin, demoUsers, nil, readyTimeout)
}

// startProcess runs bin on a free loopback port with a fresh data
// directory and waits for /readyz: in demo mode, or with sim given, in real
// mode against that simulator (which runs in the tool's process).
func startProcess(ctx context.Context, bin string, demoUsers int, sim *discordsim.Sim, readyTimeout time.Duration) (*server, error) {
	dataDir, err := os.MkdirTemp("", "halyard-load-data-")
	if err != nil {
		return nil, err
	}
	s, err := startProcessIn(ctx, bin, dataDir, randomHex(16), demoUsers, sim, readyTimeout)
	if err != nil {
		os.RemoveAll(dataDir)
		return nil, err
	}
	s.removeDataDir = true
	return s, nil
}

// startProcessIn is startProcess on the given data directory (which stays
// when the server stops) with the given admin token.
func startProcessIn(ctx context.Context, bin, dataDir, token string, demoUsers int, sim *discordsim.Sim, readyTimeout time.Duration) (*server, error) {
	var args, env []string
	if sim == nil {
		args = []string{"--demo", "--demo-churn", "0", "--demo-users", fmt.Sprint(demoUsers)}
	} else {
		// A real-mode Halyard whose bot logs in to the tool's simulator.
		env = []string{"BOT_TOKEN=" + sim.Token(), "DISCORD_GATEWAY_URL=" + sim.GatewayURL(), "DISCORD_API_URL=" + sim.RESTURL()}
	}
	s, err := spawnServer(ctx, bin, dataDir, token, args, env, readyTimeout)
	if err != nil {
		return nil, err
	}
	if err := s.waitReady(ctx, s.Exec, readyTimeout); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// spawnServer runs bin on a free loopback port with its data in
// dataDir/data, the given extra arguments and environment (on top of
// serverEnv's), and returns once it serves HTTP; it does not wait for
// /readyz.
func spawnServer(ctx context.Context, bin, dataDir, token string, extraArgs, extraEnv []string, timeout time.Duration) (*server, error) {
	// The server picks its own port and says which in its log: a port the
	// tool picked and freed could be taken by another process before the
	// server binds it, and that process's /readyz would pass for ours.
	args := append([]string{"--addr", "127.0.0.1:0", "--data-dir", filepath.Join(dataDir, "data"), "--log-level", "info"}, extraArgs...)
	cmd := exec.Command(bin, args...)
	cmd.Dir = dataDir // no stray ./config.toml
	cmd.Env = append(serverEnv(token), extraEnv...)
	logs := &tail{max: 16 << 10}
	addrs, found := watchServingAddr(logs)
	cmd.Stdout, cmd.Stderr = addrs, addrs
	// Own process group (Ctrl-C reaches the tool, which stops the server
	// in order) and killed with the tool if the tool dies first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	s := &server{AdminToken: token, cmd: cmd, dataDir: dataDir, logs: logs, exited: make(chan struct{})}
	s.Exec = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = cmd.Wait(); close(s.exited) }()
	select {
	case addr := <-found:
		s.Base, s.Addr = "http://"+addr, addr
		return s, nil
	case <-s.exited:
		return nil, fmt.Errorf("the server exited before it served:\n%s", s.logs)
	case <-ctx.Done():
		s.Stop()
		return nil, ctx.Err()
	case <-time.After(timeout):
		s.Stop()
		return nil, fmt.Errorf("the server did not serve within %s:\n%s", timeout, s.logs)
	}
}

// servingAddrLine is the server's log line naming the address it serves.
var servingAddrLine = regexp.MustCompile(`msg="serving HTTP" addr=(\S+)`)

// watchServingAddr passes a process's output on to a tail; found gets the
// address of its first servingAddrLine.
func watchServingAddr(to io.Writer) (w *lineWatcher, found <-chan string) {
	ch := make(chan string, 1)
	w = &lineWatcher{to: to, done: make(chan struct{}), match: func(line string) bool {
		m := servingAddrLine.FindStringSubmatch(line)
		if m != nil {
			ch <- m[1]
		}
		return m != nil
	}}
	return w, ch
}

// serverEnv is the tool's environment without Halyard settings that would
// point the demo elsewhere, plus the admin token and no harmy rate limits
// (the load comes from one client address).
func serverEnv(token string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "BOT_TOKEN", "DISCORD_GATEWAY_URL", "DISCORD_API_URL", "GUILD_IDS", "MONGODB_URI", "MONGODB_NAME", "DATA_DIR", "PORT", "ADDR", "ADMIN_TOKEN",
			"EXTERNAL_URL", "HARMY_RATE_PER_SECOND", "HARMY_RATE_PER_MINUTE", "TRUSTED_PROXY_HEADER", "LOG_LEVEL", "DEMO_USERS",
			"NATS_URL", "NATS_CREDS", "NODE_NAME", "SHARD_COUNT", "TOKEN_SECRET":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "ADMIN_TOKEN="+token, "HARMY_RATE_PER_SECOND=0", "HARMY_RATE_PER_MINUTE=0")
}

// waitReady polls /readyz every few milliseconds.
func (s *server) waitReady(ctx context.Context, t0 time.Time, timeout time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := t0.Add(timeout)
	for {
		resp, err := client.Get(s.Base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				s.Start = time.Since(t0)
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.exited:
			return fmt.Errorf("the server exited before it was ready:\n%s", s.logs)
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the server was not ready within %s:\n%s", timeout, s.logs)
		}
	}
}

// Stop ends the server (SIGTERM, then SIGKILL after 10 s) and removes its
// data directory if the tool made it. Safe to call twice.
func (s *server) Stop() {
	if s == nil || s.cmd == nil {
		return
	}
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-s.exited
		}
	}
	if s.removeDataDir {
		os.RemoveAll(s.dataDir)
	}
	s.cmd = nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// tail keeps the last max bytes a process wrote, for error messages.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.TrimSpace(t.buf))
}

// checkLoopback refuses a --target that is not http://127.x.y.z:port.
func checkLoopback(target string) (base, addr string, err error) {
	rest, ok := strings.CutPrefix(target, "http://")
	if !ok {
		return "", "", errors.New("--target must be http://127.0.0.1:PORT")
	}
	rest = strings.TrimSuffix(rest, "/")
	host, port, err := net.SplitHostPort(rest)
	if err != nil || port == "" {
		return "", "", errors.New("--target must be http://127.0.0.1:PORT")
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() || ip.To4() == nil {
		return "", "", fmt.Errorf("--target %s is not a 127.0.0.0/8 address: this tool only loads loopback", host)
	}
	return "http://" + rest, rest, nil
}
