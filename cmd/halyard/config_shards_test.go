package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/halyardhq/halyard/discord"
)

// TestShardCountSources: SHARD_COUNT from config.toml (a number or
// "auto"), the environment and --shard-count, each over the one before;
// anything but auto or a count from 1 is refused.
func TestShardCountSources(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		path := filepath.Join(dir, "config.toml")
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	env := func(kv ...string) map[string]string {
		m := map[string]string{"BOT_TOKEN": "t"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, tt := range []struct {
		name string
		file string
		args []string
		env  map[string]string
		want int
	}{
		{"default", "", nil, env(), 1},
		{"file number", "shard_count = 4\n", nil, env(), 4},
		{"file auto", "shard_count = \"auto\"\n", nil, env(), discord.AutoShards},
		{"env over file", "shard_count = 4\n", nil, env("SHARD_COUNT", "AUTO"), discord.AutoShards},
		{"flag over env", "", []string{"--shard-count", "3"}, env("SHARD_COUNT", "auto"), 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--config", write(tt.file)}, tt.args...)
			cfg, err := ParseConfig(args, tt.env, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if int(cfg.Discord.ShardCount) != tt.want {
				t.Fatalf("shard count %d, want %d", cfg.Discord.ShardCount, tt.want)
			}
		})
	}
	for _, tt := range []struct {
		name string
		file string
		args []string
		env  map[string]string
	}{
		{"file zero", "shard_count = 0\n", nil, env()},
		{"file negative", "shard_count = -1\n", nil, env()},
		{"file word", "shard_count = \"many\"\n", nil, env()},
		{"env zero", "", nil, env("SHARD_COUNT", "0")},
		{"env fraction", "", nil, env("SHARD_COUNT", "1.5")},
		{"env huge", "", nil, env("SHARD_COUNT", "99999999999")},
		{"flag word", "", []string{"--shard-count", "x"}, env()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--config", write(tt.file)}, tt.args...)
			if _, err := ParseConfig(args, tt.env, io.Discard); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
