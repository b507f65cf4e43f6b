// Command halyard is a self-hosted Discord presence server that answers the
// Lanyard, Lantern and harmy APIs at once.
//
//	halyard --demo          # try it with a simulated Discord, no account needed
//	BOT_TOKEN=… halyard     # watch the guilds your bot is in
//	halyard import lanyard-redis --redis ADDR   # copy a Lanyard's KV and API keys
//	halyard doctor [--json]   # check the configuration against Discord, the database, …
//	halyard admin users --search NAME           # a running node's admin API
//	halyard backup --url URL --out FILE         # save a running node's KV, tokens, records
//	halyard restore --url URL FILE [--dry-run]  # put them back into a running node
//	halyard version         # which build this is
//	halyard healthcheck     # exit 0 when the local node's /readyz answers 200
//	halyard sim --addr HOST:PORT    # a simulated Discord several nodes share
//	halyard store --addr HOST:PORT --data-dir DIR   # the embedded store on TCP
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], environMap(), os.Stdout, os.Stderr))
}

// run is main without the process exit, so tests can call it.
func run(args []string, environ map[string]string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(args) > 0 {
		switch cmd, rest := args[0], args[1:]; cmd {
		case "admin":
			return runAdmin(ctx, rest, environ, os.Stdin, stdout, stderr)
		case "import":
			return runImport(ctx, rest, environ, stdout, stderr)
		case "doctor":
			return runDoctor(ctx, rest, environ, stdout, stderr)
		case "backup":
			return runBackup(ctx, rest, environ, stdout, stderr)
		case "restore":
			return runRestore(ctx, rest, environ, stdout, stderr)
		case "version", "--version", "-version":
			return runVersion(rest, stdout, stderr)
		case "healthcheck":
			return runHealthcheck(ctx, rest, environ, stdout, stderr)
		case "sim":
			return runSim(ctx, rest, environ, stdout, stderr)
		case "store":
			return runStore(ctx, rest, environ, stdout, stderr)
		}
	}

	m := NewMain()
	m.Stdout, m.Stderr = stdout, stderr
	if err := m.ParseFlags(args, environ); err != nil {
		if errors.Is(err, errUsage) {
			return 2
		}
		fmt.Fprintf(stderr, "halyard: %s\n", oneLine(err))
		return 2
	}
	if err := m.Run(ctx); err != nil {
		fmt.Fprintf(stderr, "halyard: %s\n", oneLine(err))
		closeWithin(m, 10*time.Second)
		return 1
	}
	<-ctx.Done()
	m.Logger.Info("shutting down")
	if err := closeWithin(m, 20*time.Second); err != nil {
		fmt.Fprintf(stderr, "halyard: shutdown: %s\n", oneLine(err))
		return 1
	}
	return 0
}

// closeWithin closes m, giving up after d.
func closeWithin(m *Main, d time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- m.Close() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		return errors.New("timed out")
	}
}
