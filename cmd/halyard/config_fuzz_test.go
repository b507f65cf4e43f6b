package main

import (
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseConfig feeds arbitrary config.toml files, with one arbitrary
// environment variable on top, to ParseConfig. Properties: no panic; an
// accepted configuration validates again unchanged (Validate is
// idempotent), normalising it again changes nothing (Normalize is
// idempotent), and it holds what Normalize and Validate promise: a port in
// range, a listen address, guild ids that are numbers, a known log level
// and format, positive HTTP timeouts, base URLs without a trailing slash.
func FuzzParseConfig(f *testing.F) {
	seeds := []string{
		"", "port = 4001\n", "port = 0\n", "port = 99999999999999999999999\n", "port = -1\n",
		"guild_ids = [\"123\", \" 456 \", \"\"]\n", "guild_ids = [\"abc\"]\n", "guild_ids = \"123\"\n",
		"log_level = \"debug\"\nlog_format = \"json\"\n", "log_level = \"\\u0000\"\n",
		"demo_churn = \"3s\"\n", "demo_churn = \"-1s\"\n", "demo_churn = \"99999999999h\"\n",
		"http_read_header_timeout = \"1ns\"\nhttp_max_header_bytes = 4096\n", "http_read_timeout = \"0s\"\n",
		"external_url = \"http://x///\"\n", "discord_cdn_url = \"javascript:alert(1)\"\n",
		"unknown = 1\n", "[table]\nkey = 1\n", "a = [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
		"port = \"4001\"\n", "port = 4001\nport = 4002\n", "\xff\xfe", "bot_token = \"\x00\"\n",
		"token_secret = \"short\"\n", "token_secret = \"" + strings.Repeat("s", 32) + "\"\n",
		"command_prefix = \"\"\n", "demo_users = 1000001\n", "harmy_rate_per_second = -1\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s), "PORT", "4001")
	}
	f.Add([]byte("port = 1\n"), "HTTP_IDLE_TIMEOUT", "1h")
	f.Add([]byte(""), "GUILD_IDS", "1,,2, 3")
	f.Add([]byte(""), "DEMO_CHURN", "0")
	dir := f.TempDir()
	path := filepath.Join(dir, "config.toml")
	f.Fuzz(func(t *testing.T, file []byte, envName, envValue string) {
		if err := os.WriteFile(path, file, 0o600); err != nil {
			t.Fatal(err)
		}
		env := map[string]string{"BOT_TOKEN": "fuzz-bot-token"}
		if envName != "" {
			env[envName] = envValue
		}
		cfg, err := ParseConfig([]string{"--config", path}, env, io.Discard)
		if err != nil {
			return
		}
		again := cfg
		if err := again.Validate(); err != nil {
			t.Fatalf("accepted config does not validate again: %v", err)
		}
		if !reflect.DeepEqual(again, cfg) {
			t.Fatalf("Validate is not idempotent:\n%+v\n%+v", cfg, again)
		}
		again.Normalize()
		if !reflect.DeepEqual(again, cfg) {
			t.Fatalf("Normalize is not idempotent:\n%+v\n%+v", cfg, again)
		}
		if cfg.HTTP.Port < 1 || cfg.HTTP.Port > 65535 || cfg.HTTP.Addr == "" {
			t.Fatalf("port %d, addr %q", cfg.HTTP.Port, cfg.HTTP.Addr)
		}
		for _, g := range cfg.Discord.GuildIDs {
			if _, err := strconv.ParseUint(g, 10, 64); err != nil {
				t.Fatalf("guild id %q", g)
			}
		}
		switch {
		case cfg.Log.LogLevel != "debug" && cfg.Log.LogLevel != "info" && cfg.Log.LogLevel != "warn" && cfg.Log.LogLevel != "error":
			t.Fatalf("log level %q", cfg.Log.LogLevel)
		case cfg.Log.LogFormat != "text" && cfg.Log.LogFormat != "json":
			t.Fatalf("log format %q", cfg.Log.LogFormat)
		case cfg.HTTP.ReadHeaderTimeout <= 0 || cfg.HTTP.ReadTimeout <= 0 || cfg.HTTP.WriteTimeout <= 0 || cfg.HTTP.IdleTimeout <= 0:
			t.Fatalf("HTTP timeouts %v %v %v %v", cfg.HTTP.ReadHeaderTimeout, cfg.HTTP.ReadTimeout, cfg.HTTP.WriteTimeout, cfg.HTTP.IdleTimeout)
		case strings.HasSuffix(cfg.HTTP.ExternalURL, "/") || strings.HasSuffix(cfg.Discord.CDNURL, "/"):
			t.Fatalf("trailing slash: %q %q", cfg.HTTP.ExternalURL, cfg.Discord.CDNURL)
		case cfg.Demo.Churn < 0 || cfg.Discord.CommandPrefix == "":
			t.Fatalf("churn %v, prefix %q", cfg.Demo.Churn, cfg.Discord.CommandPrefix)
		}
	})
}
