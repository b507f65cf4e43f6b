package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/halyardhq/halyard/internal/buildinfo"
)

const versionUsage = `usage: halyard version

Prints which Halyard this is: the module version (v1.2.3 after
go install …@v1.2.3, "(devel)" for a build from a checkout), the commit,
its time and whether the tree was modified when the build recorded them,
the Go version and the platform.
`

// runVersion is `halyard version`.
func runVersion(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("halyard version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, versionUsage) }
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "halyard version: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	fmt.Fprintln(stdout, buildinfo.Read())
	return 0
}
