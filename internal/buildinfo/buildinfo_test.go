package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	stamped := []debug.BuildSetting{
		{Key: "-trimpath", Value: "true"},
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
		{Key: "vcs.time", Value: "2026-12-07T15:10:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}
	cases := []struct {
		name             string
		bi               debug.BuildInfo
		linkVer, linkRev string
		want             Info
		wantInString     []string
		wantNotInString  []string
	}{
		{name: "go install of a tagged version",
			bi:           debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.3"}},
			linkVer:      "v9.9.9", // ignored: the module version is real
			want:         Info{Version: "v1.2.3", GoVersion: "go1.26.0"},
			wantInString: []string{"halyard v1.2.3 go1.26.0 "}},
		{name: "build from a git checkout",
			bi:           debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: Devel}, Settings: stamped},
			linkRev:      "ffff", // ignored: the VCS stamp is real
			want:         Info{Version: Devel, Revision: "0123456789abcdef0123456789abcdef01234567", Time: "2026-12-07T15:10:00Z", Modified: true, GoVersion: "go1.26.0"},
			wantInString: []string{"halyard (devel) (revision 0123456789ab, 2026-12-07T15:10:00Z, modified)"}},
		{name: "-buildvcs=false, nothing at link time",
			bi:              debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: Devel}},
			want:            Info{Version: Devel, GoVersion: "go1.26.0"},
			wantNotInString: []string{"revision", "modified"}},
		{name: "container build: link-time version and revision",
			bi:      debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: ""}},
			linkVer: "v1.2.4-rc1", linkRev: "abcdef",
			want:         Info{Version: "v1.2.4-rc1", Revision: "abcdef", GoVersion: "go1.26.0"},
			wantInString: []string{"halyard v1.2.4-rc1 (revision abcdef) go1.26.0"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := fromBuildInfo(&c.bi, c.linkVer, c.linkRev)
			c.want.Platform = runtime.GOOS + "/" + runtime.GOARCH
			if got != c.want {
				t.Errorf("got %+v\nwant %+v", got, c.want)
			}
			s := got.String()
			for _, w := range c.wantInString {
				if !strings.Contains(s, w) {
					t.Errorf("String() = %q, want it to contain %q", s, w)
				}
			}
			for _, w := range c.wantNotInString {
				if strings.Contains(s, w) {
					t.Errorf("String() = %q, want no %q", s, w)
				}
			}
		})
	}
}

// Read works in any binary, this test binary included, and never leaves
// the version empty.
func TestReadInTestBinary(t *testing.T) {
	in := Read()
	if in.Version == "" || in.GoVersion != runtime.Version() {
		t.Errorf("Read() = %+v; want a version and GoVersion %s", in, runtime.Version())
	}
}
