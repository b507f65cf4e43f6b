package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
)

// pprofEnv turns the server's admin profiling routes on (server.PprofEnv;
// not imported, so the tool builds without the server's packages).
const pprofEnv = "HALYARD_PPROF"

// saveHeapProfile writes the server's heap profile (GET
// /admin/v1/debug/pprof/heap, which needs HALYARD_PPROF=1 on the server)
// to path. It collects first (?gc=1): a profile shows the heap as of the
// last collection, which may predate the last connections. The runtime
// samples one allocation per 512 KiB by default; run the tool with
// GODEBUG=memprofilerate=1024 (the server inherits it) for exact sites.
func saveHeapProfile(ctx context.Context, client *http.Client, srv *server, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.Base+"/admin/v1/debug/pprof/heap?gc=1", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+srv.AdminToken)
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("heap profile: %s: %s (is the server started with %s=1?)", resp.Status, b, pprofEnv)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
