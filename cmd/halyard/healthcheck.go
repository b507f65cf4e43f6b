package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

const healthcheckUsage = `usage: halyard healthcheck [--url URL] [--timeout D] [--config FILE]

Asks a running Halyard whether it is ready (GET /readyz: gateway READY and
store writable) and exits 0 when it answers 200, else 1. Without --url it
asks this machine on the port the configuration listens on (PORT, ADDR,
config.toml), so a container image needs no curl for its HEALTHCHECK.
`

// runHealthcheck is `halyard healthcheck`.
func runHealthcheck(ctx context.Context, args []string, environ map[string]string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("halyard healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, healthcheckUsage) }
	target := fs.String("url", "", "readiness URL (default http://127.0.0.1:PORT/readyz)")
	timeout := fs.Duration("timeout", 5*time.Second, "give up after this long")
	configPath := fs.String("config", "", "path to config.toml (default ./config.toml when present)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "halyard healthcheck: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *target == "" {
		u, err := localReadyzURL(*configPath, environ)
		if err != nil {
			fmt.Fprintf(stderr, "halyard healthcheck: %s\n", oneLine(err))
			return 2
		}
		*target = u
	}

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *target, nil)
	if err != nil {
		fmt.Fprintf(stderr, "halyard healthcheck: %s\n", oneLine(err))
		return 2
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "halyard healthcheck: %s\n", oneLine(err))
		return 1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	line := fmt.Sprintf("%s %d %s", *target, resp.StatusCode, strings.TrimSpace(string(body)))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "halyard healthcheck: not ready: %s\n", line)
		return 1
	}
	fmt.Fprintln(stdout, line)
	return 0
}

// localReadyzURL is /readyz on this machine at the port the configuration
// listens on; a wildcard listen address is reached through loopback.
func localReadyzURL(configPath string, environ map[string]string) (string, error) {
	cfg := DefaultConfig()
	if err := loadConfigSources(&cfg, configPath, environ); err != nil {
		return "", err
	}
	cfg.HTTP.normalize()
	host, port, err := net.SplitHostPort(cfg.HTTP.Addr)
	if err != nil {
		return "", fmt.Errorf("listen address %q: %v", cfg.HTTP.Addr, err)
	}
	if port == "0" {
		return "", fmt.Errorf("listen address %q has no fixed port: pass --url", cfg.HTTP.Addr)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/readyz", nil
}
