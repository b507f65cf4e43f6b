package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/halyardhq/halyard/server"
)

const adminUsage = `usage: halyard admin [--url URL] [--token TOKEN] [--json] COMMAND

Talks to a running node's admin API (/admin/v1, served when the node has
ADMIN_TOKEN set).

Commands:
  users [--search TEXT] [--limit N] [--after ID] [--all]
                        monitored users (id, username, status); --search
                        matches the id, username or display name
  user ID               what the node holds about a user: presence status,
                        KV keys, token or not, monitoring since, last seen,
                        GitHub link
  token issue ID        issue a new API token (revoking any previous one)
  token revoke ID       revoke the user's API token
  purge ID [--yes]      delete the user's KV, token and record, from the
                        database and the node's memory; asks for the id
                        unless --yes. A member of a watched guild stays
                        monitored, with an empty KV and a fresh record.
  stats                 the node's counters and version

Options (before or after the command):
  --url URL      the node (default $HALYARD_URL, else http://127.0.0.1:4001)
  --token TOKEN  the admin token (default $ADMIN_TOKEN)
  --json         print the API's JSON instead of tables
  --timeout D    give up on a call after D (default 30s)

Exit status: 0 done, 1 other error or purge not confirmed, 2 usage or no
admin token, 3 node unreachable, 4 admin token refused (401), 5 user or
route not found (404).
`

// adminOptions are `halyard admin`'s global options.
type adminOptions struct {
	url, token string
	json       bool
	timeout    time.Duration
}

// bind adds the global options to fs, so they may follow the command too.
func (o *adminOptions) bind(fs *flag.FlagSet) {
	fs.StringVar(&o.url, "url", o.url, "the node's base URL")
	fs.StringVar(&o.token, "token", o.token, "the admin token")
	fs.BoolVar(&o.json, "json", o.json, "print JSON")
	fs.DurationVar(&o.timeout, "timeout", o.timeout, "per-call timeout")
}

// adminCmd is one run of a command: its client, options and output.
type adminCmd struct {
	ctx    context.Context
	c      *adminClient
	opts   adminOptions
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// runAdmin runs `halyard admin …`; args follow the word "admin".
func runAdmin(ctx context.Context, args []string, environ map[string]string, stdin io.Reader, stdout, stderr io.Writer) int {
	opts := adminOptions{url: environ["HALYARD_URL"], token: environ["ADMIN_TOKEN"], timeout: 30 * time.Second}
	if opts.url == "" {
		opts.url = "http://127.0.0.1:4001"
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "halyard admin: "+format+"\n", a...)
		fmt.Fprint(stderr, "run `halyard admin --help` for usage\n")
		return adminExitUsage
	}
	global := flag.NewFlagSet("halyard admin", flag.ContinueOnError)
	global.SetOutput(io.Discard)
	opts.bind(global)
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, adminUsage)
			return adminExitOK
		}
		return usageErr("%v", err)
	}
	rest := global.Args()
	if len(rest) == 0 {
		fmt.Fprint(stderr, adminUsage)
		return adminExitUsage
	}
	name, rest := rest[0], rest[1:]
	if name == "token" {
		if len(rest) == 0 || (rest[0] != "issue" && rest[0] != "revoke") {
			return usageErr("token needs issue or revoke: halyard admin token issue|revoke ID")
		}
		name, rest = "token "+rest[0], rest[1:]
	}

	fs := flag.NewFlagSet("halyard admin "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	opts.bind(fs)
	search := fs.String("search", "", "")
	limit := fs.Int("limit", 100, "")
	after := fs.String("after", "", "")
	all := fs.Bool("all", false, "")
	yes := fs.Bool("yes", false, "")
	pos, err := parseInterspersed(fs, rest)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, adminUsage)
			return adminExitOK
		}
		return usageErr("%s: %v", name, err)
	}
	// Flags that belong to another command are mistakes worth naming.
	allowed := map[string][]string{"users": {"search", "limit", "after", "all"}, "purge": {"yes"}}
	var misplaced error
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "url", "token", "json", "timeout":
			return
		}
		for _, a := range allowed[name] {
			if a == f.Name {
				return
			}
		}
		misplaced = fmt.Errorf("%s does not take --%s", name, f.Name)
	})
	if misplaced != nil {
		return usageErr("%v", misplaced)
	}

	wantArgs := map[string]int{"users": 0, "stats": 0, "user": 1, "token issue": 1, "token revoke": 1, "purge": 1}
	n, known := wantArgs[name]
	switch {
	case !known:
		return usageErr("unknown command %q", name)
	case len(pos) != n && n == 0:
		return usageErr("%s takes no argument, got %q", name, strings.Join(pos, " "))
	case len(pos) != n:
		return usageErr("%s needs one user id", name)
	case n == 1 && !server.IsSnowflake(pos[0]):
		return usageErr("%q is not a Discord user id", pos[0])
	}
	if opts.token == "" {
		return usageErr("no admin token: set ADMIN_TOKEN or pass --token (the node's ADMIN_TOKEN)")
	}
	if _, err := url.ParseRequestURI(opts.url); err != nil || !strings.HasPrefix(opts.url, "http") {
		return usageErr("--url %q is not an http(s) URL", opts.url)
	}

	cmd := &adminCmd{ctx: ctx, c: newAdminClient(opts.url, opts.token, opts.timeout), opts: opts,
		stdin: stdin, stdout: stdout, stderr: stderr}
	switch name {
	case "users":
		if *limit < 1 || *limit > 1000 {
			return usageErr("--limit must be from 1 to 1000")
		}
		err = cmd.users(*search, *limit, *after, *all)
	case "user":
		err = cmd.user(pos[0])
	case "token issue":
		err = cmd.tokenIssue(pos[0])
	case "token revoke":
		err = cmd.tokenRevoke(pos[0])
	case "purge":
		err = cmd.purge(pos[0], *yes)
	case "stats":
		err = cmd.stats()
	}
	if err != nil {
		fmt.Fprintf(stderr, "halyard admin %s: %s\n", name, oneLine(err))
		return adminExitCode(err)
	}
	return adminExitOK
}

// parseInterspersed parses flags wherever they stand among the positional
// arguments (the flag package stops at the first one), so that
// `purge ID --yes` works as `purge --yes ID` does.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// confirm asks on stderr for the user id and reads it from stdin.
func (a *adminCmd) confirm(id string) bool {
	fmt.Fprintf(a.stderr, "This deletes the KV, token and record of %s for good. Type the user id to confirm: ", id)
	line, _ := bufio.NewReader(a.stdin).ReadString('\n')
	return strings.TrimSpace(line) == id
}
