package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/halyardhq/halyard/backup"
	"github.com/halyardhq/halyard/migrate/report"
)

const restoreUsage = `usage: halyard restore --url URL FILE [--dry-run] [--skip-tokens]

Restores a backup made by "halyard backup" into a running node, through its
admin API (URL, ADMIN_TOKEN): each user's KV map, API token and record,
the opt-outs, and the presence history of the users who turned it on. The
node serves them at once, no restart. Users absent from the backup are left
as they are; restoring the same backup again changes nothing. The file is
checked whole before anything is sent: a truncated or corrupted one is
refused. --dry-run reports what would change and writes nothing.
Token hashes only verify on a node with the backed-up node's token secret;
--skip-tokens restores everything else.
`

// restoreBatchBytes is roughly how much of a backup (uncompressed) one
// restore request carries: whole users, so one user's KV map may make a
// request bigger. Small requests keep each one short and bounded, and the
// progress bar moving.
const restoreBatchBytes = 4 << 20

// restoreBatchItems bounds the items of one request.
const restoreBatchItems = 5000

// runRestore runs `halyard restore …`; args follow the word "restore".
func runRestore(ctx context.Context, args []string, environ map[string]string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("halyard restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, restoreUsage) }
	base := fs.String("url", "", "the node's base URL, e.g. http://127.0.0.1:4001")
	dryRun := fs.Bool("dry-run", false, "report what would change, write nothing")
	skipTokens := fs.Bool("skip-tokens", false, "leave API tokens as they are")
	var files []string
	for { // flags may follow the file
		if err := fs.Parse(args); err != nil {
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(files) != 1 {
		fs.Usage()
		return 2
	}
	node, err := newAdminNode(*base, environ)
	if err != nil {
		fmt.Fprintf(stderr, "halyard restore: %s\n", oneLine(err))
		return 2
	}
	opts := restoreOptions{path: files[0], dryRun: *dryRun, skipTokens: *skipTokens,
		progress: report.NewFor(stderr, "backup items")}
	h, sum, err := node.restore(ctx, opts)
	if h.Format != 0 {
		fmt.Fprintln(stdout, describeRestore(files[0], h, sum, err != nil))
	}
	if err != nil {
		fmt.Fprintf(stderr, "halyard restore: %s\n", oneLine(err))
		return 1
	}
	return 0
}

// restoreOptions is what one restore does.
type restoreOptions struct {
	path               string
	dryRun, skipTokens bool
	progress           report.Progress
}

// restore checks the whole file, then sends it in requests of whole users.
// It returns the header and what the node did, even after a failure.
func (n *adminNode) restore(ctx context.Context, o restoreOptions) (backup.Header, backup.Summary, error) {
	sum := backup.Summary{DryRun: o.dryRun}
	h, err := checkBackupFile(o.path)
	if err != nil {
		return backup.Header{}, sum, fmt.Errorf("%s: %v; nothing was restored", o.path, err)
	}
	f, err := os.Open(o.path)
	if err != nil {
		return h, sum, err
	}
	defer f.Close()
	r, err := backup.NewReader(f, 0)
	if err != nil {
		return h, sum, err
	}
	o.progress.Start(h.Counts.Items())
	defer o.progress.Finish()
	query := "?dry_run=" + fmt.Sprint(o.dryRun) + "&skip_tokens=" + fmt.Sprint(o.skipTokens)
	var batch []backup.Item
	size := 0
	send := func() error {
		if len(batch) == 0 {
			return nil
		}
		part, err := n.restoreBatch(ctx, h, batch, query)
		sum.Add(part)
		if err != nil {
			return err
		}
		o.progress.Add(len(batch))
		batch, size = batch[:0], 0
		return nil
	}
	for {
		it, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil { // the file changed since it was checked
			return h, sum, fmt.Errorf("%s: %v", o.path, err)
		}
		batch = append(batch, it)
		size += itemSize(it)
		if size >= restoreBatchBytes || len(batch) >= restoreBatchItems {
			if err := send(); err != nil {
				return h, sum, err
			}
		}
	}
	return h, sum, send()
}

// restoreBatch sends items as one request: a backup of their own, with
// the file's header and their counts, streamed as it is encoded.
func (n *adminNode) restoreBatch(ctx context.Context, h backup.Header, items []backup.Item, query string) (backup.Summary, error) {
	part := h
	part.Counts = backup.Counts{}
	for _, it := range items {
		switch it.Kind {
		case backup.KindKV:
			part.Counts.KVUsers++
			part.Counts.KVPairs += it.KV.KV.Len()
		case backup.KindToken:
			part.Counts.Tokens++
		case backup.KindUser:
			part.Counts.Users++
		case backup.KindOptOut:
			part.Counts.OptOuts++
		case backup.KindHistoryUser:
			part.Counts.HistoryUsers++
		case backup.KindInterval:
			part.Counts.History++
		}
	}
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(encodeItems(pw, part, items))
	}()
	resp, err := n.request(ctx, http.MethodPost, "/admin/v1/restore"+query, pr, "application/gzip")
	pr.CloseWithError(errors.New("request ended")) // stops the encoder if the request failed early
	if err != nil {
		return backup.Summary{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		var failed struct {
			Restored backup.Summary `json:"restored"`
		}
		_ = json.Unmarshal(b, &failed) // absent when nothing was applied
		return failed.Restored, adminErrorFrom(resp.StatusCode, b)
	}
	var body backup.Summary
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return backup.Summary{}, fmt.Errorf("reading the node's answer: %v", err)
	}
	return body, nil
}

// encodeItems writes items as a backup with header h.
func encodeItems(w io.Writer, h backup.Header, items []backup.Item) error {
	bw, err := backup.NewWriter(w, h)
	if err != nil {
		return err
	}
	for _, it := range items {
		if err := bw.Item(it); err != nil {
			return err
		}
	}
	return bw.Close()
}

// itemSize estimates an item's encoded size, for batching.
func itemSize(it backup.Item) int {
	switch it.Kind {
	case backup.KindKV:
		n := 0
		for k, v := range it.KV.KV.All() {
			n += len(k) + len(v) + 64
		}
		return n
	case backup.KindToken:
		return 120
	case backup.KindOptOut, backup.KindHistoryUser:
		return 100
	case backup.KindInterval:
		return 160 + len(it.Interval.Activity.Name)
	}
	return 200 + len(it.User.Username) + len(it.User.GitHubLogin)
}

// checkBackupFile reads a whole backup file, checking it.
func checkBackupFile(path string) (backup.Header, error) {
	f, err := os.Open(path)
	if err != nil {
		return backup.Header{}, err
	}
	defer f.Close()
	return checkBackup(f)
}

// describeRestore is the restore's summary for the operator; stopped
// says an error ended it early, so the counts are what was done before
// (running it again is safe).
func describeRestore(path string, h backup.Header, s backup.Summary, stopped bool) string {
	verb := "restored"
	switch {
	case s.DryRun && stopped:
		verb = "dry run, nothing written; stopped early, would restore at least"
	case s.DryRun:
		verb = "dry run, nothing written; would restore"
	case stopped:
		verb = "stopped early (run it again to finish); restored so far"
	}
	tokens := fmt.Sprintf("tokens: %d changed, %d unchanged", s.Tokens.Changed, s.Tokens.Unchanged)
	if s.Tokens.Skipped > 0 {
		tokens += fmt.Sprintf(", %d skipped", s.Tokens.Skipped)
	}
	history := fmt.Sprintf("history: %d users turned on, %d already on; %d intervals added, %d unchanged",
		s.HistoryUsers.Changed, s.HistoryUsers.Unchanged, s.History.Changed, s.History.Unchanged)
	if s.History.Skipped > 0 {
		history += fmt.Sprintf(", %d skipped (older than the retention)", s.History.Skipped)
	}
	return fmt.Sprintf("%s %s (backup of %s, Halyard %s): KV: %d users changed, %d unchanged (%d pairs); %s; user records: %d changed, %d unchanged; opt-outs: %d changed, %d unchanged; %s",
		verb, path, h.CreatedAt.Format("2006-01-02 15:04:05 UTC"), h.HalyardVersion,
		s.KV.Changed, s.KV.Unchanged, s.KVPairs, tokens, s.Users.Changed, s.Users.Unchanged, s.OptOuts.Changed, s.OptOuts.Unchanged, history)
}
