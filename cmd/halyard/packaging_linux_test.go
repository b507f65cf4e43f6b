//go:build linux

package main

import (
	"bufio"
	"context"
	"debug/elf"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/halyardhq/halyard/internal/buildinfo"
)

// The container image and the systemd unit run one static binary with
// nothing around it. This test builds that binary the way the Dockerfile
// does and runs it in an empty root: demo mode, /readyz, the healthcheck
// the image's HEALTHCHECK uses, and `halyard version` against what the Go
// toolchain says the binary holds. Linux only (chroot and user namespaces).
func TestPackagedStaticBinary(t *testing.T) {
	goBin, err := exec.LookPath("go") // go test puts its own GOROOT/bin first
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "halyard")
	goBuild(t, goBin, nil, "-o", bin, ".")
	assertStatic(t, bin)

	t.Run("version is the build info", func(t *testing.T) {
		want := toolchainBuildInfo(t, goBin, bin).String()
		if got := runOutput(t, bin, "version"); got != want {
			t.Errorf("halyard version = %q; go version -m says %q", got, want)
		}
	})
	t.Run("demo in an empty root", func(t *testing.T) { demoInEmptyRoot(t, bin) })
	t.Run("link-time version without build info", func(t *testing.T) {
		// The Dockerfile's way: no .git in the build context, the version
		// and commit passed as build arguments into its -X flags (taken
		// from the Dockerfile, so a renamed variable fails here).
		rev := randomHex(20)
		args := map[string]string{"VERSION": "v0.0.0-test.1", "REVISION": rev}
		linked := filepath.Join(t.TempDir(), "halyard")
		goBuild(t, goBin, []string{"-buildvcs=false"}, "-o", linked, "-ldflags", dockerfileLinkFlags(t, args), ".")
		got := runOutput(t, linked, "version")
		if want := "halyard v0.0.0-test.1 (revision " + rev[:12] + ") "; !strings.HasPrefix(got, want) {
			t.Errorf("halyard version = %q, want it to start %q", got, want)
		}
	})
	t.Run("git checkout stamps the commit", func(t *testing.T) {
		root, _ := filepath.Abs("../..")
		if fi, err := os.Stat(filepath.Join(root, ".git")); err != nil || !fi.IsDir() {
			// The Go toolchain stamps only a .git directory (not a
			// worktree's .git file, not a tarball).
			t.Skip("the module root has no .git directory, so Go records no commit")
		}
		head, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output()
		if err != nil {
			t.Skipf("git cannot read the checkout: %v", err)
		}
		stamped := filepath.Join(t.TempDir(), "halyard")
		goBuild(t, goBin, []string{"-buildvcs=true"}, "-o", stamped, ".")
		if got, want := runOutput(t, stamped, "version"), "(revision "+strings.TrimSpace(string(head))[:12]; !strings.Contains(got, want) {
			t.Errorf("halyard version = %q, want %q", got, want)
		}
	})
}

// goBuild builds like the Dockerfile (static, no cgo, trimmed paths), with
// extra GOFLAGS appended to the environment's (CI's -buildvcs=false first,
// so a test's own choice wins).
func goBuild(t *testing.T, goBin string, goflags []string, args ...string) {
	t.Helper()
	cmd := exec.Command(goBin, append([]string{"build", "-trimpath"}, args...)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0",
		"GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" "+strings.Join(goflags, " ")))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %v: %v\n%s", args, err, out)
	}
}

// dockerfileLinkFlags returns the Dockerfile's "-X name=${ARG}" link flags
// with the build arguments filled in from args, each of which it must use.
func dockerfileLinkFlags(t *testing.T, args map[string]string) string {
	t.Helper()
	df, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var flags []string
	used := map[string]bool{}
	for _, m := range regexp.MustCompile(`-X (\S+)=\$\{(\w+)\}`).FindAllStringSubmatch(string(df), -1) {
		v, ok := args[m[2]]
		if !ok {
			t.Fatalf("the Dockerfile links %s from build argument %s, which this test does not know", m[1], m[2])
		}
		flags, used[m[2]] = append(flags, "-X "+m[1]+"="+v), true
	}
	for a := range args {
		if !used[a] {
			t.Fatalf("the Dockerfile does not link build argument %s into the binary", a)
		}
	}
	return strings.Join(flags, " ")
}

// assertStatic fails unless bin needs no dynamic loader and no shared
// library: nothing but itself in the image.
func assertStatic(t *testing.T, bin string) {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatalf("%s asks for a dynamic loader", bin)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Fatalf("%s needs shared libraries %v", bin, libs)
	}
}

