// Package doctor checks a Halyard configuration against the outside
// world — Discord, the database, NATS, the public URL, the clock — and
// says, for each finding, how to fix it. `halyard doctor` runs it on the
// configuration `halyard` itself would read.
package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/halyardhq/halyard/storage"
)

// Status is how a check came out.
type Status string

// The statuses. Only Fail makes a report fail: Warn is something to look
// at that does not stop Halyard working (the public URL while no node
// runs), Skip a check that could not or need not run (NATS not
// configured, Discord checks after the token was refused).
const (
	Pass Status = "pass"
	Warn Status = "warn"
	Fail Status = "fail"
	Skip Status = "skip"
)

// Finding is the outcome of one check.
type Finding struct {
	// Check names what was checked, e.g. "discord.token".
	Check  string `json:"check"`
	Status Status `json:"status"`
	// Message says what was found.
	Message string `json:"message"`
	// Fix says what to do about it; empty when there is nothing to do.
	Fix string `json:"fix,omitempty"`
}

// Report is every finding, in the order the checks ran.
type Report struct {
	// OK is true when no finding failed.
	OK       bool      `json:"ok"`
	Findings []Finding `json:"findings"`
}

// Defaults for Config's zero values.
const (
	// DefaultMaxClockSkew is the largest difference between the local
	// clock and Discord's that passes.
	DefaultMaxClockSkew = 30 * time.Second
	// DefaultRequestTimeout bounds each request to Discord.
	DefaultRequestTimeout = 10 * time.Second
	// DefaultProbeTimeout bounds the EXTERNAL_URL and NATS probes: both
	// are expected on a nearby network.
	DefaultProbeTimeout = 3 * time.Second
	// DefaultConnectTimeout bounds the first contact with the database.
	DefaultConnectTimeout = 5 * time.Second
)

// Config is what to check: the settings of Halyard's configuration that
// reach outside the process.
type Config struct {
	// Demo is --demo: Discord is the built-in simulator, so the Discord
	// checks have nothing to check.
	Demo bool
	// BotToken is BOT_TOKEN (a leading "Bot " is allowed).
	BotToken string
	// APIURL is Discord's REST base (DISCORD_API_URL), e.g.
	// https://discord.com; requests go to APIURL/api/v10/….
	APIURL string
	// GuildIDs is GUILD_IDS: the bot must be in each.
	GuildIDs []string
	// ShardCount is SHARD_COUNT (AutoShards for auto; 0 means 1).
	ShardCount int
	// SlashCommands are the names of the global slash commands Halyard
	// registers; each must be registered.
	SlashCommands []string
	// Storage is the database Halyard opens (MONGODB_URI, MONGODB_NAME,
	// DATA_DIR). With no URI, the embedded database of a running node is
	// reached through its socket, else started on DataDir for the check.
	Storage storage.Config
	// NATSURL is where the cluster's NATS is; empty when the node runs
	// alone. Halyard has no NATS_URL setting yet (the cluster is a later
	// issue): this is the hook it will set.
	NATSURL string
	// ExternalURL is EXTERNAL_URL; /healthz is asked there.
	ExternalURL string
	// MaxClockSkew: default DefaultMaxClockSkew.
	MaxClockSkew time.Duration
	// RequestTimeout: default DefaultRequestTimeout.
	RequestTimeout time.Duration
	// ProbeTimeout: default DefaultProbeTimeout.
	ProbeTimeout time.Duration
}

func (c Config) withDefaults() Config {
	if c.MaxClockSkew <= 0 {
		c.MaxClockSkew = DefaultMaxClockSkew
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.ProbeTimeout <= 0 {
		c.ProbeTimeout = DefaultProbeTimeout
	}
	if c.Storage.ConnectTimeout <= 0 {
		c.Storage.ConnectTimeout = DefaultConnectTimeout
	}
	c.BotToken = strings.TrimPrefix(strings.TrimSpace(c.BotToken), "Bot ")
	c.APIURL = strings.TrimRight(c.APIURL, "/")
	c.ExternalURL = strings.TrimRight(c.ExternalURL, "/")
	return c
}

// Run runs every check and returns the findings: Discord (token,
// intents, guilds, commands, clock), the database, NATS, EXTERNAL_URL.
func Run(ctx context.Context, cfg Config) Report {
	cfg = cfg.withDefaults()
	var r Report
	add := func(fs ...Finding) { r.Findings = append(r.Findings, fs...) }
	add(checkDiscord(ctx, cfg)...)
	add(checkStorage(ctx, cfg))
	add(checkNATS(ctx, cfg))
	add(checkExternalURL(ctx, cfg))
	r.OK = true
	for _, f := range r.Findings {
		if f.Status == Fail {
			r.OK = false
		}
	}
	return r
}

// Failed returns the findings that failed.
func (r Report) Failed() []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Status == Fail {
			out = append(out, f)
		}
	}
	return out
}

// Find returns the first finding of a check, and whether there is one.
func (r Report) Find(check string) (Finding, bool) {
	for _, f := range r.Findings {
		if f.Check == check {
			return f, true
		}
	}
	return Finding{}, false
}

// WriteJSON writes the report as one indented JSON document.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report for a person: one line per finding, its
// fix below it, and a summary.
func (r Report) WriteText(w io.Writer) {
	width := 0
	for _, f := range r.Findings {
		width = max(width, len(f.Check))
	}
	counts := map[Status]int{}
	for _, f := range r.Findings {
		counts[f.Status]++
		fmt.Fprintf(w, "%-4s  %-*s  %s\n", strings.ToUpper(string(f.Status)), width, f.Check, f.Message)
		if f.Fix != "" {
			fmt.Fprintf(w, "      %-*s  fix: %s\n", width, "", f.Fix)
		}
	}
	verdict := "all checks passed"
	if !r.OK {
		verdict = "Halyard will not work as configured until the failures above are fixed"
	}
	fmt.Fprintf(w, "\n%d passed, %d failed, %d warned, %d skipped: %s\n",
		counts[Pass], counts[Fail], counts[Warn], counts[Skip], verdict)
}

// probeClient is an HTTP client bounded by d.
func probeClient(d time.Duration) *http.Client {
	return &http.Client{Timeout: d}
}
