// Package buildinfo says which Halyard this is: the module version and the
// version-control stamp the Go toolchain records in every binary
// (runtime/debug.ReadBuildInfo), for `halyard version`, the first log line
// and the halyard_build_info metric.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Devel is the version of a binary built from a checkout without a module
// version (go build, go run); the toolchain reports it the same way.
const Devel = "(devel)"

// version and revision are set at link time by builds that have no module
// version and no VCS stamp, such as the Dockerfile's (the build context
// leaves .git out):
//
//	go build -ldflags "-X github.com/halyardhq/halyard/internal/buildinfo.version=v1.2.3
//	  -X github.com/halyardhq/halyard/internal/buildinfo.revision=$(git rev-parse HEAD)"
//
// The build info wins where it has a value: `go install …@v1.2.3` and
// builds from a git checkout always say what they really are.
var version, revision string

// Info is what the binary knows about its own build.
type Info struct {
	Version   string // module version (v1.2.3, a pseudo-version) or Devel
	Revision  string // VCS commit, empty when not stamped
	Time      string // VCS commit time (RFC 3339), empty when not stamped
	Modified  bool   // the working tree had uncommitted changes
	GoVersion string // toolchain that built the binary
	Platform  string // GOOS/GOARCH
}

// Read returns this binary's build information.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = &debug.BuildInfo{GoVersion: runtime.Version()}
	}
	return fromBuildInfo(bi, version, revision)
}

// fromBuildInfo reads bi, falling back on the link-time values where bi has
// none.
func fromBuildInfo(bi *debug.BuildInfo, linkVersion, linkRevision string) Info {
	in := Info{Version: bi.Main.Version, GoVersion: bi.GoVersion, Platform: runtime.GOOS + "/" + runtime.GOARCH}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			in.Revision = s.Value
		case "vcs.time":
			in.Time = s.Value
		case "vcs.modified":
			in.Modified = s.Value == "true"
		}
	}
	if in.Version == "" || in.Version == Devel {
		in.Version = Devel
		if linkVersion != "" {
			in.Version = linkVersion
		}
	}
	if in.Revision == "" {
		in.Revision = linkRevision
	}
	if in.GoVersion == "" {
		in.GoVersion = runtime.Version()
	}
	return in
}

// ShortRevision is the first 12 characters of the revision ("" when unknown).
func (in Info) ShortRevision() string {
	if len(in.Revision) > 12 {
		return in.Revision[:12]
	}
	return in.Revision
}

// String is the one-line form printed by `halyard version`:
//
//	halyard v1.2.3 (revision 0123456789ab, 2026-12-07T15:10:00Z, modified) go1.26.0 linux/amd64
func (in Info) String() string {
	var stamp []string
	if in.Revision != "" {
		stamp = append(stamp, "revision "+in.ShortRevision())
	}
	if in.Time != "" {
		stamp = append(stamp, in.Time)
	}
	if in.Modified {
		stamp = append(stamp, "modified")
	}
	s := "halyard " + in.Version
	if len(stamp) > 0 {
		s += " (" + strings.Join(stamp, ", ") + ")"
	}
	return fmt.Sprintf("%s %s %s", s, in.GoVersion, in.Platform)
}
