package main

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// configTags lists the tag of every setting of Config, sections included.
func configTags(tag string) []string {
	var names []string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				walk(f.Type)
				continue
			}
			names = append(names, f.Tag.Get(tag))
		}
	}
	walk(reflect.TypeFor[Config]())
	slices.Sort(names)
	return names
}

// TestConfigNamesUnchanged: the sections changed no environment variable
// and no config.toml key (they are flat, as before the sections); the
// cluster's three (issue 14) are the only ones added since.
func TestConfigNamesUnchanged(t *testing.T) {
	env := []string{"ADDR", "ADMIN_TOKEN", "BOT_TOKEN", "DATA_DIR", "DEMO", "DEMO_CHURN", "DEMO_USERS",
		"DISCORD_API_URL", "DISCORD_CDN_URL", "DISCORD_GATEWAY_URL", "DISCORD_INVITE", "COMMAND_PREFIX",
		"EXTERNAL_URL", "GITHUB_API_URL", "GITHUB_TOKEN", "GUILD_IDS", "HARMY_RATE_PER_MINUTE", "HARMY_RATE_PER_SECOND", "HISTORY_RETENTION",
		"HTTP_IDLE_TIMEOUT", "HTTP_MAX_HEADER_BYTES", "HTTP_READ_HEADER_TIMEOUT", "HTTP_READ_TIMEOUT", "HTTP_WRITE_TIMEOUT",
		"LOG_FORMAT", "LOG_LEVEL", "MONGODB_NAME", "MONGODB_URI", "NATS_CREDS", "NATS_URL", "NODE_NAME", "PORT", "SOCKET_MAX_MESSAGE_BYTES", "SOCKET_MAX_PER_IP",
		"SHARD_COUNT", "SOCKET_MAX_SUBSCRIPTIONS", "SOCKET_MESSAGES_PER_SECOND", "SOCKET_MESSAGE_BURST", "SSE_PING_INTERVAL", "TOKEN_SECRET", "TRUSTED_PROXY_HEADER"}
	slices.Sort(env)
	if got := configTags("env"); !slices.Equal(got, env) {
		t.Fatalf("environment variables\n got %q\nwant %q", got, env)
	}
	var toml []string // each config.toml key is its variable in lower case
	for _, e := range env {
		toml = append(toml, strings.ToLower(e))
	}
	slices.Sort(toml)
	if got := configTags("toml"); !slices.Equal(got, toml) {
		t.Fatalf("config.toml keys\n got %q\nwant %q", got, toml)
	}
}

// TestConfigPrecedence: defaults, then config.toml, then the environment,
// then flags, across every section; a section's untouched settings keep
// their defaults.
func TestConfigPrecedence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	file := `port = 5000
log_level = "debug"
guild_ids = ["1", " 2 ", ""]
http_read_timeout = "5s"
socket_max_per_ip = 3
harmy_rate_per_minute = 7
mongodb_name = "fromfile"
demo_users = 10
discord_cdn_url = "http://cdn.test/"
`
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PORT": "5001", "DEMO_USERS": "11", "HARMY_RATE_PER_SECOND": "9", "SOCKET_MESSAGE_BURST": "5"}
	cfg, err := ParseConfig([]string{"--config", path, "--demo", "--demo-users", "12", "--log-level", "warn"}, env, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.HTTP.Port, want.HTTP.Addr, want.HTTP.ExternalURL = 5001, ":5001", "http://127.0.0.1:5001" // env over file, then normalised
	want.HTTP.ReadTimeout = 5 * time.Second                                                        // file
	want.Log.LogLevel = "warn"                                                                     // flag over file
	want.Discord.GuildIDs = []string{"1", "2"}                                                     // file, normalised
	want.Discord.CDNURL = "http://cdn.test"                                                        // file, normalised
	want.Socket.MaxPerIP, want.Socket.MessageBurst = 3, 5                                          // file; env
	want.Harmy.RatePerMinute, want.Harmy.RatePerSecond = 7, 9                                      // file; env
	want.Storage.MongoName = "fromfile"                                                            // file
	want.Demo.Enabled, want.Demo.Users = true, 12                                                  // flags over env over file
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("got  %+v\nwant %+v", cfg, want)
	}
}

// TestEnvExampleStaysTrue: .env.example names every environment variable
// once, and the values it shows are the defaults.
func TestEnvExampleStaysTrue(t *testing.T) {
	f, err := os.Open("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	example := map[string]string{}
	var names []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("line %q", line)
		}
		if _, dup := example[k]; dup {
			t.Fatalf("%s listed twice", k)
		}
		example[k] = v
		names = append(names, k)
	}
	slices.Sort(names)
	if got := configTags("env"); !slices.Equal(names, got) {
		t.Fatalf(".env.example lists\n%q\nthe configuration reads\n%q", names, got)
	}
	fromExample, err := ParseConfig([]string{"--demo"}, example, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defaults, err := ParseConfig([]string{"--demo"}, map[string]string{}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromExample, defaults) {
		t.Fatalf(".env.example's values are not the defaults:\n%+v\n%+v", fromExample, defaults)
	}
}
