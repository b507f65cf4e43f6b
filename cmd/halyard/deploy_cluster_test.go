package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// composeService is what the cluster profile's checks read of a service.
type composeService struct {
	Image       string            `yaml:"image"`
	Build       *struct{}         `yaml:"build"`
	Profiles    []string          `yaml:"profiles"`
	EnvFile     string            `yaml:"env_file"`
	Environment map[string]string `yaml:"environment"`
	Command     []string          `yaml:"command"`
	Ports       []string          `yaml:"ports"`
	Volumes     []string          `yaml:"volumes"`
	DependsOn   any               `yaml:"depends_on"`
}

// dependsOn lists a service's dependencies in either compose form.
func (s composeService) dependsOn() []string {
	var out []string
	switch d := s.DependsOn.(type) {
	case []any:
		for _, v := range d {
			out = append(out, v.(string))
		}
	case map[string]any:
		for k := range d {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// The cluster profile is three nodes on one bus and one replica set, each
// a valid configuration, behind a balancer that checks /readyz; none of it
// starts with the single node's `docker compose up`.
func TestDeployComposeCluster(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]composeService `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		t.Fatal(err)
	}
	svc := compose.Services
	for _, name := range []string{"halyard", "mongo"} {
		if len(svc[name].Profiles) != 0 {
			t.Errorf("%s is in profiles %v: the default `up` must start the single node", name, svc[name].Profiles)
		}
	}
	for name, s := range svc {
		if name != "halyard" && name != "mongo" && !slices.Equal(s.Profiles, []string{"cluster"}) {
			t.Errorf("%s is in profiles %v, want [cluster]", name, s.Profiles)
		}
	}

	env := readEnvFile(t, "../../deploy/halyard.env.example")
	env["BOT_TOKEN"] = "bot-token-from-the-developer-portal"
	env["TOKEN_SECRET"] = strings.Repeat("ab", 32) // the profile's comment asks for one
	var natsURL, mongoURI string
	names := map[string]bool{}
	for _, node := range []string{"halyard-1", "halyard-2", "halyard-3"} {
		s, ok := svc[node]
		if !ok {
			t.Fatalf("no %s service", node)
		}
		if s.Build == nil || s.Image != svc["halyard"].Image || s.EnvFile != "halyard.env" {
			t.Errorf("%s: image %q (build %v), env_file %q: want the single node's image built here and halyard.env", node, s.Image, s.Build != nil, s.EnvFile)
		}
		var keys []string
		for k := range s.Environment {
			keys = append(keys, k)
		}
		assertConfigVars(t, "compose.yaml's "+node, keys)
		vars := map[string]string{}
		for k, v := range env {
			vars[k] = v
		}
		for k, v := range s.Environment {
			vars[k] = v
		}
		if _, err := ParseConfig(nil, vars, nil); err != nil {
			t.Errorf("%s's configuration: %v", node, err)
		}
		names[s.Environment["NODE_NAME"]] = true
		if natsURL == "" {
			natsURL, mongoURI = s.Environment["NATS_URL"], s.Environment["MONGODB_URI"]
		}
		if s.Environment["NATS_URL"] != natsURL || s.Environment["MONGODB_URI"] != mongoURI {
			t.Errorf("%s: NATS_URL %q, MONGODB_URI %q: every node shares the first node's", node, s.Environment["NATS_URL"], s.Environment["MONGODB_URI"])
		}
		if !slices.Contains(s.dependsOn(), "mongo-1") {
			t.Errorf("%s starts before the replica set: depends on %v", node, s.dependsOn())
		}
	}
	if len(names) != 3 {
		t.Errorf("node names %v: want three different ones", names)
	}

	// The bus: every NATS_URL entry a NATS service with JetStream, routed
	// to the two others, in one named cluster.
	for _, u := range strings.Split(natsURL, ",") {
		host := strings.Split(strings.TrimPrefix(u, "nats://"), ":")[0]
		s, ok := svc[host]
		if !ok {
			t.Errorf("NATS_URL names %s, not a service", host)
			continue
		}
		cmd := strings.Join(s.Command, " ")
		if !strings.Contains(cmd, "--jetstream") || !strings.Contains(cmd, "--cluster_name halyard") {
			t.Errorf("%s runs %q: want JetStream in the halyard cluster", host, cmd)
		}
		for _, other := range []string{"nats-1", "nats-2", "nats-3"} {
			if other != host && !strings.Contains(cmd, "nats://"+other+":6222") {
				t.Errorf("%s has no route to %s: %q", host, other, cmd)
			}
		}
	}

	// The store: a replica set whose members are services of the file.
	m := regexp.MustCompile(`^mongodb://([^/]+)/\?replicaSet=(\w+)$`).FindStringSubmatch(mongoURI)
	if m == nil {
		t.Fatalf("MONGODB_URI %q: want the replica set's members and its name", mongoURI)
	}
	for _, hp := range strings.Split(m[1], ",") {
		host := strings.Split(hp, ":")[0]
		s := svc[host]
		if s.Image != svc["mongo"].Image || !slices.Equal(s.Command, []string{"--replSet", m[2], "--bind_ip_all"}) {
			t.Errorf("%s: image %q, command %v: want the pinned MongoDB in replica set %s", host, s.Image, s.Command, m[2])
		}
	}

	// The balancer checks /readyz on all three and balances without
	// stickiness.
	lb := svc["lb"]
	if got := lb.dependsOn(); !slices.Equal(got, []string{"halyard-1", "halyard-2", "halyard-3"}) {
		t.Errorf("lb depends on %v", got)
	}
	cfg, err := os.ReadFile("../../deploy/haproxy-cluster.cfg")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"option httpchk GET /readyz", "http-check expect status 200", "timeout tunnel",
		"server halyard-1 halyard-1:4001", "server halyard-2 halyard-2:4001", "server halyard-3 halyard-3:4001", "option forwardfor"} {
		if !strings.Contains(string(cfg), want) {
			t.Errorf("haproxy-cluster.cfg lacks %q", want)
		}
	}
	for _, l := range strings.Split(string(cfg), "\n") {
		if f := strings.Fields(l); len(f) > 0 && (f[0] == "cookie" || strings.HasPrefix(f[0], "stick")) {
			t.Errorf("haproxy-cluster.cfg makes sessions sticky (%q): any node serves any socket", strings.TrimSpace(l))
		}
	}
	if !slices.Contains(lb.Volumes, "./haproxy-cluster.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro") {
		t.Errorf("lb mounts %v, not the repository's haproxy-cluster.cfg", lb.Volumes)
	}
}
