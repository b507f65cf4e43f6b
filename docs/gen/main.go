// Command gen rebuilds the OpenAPI document's JSON forms from
// docs/openapi.yaml: docs/openapi.json (embedded and served at
// /docs/swagger.json) and the repository's top-level swagger.json, the
// same bytes. Run it with `go generate ./docs`.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/halyardhq/halyard/docs/internal/yamljson"
)

func main() {
	if err := run("."); err != nil {
		fmt.Fprintln(os.Stderr, "docs/gen:", err)
		os.Exit(1)
	}
}

// run converts openapi.yaml in dir (the docs package directory).
func run(dir string) error {
	src, err := os.ReadFile(filepath.Join(dir, "openapi.yaml"))
	if err != nil {
		return err
	}
	out, err := yamljson.Convert(src)
	if err != nil {
		return fmt.Errorf("openapi.yaml: %v", err)
	}
	for _, path := range []string{filepath.Join(dir, "openapi.json"), filepath.Join(dir, "..", "swagger.json")} {
		if err := os.WriteFile(path, out, 0o644); err != nil {
			return err
		}
	}
	return nil
}
