package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The deployment files name settings by their environment variables; a
// renamed variable would silently drop a setting. These tests hold every
// name in them to the configuration, and the systemd unit to systemd.

// readEnvFile reads KEY=value lines (comments and blank lines skipped), the
// format both compose's env_file and systemd's EnvironmentFile accept.
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	vars := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.ContainsAny(v, `"'`) {
			t.Fatalf("%s: %q is not KEY=value without quotes", path, line)
		}
		if _, dup := vars[k]; dup {
			t.Fatalf("%s: %s set twice", path, k)
		}
		vars[k] = v
	}
	return vars
}

func assertConfigVars(t *testing.T, where string, names []string) {
	t.Helper()
	known := configTags("env")
	for _, n := range names {
		if !slices.Contains(known, n) {
			t.Errorf("%s sets %s, which Halyard does not read", where, n)
		}
	}
}

func TestDeployEnvExample(t *testing.T) {
	vars := readEnvFile(t, "../../deploy/halyard.env.example")
	var names []string
	for k := range vars {
		names = append(names, k)
	}
	assertConfigVars(t, "deploy/halyard.env.example", names)
	// Filled in as its comments ask, it is a valid configuration.
	vars["BOT_TOKEN"] = "bot-token-from-the-developer-portal"
	if _, err := ParseConfig(nil, vars, io.Discard); err != nil {
		t.Errorf("deploy/halyard.env.example with a BOT_TOKEN: %v", err)
	}
}

func TestDeployCompose(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Image       string                   `yaml:"image"`
			Build       struct{ Context string } `yaml:"build"`
			EnvFile     string                   `yaml:"env_file"`
			Environment map[string]string        `yaml:"environment"`
			Ports       []string                 `yaml:"ports"`
			Volumes     []string                 `yaml:"volumes"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		t.Fatal(err)
	}
	h, ok := compose.Services["halyard"]
	if !ok {
		t.Fatal("compose.yaml has no halyard service")
	}
	var names []string
	for k := range h.Environment {
		names = append(names, k)
	}
	assertConfigVars(t, "compose.yaml's halyard service", names)
	if _, err := os.Stat(filepath.Join("../../deploy", h.Build.Context, "Dockerfile")); err != nil {
		t.Errorf("compose.yaml builds from %q: %v", h.Build.Context, err)
	}
	if _, err := os.Stat(filepath.Join("../../deploy", h.EnvFile+".example")); err != nil {
		t.Errorf("compose.yaml reads %s, which has no example to copy: %v", h.EnvFile, err)
	}
	port := strconv.Itoa(DefaultConfig().HTTP.Port)
	if !slices.ContainsFunc(h.Ports, func(p string) bool { return strings.HasSuffix(p, ":"+port) }) {
		t.Errorf("compose.yaml publishes %v, not the default port %s", h.Ports, port)
	}
	if !slices.Contains(h.Volumes, "halyard-data:/data") {
		t.Errorf("compose.yaml mounts %v, not a volume on the image's DATA_DIR /data", h.Volumes)
	}
	mongo := compose.Services["mongo"]
	if !regexp.MustCompile(`^mongo:\d+\.\d+\.\d+$`).MatchString(mongo.Image) {
		t.Errorf("MongoDB image %q: want the official image at a pinned version", mongo.Image)
	}
	if host := strings.Split(strings.TrimPrefix(h.Environment["MONGODB_URI"], "mongodb://"), ":")[0]; compose.Services[host].Image == "" {
		t.Errorf("MONGODB_URI %q names no service of compose.yaml", h.Environment["MONGODB_URI"])
	}
}

// The unit keeps its hardening, and systemd accepts it when its tools are
// installed (Debian: apt-get install systemd).
func TestDeploySystemdUnit(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/halyard.service")
	if err != nil {
		t.Fatal(err)
	}
	unit := string(raw)
	for _, d := range []string{"DynamicUser=yes", "StateDirectory=halyard", "ProtectSystem=strict", "NoNewPrivileges=yes",
		"PrivateTmp=yes", "ProtectHome=yes", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
		"SystemCallFilter=@system-service", "CapabilityBoundingSet=\n", "EnvironmentFile=/etc/halyard/halyard.env"} {
		if !strings.Contains(unit, "\n"+d) {
			t.Errorf("halyard.service lost %q", strings.TrimSpace(d))
		}
	}
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^Environment=(\w+)=`).FindAllStringSubmatch(unit, -1) {
		names = append(names, m[1])
	}
	assertConfigVars(t, "halyard.service", names)

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed (apt-get install systemd); the unit's directives were not checked by systemd")
	}
	// verify insists that ExecStart's binary exists: point it at this
	// test binary, which does.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "halyard.service")
	checked := regexp.MustCompile(`(?m)^ExecStart=\S+`).ReplaceAllString(unit, "ExecStart="+self)
	if err := os.WriteFile(path, []byte(checked), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(analyze, "verify", path).CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err := exec.Command(analyze, "security", "--offline=true", path).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for halyard\.service: (\d+\.\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("systemd-analyze security printed no exposure level:\n%s", out)
	}
	// systemd rates 0–10; under 2 is its "OK" band, the best it gives a
	// networked service.
	if level, _ := strconv.ParseFloat(string(m[1]), 64); level >= 2 {
		t.Errorf("exposure level %.1f, want under 2:\n%s", level, out)
	}
}