// toolchainBuildInfo reads bin's build information with `go version -m`,
// the toolchain's reader rather than the binary's own.
func toolchainBuildInfo(t *testing.T, goBin, bin string) buildinfo.Info {
	t.Helper()
	out, err := exec.Command(goBin, "version", "-m", bin).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	in := buildinfo.Info{Version: buildinfo.Devel, Platform: runtime.GOOS + "/" + runtime.GOARCH}
	for i, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		switch {
		case i == 0 && len(f) == 2:
			in.GoVersion = f[1] // "bin: go1.26.0"
		case len(f) >= 3 && f[0] == "mod" && f[2] != "":
			in.Version = f[2]
		case len(f) == 2 && f[0] == "build":
			k, v, _ := strings.Cut(f[1], "=")
			switch k {
			case "vcs.revision":
				in.Revision = v
			case "vcs.time":
				in.Time = v
			case "vcs.modified":
				in.Modified = v == "true"
			}
		}
	}
	return in
}

// runOutput runs bin with args and returns its trimmed standard output.
func runOutput(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		t.Fatalf("%s %v: %v", bin, args, err)
	}
	return strings.TrimSpace(string(out))
}

// containerUID is the image's user (distroless's "nonroot").
const containerUID = 65532

// demoInEmptyRoot runs bin in a root holding only /halyard and /data, with
// an empty environment: no /etc (resolv.conf, passwd, CA certificates,
// localtime), no /tmp, no /proc, no HOME or PATH. As root it uses chroot
// and runs as the image's unprivileged user; otherwise a user namespace
// (`unshare -r`) grants the chroot, and the test skips if the kernel
// refuses unprivileged user namespaces.
func demoInEmptyRoot(t *testing.T, bin string) {
	root := t.TempDir()
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "halyard"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	asRoot := os.Geteuid() == 0
	if asRoot {
		if err := os.Chown(filepath.Join(root, "data"), containerUID, containerUID); err != nil {
			t.Fatal(err)
		}
	}
	inRoot := func(ctx context.Context, args ...string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, "/halyard", args...)
		cmd.Env, cmd.Dir = []string{}, "/"
		cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root}
		if asRoot {
			cmd.SysProcAttr.Credential = &syscall.Credential{Uid: containerUID, Gid: containerUID}
		} else {
			cmd.SysProcAttr.Cloneflags = syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS
			cmd.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}}
			cmd.SysProcAttr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}}
		}
		return cmd
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	server := inRoot(ctx, "--demo", "--demo-users", "5", "--demo-churn", "0",
		"--addr", "127.0.0.1:0", "--data-dir", "/data", "--log-level", "info")
	stderr, err := server.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := server.Start(); err != nil {
		if !asRoot && (errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) ||
			errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOSPC)) {
			t.Skipf("this kernel refuses an unprivileged user namespace for the chroot (%v); run as root to use chroot directly", err)
		}
		t.Fatalf("starting halyard in %s: %v", root, err)
	}
	exited := make(chan error, 1)
	lines, addr := make(chan string, 1000), make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
			if m := servingAddr.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		exited <- server.Wait()
	}()
	logs := func() string {
		var b strings.Builder
		for {
			select {
			case l := <-lines:
				b.WriteString(l + "\n")
			default:
				return b.String()
			}
		}
	}
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case err := <-exited:
		t.Fatalf("halyard exited in the empty root: %v\n%s", err, logs())
	case <-ctx.Done():
		t.Fatalf("halyard did not serve in the empty root:\n%s", logs())
	}

	var code int
	for code != http.StatusOK && ctx.Err() == nil {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			code = resp.StatusCode
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code != http.StatusOK {
		t.Fatalf("/readyz never answered 200 (last %d):\n%s", code, logs())
	}

	// The image's HEALTHCHECK: the same binary, no curl, in the same root.
	hc := inRoot(ctx, "healthcheck", "--url", base+"/readyz")
	if out, err := hc.CombinedOutput(); err != nil || !strings.Contains(string(out), " 200 ") {
		t.Errorf("halyard healthcheck in the empty root: %v: %s", err, out)
	}

	if err := server.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("halyard did not stop cleanly: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("halyard did not stop within 30 s of SIGTERM")
	}
	got := logs()
	if first, _, _ := strings.Cut(got, "\n"); !strings.Contains(first, `msg="starting halyard" version=`) {
		t.Errorf("first log line %q does not name the version", first)
	}

	// It wrote nowhere but its data directory.
	var outside []string
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(root, p)
		if rel != "." && rel != "halyard" && rel != "data" && !strings.HasPrefix(rel, "data"+string(filepath.Separator)) {
			outside = append(outside, rel)
		}
		return nil
	})
	if len(outside) > 0 {
		t.Errorf("halyard wrote outside /data: %v", outside)
	}
}
