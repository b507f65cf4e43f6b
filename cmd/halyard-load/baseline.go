package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/textproto"
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
	header, err := readHeaderFile(file + ".header")
	if err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String()) // the parent reads the address from this line
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		for k, v := range header {
			h[k] = v
		}
		_, _ = w.Write(body)
	}), ReadHeaderTimeout: 10 * time.Second}
	_ = srv.Serve(ln)
	os.Exit(0)
	return true
}

// startBaseline runs the baseline child serving body with header (the
// measured route's own answer headers, so that both servers write and the
// client reads the same bytes; net/http adds Date and Content-Length or
// the chunked framing to either) and returns its address, its process id
// and a stop function.
func startBaseline(ctx context.Context, body []byte, header http.Header) (string, int, func(), error) {
	dir, err := os.MkdirTemp("", "halyard-load-baseline-")
	if err != nil {
		return "", 0, nil, err
	}
	file := filepath.Join(dir, "body")
	if err := os.WriteFile(file, body, 0o600); err != nil {
		os.RemoveAll(dir)
		return "", 0, nil, err
	}
	if err := writeHeaderFile(file+".header", header); err != nil {
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

// startChildWait re-executes the tool with env=value set and returns the
// line the child prints first (its address), waiting up to wait for it,
// and a stop function.
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

// answerHeader is the part of an answer's header the baseline repeats:
// every field but those net/http writes itself for any handler.
func answerHeader(h http.Header) http.Header {
	out := h.Clone()
	for _, k := range []string{"Date", "Content-Length", "Transfer-Encoding"} {
		delete(out, k)
	}
	return out
}

// writeHeaderFile saves h in the wire format ("Key: value" lines).
func writeHeaderFile(file string, h http.Header) error {
	var b strings.Builder
	if err := h.Write(&b); err != nil {
		return err
	}
	return os.WriteFile(file, []byte(b.String()+"\r\n"), 0o600)
}

// readHeaderFile reads what writeHeaderFile saved.
func readHeaderFile(file string) (http.Header, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h, err := textproto.NewReader(bufio.NewReader(f)).ReadMIMEHeader()
	return http.Header(h), err
}
