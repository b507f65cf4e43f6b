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
// idempotent) and holds what Validate promises: a port in range, a listen
// address, guild ids that are numbers, a known log level and format,
// positive HTTP timeouts, base URLs without a trailing slash.
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
		if cfg.Port < 1 || cfg.Port > 65535 || cfg.Addr == "" {
			t.Fatalf("port %d, addr %q", cfg.Port, cfg.Addr)
		}
		for _, g := range cfg.GuildIDs {
			if _, err := strconv.ParseUint(g, 10, 64); err != nil {
				t.Fatalf("guild id %q", g)
			}
		}
		switch {
		case cfg.LogLevel != "debug" && cfg.LogLevel != "info" && cfg.LogLevel != "warn" && cfg.LogLevel != "error":
			t.Fatalf("log level %q", cfg.LogLevel)
		case cfg.LogFormat != "text" && cfg.LogFormat != "json":
			t.Fatalf("log format %q", cfg.LogFormat)
		case cfg.HTTPReadHeaderTimeout <= 0 || cfg.HTTPReadTimeout <= 0 || cfg.HTTPWriteTimeout <= 0 || cfg.HTTPIdleTimeout <= 0:
			t.Fatalf("HTTP timeouts %v %v %v %v", cfg.HTTPReadHeaderTimeout, cfg.HTTPReadTimeout, cfg.HTTPWriteTimeout, cfg.HTTPIdleTimeout)
		case strings.HasSuffix(cfg.ExternalURL, "/") || strings.HasSuffix(cfg.CDNURL, "/"):
			t.Fatalf("trailing slash: %q %q", cfg.ExternalURL, cfg.CDNURL)
		case cfg.DemoChurn < 0 || cfg.CommandPrefix == "":
			t.Fatalf("churn %v, prefix %q", cfg.DemoChurn, cfg.CommandPrefix)
		}
	})
}
