package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/dialects/harmy"
	"github.com/halyardhq/halyard/dialects/lantern"
	"github.com/halyardhq/halyard/dialects/lanyard"
	"github.com/halyardhq/halyard/doctor"
	"github.com/halyardhq/halyard/history"
	"github.com/halyardhq/halyard/privacy"
	"github.com/halyardhq/halyard/storage"
)

// runDoctor is `halyard doctor [--json] [halyard's flags]`: it reads the
// configuration exactly as `halyard` does (config.toml, environment,
// flags), checks it against Discord, the database, NATS, EXTERNAL_URL and
// the clock, and prints each finding with its fix. It exits 0 only when
// no check failed, 1 otherwise, 2 on a bad command line.
func runDoctor(ctx context.Context, args []string, environ map[string]string, stdout, stderr io.Writer) int {
	args, asJSON, err := cutJSONFlag(args)
	if err != nil {
		fmt.Fprintf(stderr, "halyard doctor: %v\n", err)
		return 2
	}
	var report doctor.Report
	cfg, err := ParseConfig(args, environ, stderr)
	switch {
	case errors.Is(err, errUsage):
		return 2
	case err != nil:
		// A setting Halyard refuses stops it before it reaches anything,
		// so there is nothing further to check.
		report = doctor.Report{Findings: []doctor.Finding{{Check: "config", Status: doctor.Fail,
			Message: "Halyard refuses this configuration", Fix: oneLine(err)}}}
	default:
		report = doctor.Run(ctx, doctorConfig(cfg))
	}
	if asJSON {
		if err := report.WriteJSON(stdout); err != nil {
			fmt.Fprintf(stderr, "halyard doctor: %v\n", err)
			return 1
		}
	} else {
		report.WriteText(stdout)
	}
	if !report.OK {
		return 1
	}
	return 0
}

// doctorConfig is what doctor checks of Halyard's configuration.
func doctorConfig(cfg Config) doctor.Config {
	return doctor.Config{
		Demo:          cfg.Demo.Enabled,
		BotToken:      cfg.Discord.BotToken,
		APIURL:        cfg.Discord.APIURL,
		GuildIDs:      cfg.Discord.GuildIDs,
		ShardCount:    int(cfg.Discord.ShardCount),
		SlashCommands: slashCommandNames(),
		Storage:       storage.Config{URI: cfg.Storage.MongoURI, Database: cfg.Storage.MongoName, DataDir: cfg.Storage.DataDir},
		ExternalURL:   cfg.HTTP.ExternalURL,
	}
}

// slashCommandNames lists the slash commands the bot registers: those of
// every dialect and the privacy commands, as Run registers them. Commands only describes them, so
// dialects without options will do.
func slashCommandNames() []string {
	var all []core.Command
	all = append(all, new(lanyard.Dialect).Commands()...)
	all = append(all, new(lantern.Dialect).Commands()...)
	all = append(all, new(harmy.Dialect).Commands()...)
	all = append(all, new(privacy.Privacy).Commands()...)
	all = append(all, history.New(history.Options{}).Commands()...)
	var names []string
	for _, c := range all {
		if c.Slash && !slices.Contains(names, c.Name) {
			names = append(names, c.Name)
		}
	}
	return names
}

// cutJSONFlag takes doctor's own --json flag out of args, leaving
// halyard's flags to ParseConfig.
func cutJSONFlag(args []string) (rest []string, asJSON bool, err error) {
	for i, a := range args {
		if a == "--" {
			return append(rest, args[i:]...), asJSON, nil
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "json" {
			rest = append(rest, a)
			continue
		}
		asJSON = true
		if hasValue {
			if asJSON, err = strconv.ParseBool(value); err != nil {
				return nil, false, fmt.Errorf("--json=%s: not a boolean", value)
			}
		}
	}
	return rest, asJSON, nil
}
