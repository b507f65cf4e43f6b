package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/halyardhq/halyard/internal/buildinfo"
	"github.com/halyardhq/halyard/server"
)

func runCmd(args []string, environ map[string]string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, environ, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestVersionCommand(t *testing.T) {
	want := buildinfo.Read().String() + "\n"
	for _, arg := range []string{"version", "--version"} {
		if code, out, _ := runCmd([]string{arg}, nil); code != 0 || out != want {
			t.Errorf("halyard %s: %d %q, want 0 %q", arg, code, out, want)
		}
	}
	if code, _, errOut := runCmd([]string{"version", "extra"}, nil); code != 2 || !strings.Contains(errOut, `unexpected argument "extra"`) {
		t.Errorf("halyard version extra: %d %q, want 2 and the argument named", code, errOut)
	}
}

// The healthcheck finds a ready demo node from the same configuration the
// node runs with (ADDR here), and says so with exit 0.
func TestHealthcheckReadyNode(t *testing.T) {
	m := startDemo(t, t.TempDir(), 5)
	defer m.Close()
	// Run returns at gateway READY; the member list may still be loading.
	c := client{t, "http://" + m.Server.Addr()}
	eventually(t, "readyz 200", func() bool { code, _ := c.do("GET", "/readyz", "", nil); return code == 200 })
	code, out, errOut := runCmd([]string{"healthcheck"}, map[string]string{"ADDR": m.Server.Addr()})
	if code != 0 || !strings.Contains(out, "/readyz 200 ") {
		t.Fatalf("healthcheck of a ready node: %d %q %q", code, out, errOut)
	}
}

// A node that answers 503 (its readiness reasons) and a port nobody
// listens on both fail the healthcheck with exit 1.
func TestHealthcheckNotReady(t *testing.T) {
	s := server.New(server.Options{Ready: func(context.Context) []string { return []string{"gateway not READY"} }})
	if err := s.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	s.Serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	code, _, errOut := runCmd([]string{"healthcheck", "--url", "http://" + s.Addr() + "/readyz"}, nil)
	if code != 1 || !strings.Contains(errOut, "503") || !strings.Contains(errOut, "gateway not READY") {
		t.Errorf("healthcheck of a node not ready: %d %q", code, errOut)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	code, _, errOut = runCmd([]string{"healthcheck", "--url", "http://" + closed + "/readyz", "--timeout", "2s"}, nil)
	if code != 1 || !strings.Contains(errOut, "refused") {
		t.Errorf("healthcheck of a closed port: %d %q", code, errOut)
	}
}

// Without --url the healthcheck asks loopback on the port the node listens
// on, whichever way the configuration names it.
func TestHealthcheckURLFromConfig(t *testing.T) {
	cases := []struct {
		env  map[string]string
		want string
	}{
		{nil, "http://127.0.0.1:4001/readyz"},
		{map[string]string{"PORT": "5000"}, "http://127.0.0.1:5000/readyz"},
		{map[string]string{"ADDR": "0.0.0.0:4002"}, "http://127.0.0.1:4002/readyz"},
		{map[string]string{"ADDR": "[::]:4003"}, "http://[::1]:4003/readyz"},
		{map[string]string{"ADDR": "10.1.2.3:4004", "PORT": "9"}, "http://10.1.2.3:4004/readyz"},
	}
	t.Chdir(t.TempDir()) // no ./config.toml
	for _, c := range cases {
		got, err := localReadyzURL("", c.env)
		if err != nil || got != c.want {
			t.Errorf("env %v: %q %v, want %q", c.env, got, err, c.want)
		}
	}
	if _, err := localReadyzURL("", map[string]string{"ADDR": "127.0.0.1:0"}); err == nil || !strings.Contains(err.Error(), "--url") {
		t.Errorf("ADDR with port 0: %v, want an error pointing at --url", err)
	}
}
