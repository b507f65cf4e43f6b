package discordsim

import (
	"flag"
	"log/slog"
	"net"
	"time"
)

// Standalone are the settings of a simulator run as its own process:
// cmd/discordsim (the Node suite's Discord) and `halyard sim` (a Discord
// several Halyard nodes share) read the same flags through it.
type Standalone struct {
	Addr           string        // --addr: gateway and REST listen address
	Members        int           // --users (or --members): synthetic members
	Guilds         int           // --guilds
	Shards         int           // --shards: the count GET /gateway/bot recommends
	MaxConcurrency int           // --max-concurrency: session_start_limit.max_concurrency
	Seed           int64         // --seed: population seed
	Heartbeat      time.Duration // --heartbeat: HELLO's interval
	// EnforceMaxConcurrency refuses IDENTIFYs over max_concurrency with op 9
	// (--enforce-max-concurrency), as Discord does.
	EnforceMaxConcurrency bool
}

// Flags registers the settings on fs, with st's values as defaults.
func (st *Standalone) Flags(fs *flag.FlagSet) {
	fs.StringVar(&st.Addr, "addr", st.Addr, "gateway and REST listen address host:port")
	fs.IntVar(&st.Members, "users", st.Members, "synthetic members (guild 0 has them all, the others a share)")
	fs.IntVar(&st.Members, "members", st.Members, "the same as --users")
	fs.IntVar(&st.Guilds, "guilds", st.Guilds, "guilds")
	fs.IntVar(&st.Shards, "shards", st.Shards, "shard count GET /gateway/bot recommends")
	fs.IntVar(&st.MaxConcurrency, "max-concurrency", st.MaxConcurrency, "IDENTIFYs allowed per 5 s (session_start_limit.max_concurrency)")
	fs.BoolVar(&st.EnforceMaxConcurrency, "enforce-max-concurrency", st.EnforceMaxConcurrency,
		"answer op 9 to an IDENTIFY over max_concurrency, as Discord does (off: counted only)")
	fs.Int64Var(&st.Seed, "seed", st.Seed, "population seed")
	fs.DurationVar(&st.Heartbeat, "heartbeat", st.Heartbeat, "heartbeat interval sent in HELLO")
}

// Config is the simulator's configuration for st.
func (st Standalone) Config(log *slog.Logger) Config {
	return Config{Addr: st.Addr, Members: st.Members, Guilds: st.Guilds, Seed: st.Seed, HeartbeatInterval: st.Heartbeat,
		Shards: st.Shards, MaxConcurrency: st.MaxConcurrency, EnforceMaxConcurrency: st.EnforceMaxConcurrency, Logger: log}
}

// ChurnPerTick is how many members a churn tick changes: about half, so
// each changes every few ticks, bounded for very large populations.
func ChurnPerTick(members int) int { return min(max(1, members/2), 5000) }

// ReachableAddr is the simulator's address as another process on this
// machine dials it: an unspecified host (":4100", "0.0.0.0", "[::]")
// becomes 127.0.0.1.
func (s *Sim) ReachableAddr() string {
	host, port, err := net.SplitHostPort(s.base)
	if err != nil {
		return s.base
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
