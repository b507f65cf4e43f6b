package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/caarlos0/env/v11"
)

// Config is Halyard's configuration, in sections: defaults, then
// config.toml, then environment variables, then flags (each overrides the
// one before). The sections are embedded, so config.toml keys and
// environment variables are flat; every environment variable is listed
// and explained in .env.example. ParseConfig normalises (Normalize) and
// then checks (Validate) the result.
type Config struct {
	HTTP
	Socket
	Discord
	Storage
	Harmy
	Demo
	Log
	History
	Cluster
}

// DefaultConfig returns the defaults, each section's from the package that
// owns it.
func DefaultConfig() Config {
	return Config{HTTP: defaultHTTP(), Socket: defaultSocket(), Discord: defaultDiscord(),
		Storage: defaultStorage(), Harmy: defaultHarmy(), Demo: defaultDemo(), Log: defaultLog(),
		History: defaultHistory()}
}

// errUsage is returned for bad command lines; main exits 2.
var errUsage = errors.New("usage")

// ParseConfig builds the configuration from args (without the program
// name) and the environment. A config file named by --config must exist;
// ./config.toml is read when present.
func ParseConfig(args []string, environ map[string]string, stderr io.Writer) (Config, error) {
	cfg := DefaultConfig()

	fs := flag.NewFlagSet("halyard", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "path to config.toml (default ./config.toml when present)")
	demo := fs.Bool("demo", false, "run against the built-in Discord simulator, no Discord account needed")
	demoUsers := fs.Int("demo-users", 0, "number of simulated members in --demo mode (default 50)")
	demoChurn := fs.String("demo-churn", "", "how often simulated presences change in --demo mode, e.g. 3s; 0 freezes them")
	addr := fs.String("addr", "", "listen address host:port (default :PORT)")
	dataDir := fs.String("data-dir", "", "directory for the embedded database and the token secret (default ./data)")
	logLevel := fs.String("log-level", "", "debug, info, warn or error")
	var shardCount ShardCount
	fs.TextVar(&shardCount, "shard-count", ShardCount(1), "Discord shards: a number, or auto for Discord's recommendation (SHARD_COUNT)")
	historyRetention := fs.String("history-retention", "", "how long presence history is kept, e.g. 720h (default 30 days)")
	natsURL := fs.String("nats-url", "", "NATS servers, comma-separated: run as one node of a cluster")
	natsCreds := fs.String("nats-creds", "", "NATS credentials file")
	nodeName := fs.String("node-name", "", "this node's name in the cluster (default: the host name)")
	if err := fs.Parse(args); err != nil {
		return cfg, errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "halyard: unexpected argument %q\n", fs.Arg(0))
		return cfg, errUsage
	}

	if err := loadConfigSources(&cfg, *configPath, environ); err != nil {
		return cfg, err
	}

	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "demo":
			cfg.Demo.Enabled = *demo
		case "demo-users":
			cfg.Demo.Users = *demoUsers
		case "addr":
			cfg.HTTP.Addr = *addr
		case "data-dir":
			cfg.Storage.DataDir = *dataDir
		case "log-level":
			cfg.Log.LogLevel = *logLevel
		case "shard-count":
			cfg.Discord.ShardCount = shardCount
		case "nats-url":
			cfg.Cluster.NATSURL = *natsURL
		case "nats-creds":
			cfg.Cluster.NATSCreds = *natsCreds
		case "node-name":
			cfg.Cluster.NodeName = *nodeName
		}
	})
	if *demoChurn != "" {
		d, err := parseDuration(*demoChurn)
		if err != nil {
			return cfg, fmt.Errorf("--demo-churn: %v", err)
		}
		cfg.Demo.Churn = d
	}
	if *historyRetention != "" {
		d, err := time.ParseDuration(*historyRetention)
		if err != nil {
			return cfg, fmt.Errorf("--history-retention: %v", err)
		}
		cfg.History.HistoryRetention = d
	}
	cfg.Normalize()
	return cfg, cfg.Validate()
}

// loadConfigSources applies config.toml (configPath, or ./config.toml when
// present) and then the environment over cfg. The server and the import
// commands share it, so they read the same database and secret.
func loadConfigSources(cfg *Config, configPath string, environ map[string]string) error {
	path, required := configPath, true
	if path == "" {
		path, required = "config.toml", false
	}
	if _, err := os.Stat(path); err == nil || required {
		md, err := toml.DecodeFile(path, cfg)
		if err != nil {
			return fmt.Errorf("config file %s: %v", path, oneLine(err))
		}
		if undecoded := md.Undecoded(); len(undecoded) > 0 {
			return fmt.Errorf("config file %s: unknown setting %q", path, undecoded[0].String())
		}
	}
	if err := env.ParseWithOptions(cfg, env.Options{Environment: environ}); err != nil {
		return fmt.Errorf("environment: %v", oneLine(err))
	}
	return nil
}

// parseDuration accepts Go durations and a bare "0".
func parseDuration(s string) (time.Duration, error) {
	if s == "0" {
		return 0, nil
	}
	return time.ParseDuration(s)
}

// oneLine keeps an error message on one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// environMap returns the process environment as a map.
func environMap() map[string]string {
	m := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}
