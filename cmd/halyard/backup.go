package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/halyardhq/halyard/backup"
)

const backupUsage = `usage: halyard backup --url URL --out FILE

Saves a running node's KV, API token hashes, user records, opt-outs and
opt-in presence history, taken at one moment, to FILE (gzip-compressed JSON lines), through its admin API: URL is
the node's base URL, ADMIN_TOKEN its admin token. Tokens are stored hashed
with the node's token secret: keep TOKEN_SECRET (or DATA_DIR/token_secret)
with the backup, or the tokens cannot be restored. Restore with
"halyard restore".
`

// runBackup runs `halyard backup …`; args follow the word "backup".
func runBackup(ctx context.Context, args []string, environ map[string]string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("halyard backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, backupUsage) }
	base := fs.String("url", "", "the node's base URL, e.g. http://127.0.0.1:4001")
	out := fs.String("out", "", "the file to write")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 || *out == "" {
		fs.Usage()
		return 2
	}
	node, err := newAdminNode(*base, environ)
	if err != nil {
		fmt.Fprintf(stderr, "halyard backup: %s\n", oneLine(err))
		return 2
	}
	h, err := node.backup(ctx, *out)
	if err != nil {
		fmt.Fprintf(stderr, "halyard backup: %s\n", oneLine(err))
		return 1
	}
	c := h.Counts
	fmt.Fprintf(stdout, "backup of %s (Halyard %s, %s) written to %s: %d KV pairs of %d users, %d tokens, %d user records, %d opt-outs, history of %d users (%d intervals)\n",
		node.base, h.HalyardVersion, h.CreatedAt.Format("2006-01-02 15:04:05 UTC"), *out, c.KVPairs, c.KVUsers, c.Tokens, c.Users, c.OptOuts,
		c.HistoryUsers, c.History)
	return 0
}

// adminNode is a running node's admin API.
type adminNode struct {
	base  string // without a trailing slash
	token string
	http  *http.Client
}

// newAdminNode checks the URL and takes the admin token from ADMIN_TOKEN.
func newAdminNode(base string, environ map[string]string) (*adminNode, error) {
	if base == "" {
		return nil, errors.New("--url is required: the node's base URL, e.g. http://127.0.0.1:4001")
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--url %q is not an http(s) URL", base)
	}
	token := environ["ADMIN_TOKEN"]
	if token == "" {
		return nil, errors.New("ADMIN_TOKEN is not set: the node's admin token is required")
	}
	// No overall timeout: a large transfer takes as long as it takes; the
	// server drops a stalled one.
	return &adminNode{base: strings.TrimRight(base, "/"), token: token, http: &http.Client{}}, nil
}

// request sends an admin request and returns the response when it
// succeeded, or the admin API's error message.
func (n *adminNode) request(ctx context.Context, method, path string, body io.Reader, ctype string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, n.base+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+n.token)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := n.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the node: %v", err)
	}
	return resp, nil
}

// adminErrorOf reads a failed response's admin error message.
func adminErrorOf(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return adminErrorFrom(resp.StatusCode, b)
}

// adminErrorFrom is the error a failed admin response's body says.
func adminErrorFrom(status int, body []byte) error {
	var e struct {
		Error struct{ Message string }
	}
	if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
		return fmt.Errorf("the node answered %d: %s", status, e.Error.Message)
	}
	return fmt.Errorf("the node answered %d: %.200s", status, body)
}

// backup downloads a backup into path: into a temporary file beside it,
// checked by reading it through as it arrives (the gzip checksum, every
// line, the header's counts), then renamed, so path never holds a partial
// backup.
func (n *adminNode) backup(ctx context.Context, path string) (backup.Header, error) {
	resp, err := n.request(ctx, http.MethodGet, "/admin/v1/backup", nil, "")
	if err != nil {
		return backup.Header{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return backup.Header{}, adminErrorOf(resp)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".halyard-backup-*")
	if err != nil {
		return backup.Header{}, err
	}
	defer os.Remove(tmp.Name()) // after the rename, nothing is left to remove
	h, err := checkBackup(io.TeeReader(resp.Body, tmp))
	if err != nil {
		tmp.Close()
		return backup.Header{}, fmt.Errorf("the backup the node sent is incomplete, nothing written: %v", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return backup.Header{}, err
	}
	if err := tmp.Close(); err != nil {
		return backup.Header{}, err
	}
	return h, os.Rename(tmp.Name(), path)
}

// checkBackup reads a whole backup, checking it, and returns its header.
func checkBackup(r io.Reader) (backup.Header, error) {
	br, err := backup.NewReader(r, 0)
	if err != nil {
		return backup.Header{}, err
	}
	for {
		if _, err := br.Next(); err == io.EOF {
			return br.Header(), nil
		} else if err != nil {
			return backup.Header{}, err
		}
	}
}
