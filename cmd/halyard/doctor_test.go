package main

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/halyardhq/halyard/discord/discordsim"
	"github.com/halyardhq/halyard/doctor"
)

// runDoctorCLI runs `halyard doctor` as main does, with only environ as
// the environment and an empty config file, and returns its exit status,
// its output and the report parsed from --json.
func runDoctorCLI(t *testing.T, environ map[string]string, asJSON bool) (int, string, doctor.Report) {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(conf, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"doctor", "--config", conf}
	if asJSON {
		args = append(args, "--json")
	}
	var stdout, stderr bytes.Buffer
	code := run(args, environ, &stdout, &stderr)
	var r doctor.Report
	if asJSON {
		if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
			t.Fatalf("doctor --json printed %q (stderr %q): %v", stdout.String(), stderr.String(), err)
		}
	}
	return code, stdout.String(), r
}

// checksWith lists the checks of r with status st, sorted.
func checksWith(r doctor.Report, st doctor.Status) []string {
	var out []string
	for _, f := range r.Findings {
		if f.Status == st {
			out = append(out, f.Check)
		}
	}
	slices.Sort(out)
	return out
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestDoctor runs `halyard doctor` on the configuration of a running node
// (the simulator standing in for Discord, the node's embedded database,
// its HTTP server as EXTERNAL_URL), first as it is, then with each
// failure injected in the simulator or the configuration.
func TestDoctor(t *testing.T) {
	dataDir := t.TempDir()
	m := startDemo(t, dataDir, 5)
	t.Cleanup(func() { m.Close() })
	sim := m.Sim
	eventually(t, "slash commands registered", func() bool { return string(sim.Commands()) != "[]" })
	registered := sim.Commands()
	guild := sim.GuildIDs()[0]
	const strangerGuild = "123456789012345678"
	base := map[string]string{
		"BOT_TOKEN": sim.Token(), "DISCORD_API_URL": sim.RESTURL(), "GUILD_IDS": guild,
		"DATA_DIR": dataDir, "EXTERNAL_URL": m.URL(),
	}
	intentChecks := map[string]uint64{
		"discord.intent.presence": discordsim.IntentGuildPresences,
		"discord.intent.members":  discordsim.IntentGuildMembers,
		"discord.intent.content":  discordsim.IntentMessageContent,
	}

	type tc struct {
		name   string
		env    map[string]string
		inject func() (undo func())
		fail   []string // checks that must fail, sorted
		warn   []string
		skip   []string
		// want checks a finding's message or fix.
		want map[string]string
	}
	tests := []tc{
		{name: "all pass", skip: []string{"nats"}, want: map[string]string{
			"database": "served by the running Halyard", "discord.token": "valid",
			"discord.commands": "registered", "discord.guild." + guild: "is in guild",
			"discord.shards": "SHARD_COUNT=1 for 1 guilds"}},
		{name: "SHARD_COUNT=auto", env: map[string]string{"SHARD_COUNT": "auto"}, skip: []string{"nats"},
			want: map[string]string{"discord.shards": "SHARD_COUNT=auto (1)"}},
		{name: "token refused", env: map[string]string{"BOT_TOKEN": "not-the-token"},
			fail: []string{"discord.token"},
			skip: []string{"discord.application", "discord.commands", "discord.guilds", "discord.shards", "nats"},
			want: map[string]string{"discord.token": "Reset Token"}},
		{name: "bot not in a GUILD_IDS guild", env: map[string]string{"GUILD_IDS": guild + "," + strangerGuild},
			fail: []string{"discord.guild." + strangerGuild}, skip: []string{"nats"},
			want: map[string]string{"discord.guild." + strangerGuild: "guild_id=" + strangerGuild}},
		{name: "no slash commands registered", inject: func() func() {
			sim.ClearCommands()
			return func() {
				req, _ := http.NewRequest("PUT", sim.RESTURL()+"/api/v10/applications/"+sim.ApplicationID()+"/commands", bytes.NewReader(registered))
				req.Header.Set("Authorization", "Bot "+sim.Token())
				resp, err := http.DefaultClient.Do(req)
				if err != nil || resp.StatusCode != 200 {
					t.Fatalf("re-registering commands: %v %v", resp, err)
				}
				resp.Body.Close()
			}
		}, fail: []string{"discord.commands"}, skip: []string{"nats"},
			want: map[string]string{"discord.commands": "/storage"}},
		{name: "clock skew", inject: func() func() {
			sim.SetClockSkew(-2 * time.Minute)
			return func() { sim.SetClockSkew(0) }
		}, fail: []string{"clock"}, skip: []string{"nats"}, want: map[string]string{"clock": "ahead of Discord's"}},
		{name: "database unreachable", env: map[string]string{"MONGODB_URI": "mongodb://" + closedPort(t) + "/"},
			fail: []string{"database"}, skip: []string{"nats"}, want: map[string]string{"database": "start MongoDB"}},
		{name: "embedded database, no node on it", env: map[string]string{"DATA_DIR": t.TempDir()},
			skip: []string{"nats"}, want: map[string]string{"database": "MONGODB_URI is empty"}},
		{name: "DATA_DIR too long for a socket", env: map[string]string{"DATA_DIR": filepath.Join(t.TempDir(), strings.Repeat("d", 100))},
			warn: []string{"database"}, skip: []string{"nats"}, want: map[string]string{"database": "shorter DATA_DIR"}},
		{name: "EXTERNAL_URL not answering", env: map[string]string{"EXTERNAL_URL": "http://" + closedPort(t)},
			warn: []string{"external_url"}, skip: []string{"nats"}},
		{name: "configuration refused", env: map[string]string{"TOKEN_SECRET": "short"},
			fail: []string{"config"}, want: map[string]string{"config": "TOKEN_SECRET"}},
	}
	for check, intent := range intentChecks {
		tests = append(tests, tc{name: check + " disabled", inject: func() func() {
			sim.SetAllowedIntents(discordsim.PrivilegedIntents &^ intent)
			return func() { sim.SetAllowedIntents(discordsim.PrivilegedIntents) }
		}, fail: []string{check}, skip: []string{"nats"}, want: map[string]string{check: "/developers/applications/" + sim.ApplicationID() + "/bot"}})
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := maps.Clone(base)
			maps.Copy(env, tt.env)
			if tt.inject != nil {
				undo := tt.inject()
				defer undo()
			}
			code, _, r := runDoctorCLI(t, env, true)
			wantCode := 0
			if len(tt.fail) > 0 {
				wantCode = 1
			}
			if code != wantCode || r.OK != (wantCode == 0) {
				t.Errorf("exit %d ok %v, want %d", code, r.OK, wantCode)
			}
			for st, want := range map[doctor.Status][]string{doctor.Fail: tt.fail, doctor.Warn: tt.warn, doctor.Skip: tt.skip} {
				if got := checksWith(r, st); !slices.Equal(got, want) {
					t.Errorf("%s: %v, want %v\n%+v", st, got, want, r.Findings)
				}
			}
			for _, f := range r.Findings {
				if f.Status != doctor.Pass && f.Status != doctor.Skip && f.Fix == "" {
					t.Errorf("%s %s without a fix: %s", f.Check, f.Status, f.Message)
				}
			}
			for check, sub := range tt.want {
				f, ok := r.Find(check)
				if !ok || !strings.Contains(f.Message+" "+f.Fix, sub) {
					t.Errorf("%s: %+v, want %q in its message or fix", check, f, sub)
				}
			}

			// The human output says the same: each failure on a FAIL
			// line with its fix, and the same exit status.
			textCode, text, _ := runDoctorCLI(t, env, false)
			if textCode != code {
				t.Errorf("text output exited %d, --json %d", textCode, code)
			}
			for _, check := range tt.fail {
				if !strings.Contains(text, "FAIL  "+check) {
					t.Errorf("no FAIL line for %s in:\n%s", check, text)
				}
			}
			if len(tt.fail) > 0 && !strings.Contains(text, "fix: ") {
				t.Errorf("no fix in:\n%s", text)
			}
		})
	}
	if code, body := (client{t, m.URL()}).do("GET", "/readyz", "", nil); code != 200 {
		t.Errorf("the node is not ready after the doctor runs: %d %s", code, body)
	}
}

// doctor --json=false is the human output; a bad --json value is a usage
// error.
func TestDoctorJSONFlag(t *testing.T) {
	for _, tt := range []struct {
		args []string
		json bool
		err  bool
	}{
		{[]string{"--json"}, true, false},
		{[]string{"-json", "--data-dir", "d"}, true, false},
		{[]string{"--json=false", "--demo"}, false, false},
		{[]string{"--json=maybe"}, false, true},
		{[]string{"--demo"}, false, false},
	} {
		rest, asJSON, err := cutJSONFlag(tt.args)
		if asJSON != tt.json || (err != nil) != tt.err || slices.Contains(rest, "--json") || slices.Contains(rest, "-json") {
			t.Errorf("%v: rest %v json %v err %v", tt.args, rest, asJSON, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	if code := runDoctor(ctx, []string{"--json=maybe"}, nil, &out, &errOut); code != 2 {
		t.Errorf("--json=maybe exited %d", code)
	}
}
