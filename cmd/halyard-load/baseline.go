package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// baselineEnv names the file a baseline child process serves: the tool
// re-executes itself with it set, so the bare server has a process of its
// own, as Halyard has (sharing the tool's scheduler and GC with the load
// generator would handicap it).
const baselineEnv = "HALYARD_LOAD_SERVE_BASELINE"

// maybeServeBaseline serves the baseline and never returns when this
// process is a baseline child; otherwise it returns false at once.
func maybeServeBaseline() bool {
	file := os.Getenv(baselineEnv)
	if file == "" {
		return false
	}
	body, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		os.Exit(1)
	}
	ctype, _ := os.ReadFile(file + ".type")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String()) // the parent reads the address from this line
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", string(ctype))
		_, _ = w.Write(body)
	}), ReadHeaderTimeout: 10 * time.Second}
	_ = srv.Serve(ln)
	os.Exit(0)
	return true
}

// startBaseline runs the baseline child serving body with contentType
// and returns its address, its process id and a stop function.
func startBaseline(ctx context.Context, body []byte, contentType string) (string, int, func(), error) {
	dir, err := os.MkdirTemp("", "halyard-load-baseline-")
	if err != nil {
		return "", 0, nil, err
	}
	file := filepath.Join(dir, "body")
	if err := os.WriteFile(file, body, 0o600); err != nil {
		os.RemoveAll(dir)
		return "", 0, nil, err
	}
	if err := os.WriteFile(file+".type", []byte(contentType), 0o600); err != nil {
		os.RemoveAll(dir)
		return "", 0, nil, err
	}
	addr, pid, stop, err := startChildProc(ctx, baselineEnv, file, 30*time.Second)
	if err != nil {
		os.RemoveAll(dir)
		return "", 0, nil, err
	}
	return addr, pid, func() { stop(); os.RemoveAll(dir) }, nil
}

// startChild re-executes the tool with env=value set and returns the
// address the child prints on its first line, and a stop function.
func startChild(ctx context.Context, env, value string) (string, func(), error) {
	return startChildWait(ctx, env, value, 30*time.Second)
}

// startChildWait is startChild waiting up to wait for the first line.
func startChildWait(ctx context.Context, env, value string, wait time.Duration) (string, func(), error) {
	addr, _, stop, err := startChildProc(ctx, env, value, wait)
	return addr, stop, err
}

// startChildProc is startChildWait also returning the child's process id.
func startChildProc(ctx context.Context, env, value string, wait time.Duration) (string, int, func(), error) {
	self, err := os.Executable()
	if err != nil {
		return "", 0, nil, err
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), env+"="+value)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", 0, nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", 0, nil, err
	}
	stop := func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case addr := <-line:
		if addr == "" {
			stop()
			return "", 0, nil, fmt.Errorf("the %s process did not start", env)
		}
		return addr, cmd.Process.Pid, stop, nil
	case <-ctx.Done():
		stop()
		return "", 0, nil, ctx.Err()
	case <-time.After(wait):
		stop()
		return "", 0, nil, fmt.Errorf("the %s process did not answer within %s", env, wait)
	}
}
