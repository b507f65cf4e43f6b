package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/backup"
	"github.com/halyardhq/halyard/core"
)

// The backup routes stream: a backup is written as it is encoded, and a
// restore body is read and applied a user at a time, so neither side ever
// holds a whole file. `halyard restore` sends a file as a run of requests,
// each a small backup of its own (whole users, a few MiB).
const (
	backupPath  = "/admin/v1/backup"
	restorePath = "/admin/v1/restore"

	// maxRestoreBody caps one restore request's (compressed) body. One
	// request must fit one user's largest KV map, which the KV rules
	// bound at 512 pairs of up to 120 000 bytes (61 MB), incompressible
	// at worst.
	maxRestoreBody = 256 << 20
	// maxRestoreDecompressed caps its decompressed size (a highly
	// compressible body must not make the server work through more): the
	// largest map JSON-escaped, with room to spare.
	maxRestoreDecompressed = 1 << 30

	// transferStall is how long a backup or restore transfer may make no
	// progress before the connection is dropped; it replaces the server's
	// whole-request timeouts, which a large transfer would outlast.
	transferStall = 2 * time.Minute

	// recordBatch is how many user records a restore merges and writes at
	// once.
	recordBatch = 1000
)

// largeBodyRoutes are the routes whose bodies may exceed the server-wide
// core.MaxRequestBodySize, with their own caps (capBody reads it; never
// written after start).
var largeBodyRoutes = map[string]int64{restorePath: maxRestoreBody}

// HistoryBackup is the presence history's side of backups
// (history.Recorder implements it).
type HistoryBackup interface {
	// BackupHistory returns the users who turned history on and their
	// intervals (closed; those open now closed now), by user then start.
	BackupHistory(ctx context.Context) ([]string, []core.HistoryInterval, error)
	// RestoreUser turns history on for the user unless it is on, and
	// reports whether it changed anything; a dry run writes nothing.
	RestoreUser(ctx context.Context, userID string, dryRun bool) (bool, error)
	// RestoreHistory durably adds the intervals the node does not hold
	// (by user, status or activity, and start) and counts them: added,
	// already held, skipped as older than the retention.
	RestoreHistory(ctx context.Context, ivs []core.HistoryInterval, dryRun bool) (added, held, skipped int, err error)
}

// historyBatch is how many history intervals a restore checks and
// writes at once.
const historyBatch = 1000

// registerBackup adds the backup and restore routes to the admin group.
func (s *Server) registerBackup(g *echo.Group) {
	g.GET("/backup", s.adminBackup)
	g.POST("/restore", s.adminRestore)
}

// adminBackup streams every KV map, token hash, user record, opt-out and
// the presence history, taken at one moment, as a backup file.
func (s *Server) adminBackup(c echo.Context) error {
	if !s.opts.Tokens.Available() {
		return JSON(c, http.StatusServiceUnavailable, adminError(http.StatusServiceUnavailable,
			"the database has not been loaded since start: a backup now would miss its data, try again later"))
	}
	kvs, recs := s.opts.Hub.Snapshot()
	toks := s.opts.Tokens.HashSnapshot()
	opts := s.opts.Hub.OptOuts()
	slices.SortFunc(opts, func(a, b core.OptOut) int { return strings.Compare(a.UserID, b.UserID) })
	counts := backup.Counts{KVUsers: len(kvs), Tokens: len(toks), Users: len(recs), OptOuts: len(opts)}
	for _, u := range kvs {
		counts.KVPairs += u.KV.Len()
	}
	var hist historySnapshot
	if s.opts.History != nil {
		var err error
		if hist.users, hist.intervals, err = s.opts.History.BackupHistory(c.Request().Context()); err != nil {
			status := http.StatusServiceUnavailable
			return JSON(c, status, adminError(status, "the presence history cannot be read now, so a backup would miss it: "+core.ErrorMessage(err)))
		}
		counts.HistoryUsers, counts.History = len(hist.users), len(hist.intervals)
	}
	now := time.Now().UTC()
	h := backup.NewHeader(buildVersion(), now, s.opts.Tokens.KeyCheck(), counts)

	res := c.Response()
	res.Header().Set(echo.HeaderContentType, "application/gzip")
	res.Header().Set(echo.HeaderContentDisposition,
		`attachment; filename="halyard-backup-`+now.Format("20060102T150405Z")+`.jsonl.gz"`)
	res.Header().Set("X-Content-Type-Options", "nosniff")
	res.WriteHeader(http.StatusOK)

	out := &stallWriter{w: res, rc: http.NewResponseController(res)}
	err := writeBackup(out, h, kvs, toks, recs, opts, hist)
	if err != nil {
		// The status is sent: the client sees a stream that ends early,
		// which its reader refuses (gzip trailer, counts).
		s.log.Warn("backup stream ended early", "err", err)
	}
	return nil
}

// historySnapshot is the presence history a backup holds.
type historySnapshot struct {
	users     []string
	intervals []core.HistoryInterval
}

// writeBackup writes a whole backup on w.
func writeBackup(w io.Writer, h backup.Header, kvs []core.UserKV, toks []core.TokenHash, recs []core.UserRecord, opts []core.OptOut, hist historySnapshot) error {
	bw, err := backup.NewWriter(w, h)
	if err != nil {
		return err
	}
	for _, u := range kvs {
		if err := bw.KV(u); err != nil {
			return err
		}
	}
	for _, t := range toks {
		if err := bw.Token(t); err != nil {
			return err
		}
	}
	for _, r := range recs {
		if err := bw.User(r); err != nil {
			return err
		}
	}
	for _, o := range opts {
		if err := bw.OptOut(o); err != nil {
			return err
		}
	}
	for _, id := range hist.users {
		if err := bw.HistoryUser(id); err != nil {
			return err
		}
	}
	for _, iv := range hist.intervals {
		if err := bw.Interval(iv); err != nil {
			return err
		}
	}
	return bw.Close()
}

// adminRestore applies a backup (or a part of one) to the running node:
// each user's KV map, token hash, record, opt-out and presence history,
// one at a time (history intervals and records in batches), each change
// durable before the next and served at once. Applying the same
// backup again changes nothing. ?dry_run=true reports what would change
// and writes nothing; ?skip_tokens=true leaves tokens as they are.
func (s *Server) adminRestore(c echo.Context) error {
	dryRun, err1 := boolParam(c, "dry_run")
	skipTokens, err2 := boolParam(c, "skip_tokens")
	if err := errors.Join(err1, err2); err != nil {
		return JSON(c, http.StatusBadRequest, adminError(http.StatusBadRequest, err.Error()))
	}
	if !s.opts.Tokens.Available() {
		return JSON(c, http.StatusServiceUnavailable, adminError(http.StatusServiceUnavailable,
			"the database has not been loaded since start: try again later"))
	}
	rc := http.NewResponseController(c.Response())
	body := &stallReader{r: c.Request().Body, rc: rc}
	r, err := backup.NewReader(body, maxRestoreDecompressed)
	if err != nil {
		return s.restoreFailure(c, err, backup.Summary{DryRun: dryRun})
	}
	h := r.Header()
	if h.Counts.Tokens > 0 && !skipTokens && h.TokenKeyCheck != s.opts.Tokens.KeyCheck() {
		return JSON(c, http.StatusConflict, adminError(http.StatusConflict,
			"the backup's token hashes were made with another token secret, so none of them would verify here: "+
				"start this node with the backed-up node's TOKEN_SECRET (or its DATA_DIR/token_secret file), "+
				"or restore with skip_tokens=true and issue new tokens"))
	}
	if (h.Counts.History > 0 || h.Counts.HistoryUsers > 0) && s.opts.History == nil {
		return JSON(c, http.StatusServiceUnavailable, adminError(http.StatusServiceUnavailable,
			"the backup holds presence history, which is unavailable on this node (its database was not reachable at start): try again later"))
	}
	sum, err := s.applyRestore(c.Request().Context(), r, dryRun, skipTokens)
	if err != nil {
		return s.restoreFailure(c, err, sum)
	}
	return JSON(c, http.StatusOK, sum)
}

// applyRestore applies every item r yields; on a failure it returns what
// was applied before it.
func (s *Server) applyRestore(ctx context.Context, r *backup.Reader, dryRun, skipTokens bool) (backup.Summary, error) {
	sum := backup.Summary{DryRun: dryRun}
	var recs []core.UserRecord
	var ivs []core.HistoryInterval
	flushIntervals := func() error {
		if len(ivs) == 0 {
			return nil
		}
		added, held, skipped, err := s.opts.History.RestoreHistory(ctx, ivs, dryRun)
		sum.History.Changed += added
		sum.History.Unchanged += held
		sum.History.Skipped += skipped
		ivs = ivs[:0]
		return err
	}
	flush := func() error {
		if len(recs) == 0 {
			return flushIntervals()
		}
		n, err := s.opts.Hub.RestoreRecords(ctx, recs, dryRun)
		sum.Users.Changed += n
		if err == nil {
			sum.Users.Unchanged += len(recs) - n
		}
		recs = recs[:0]
		return errors.Join(err, flushIntervals())
	}
	for {
		it, err := r.Next()
		if err == io.EOF {
			return sum, flush()
		}
		if err != nil {
			return sum, errors.Join(err, flush())
		}
		switch it.Kind {
		case backup.KindKV:
			changed, err := s.opts.Hub.RestoreKV(ctx, it.KV.UserID, it.KV.KV, dryRun)
			if err != nil {
				return sum, err
			}
			sum.KV.Count(changed)
			sum.KVPairs += it.KV.KV.Len()
		case backup.KindToken:
			if skipTokens {
				sum.Tokens.Skipped++
				continue
			}
			changed, err := s.opts.Tokens.RestoreHash(ctx, it.Token.UserID, it.Token.Hash, dryRun)
			if err != nil {
				return sum, err
			}
			sum.Tokens.Count(changed)
		case backup.KindOptOut:
			changed, err := s.opts.Hub.RestoreOptOut(ctx, it.OptOut.UserID, it.OptOut.Since, dryRun)
			if err != nil {
				return sum, err
			}
			sum.OptOuts.Count(changed)
		case backup.KindHistoryUser:
			changed, err := s.opts.History.RestoreUser(ctx, it.HistoryUser, dryRun)
			if err != nil {
				return sum, err
			}
			sum.HistoryUsers.Count(changed)
		case backup.KindInterval:
			ivs = append(ivs, it.Interval)
			if len(ivs) == historyBatch {
				if err := flushIntervals(); err != nil {
					return sum, err
				}
			}
		case backup.KindUser:
			recs = append(recs, it.User)
			if len(recs) == recordBatch {
				if err := flush(); err != nil {
					return sum, err
				}
			}
		}
	}
}

// restoreFailure answers a failed restore: 400 for a bad file, 413 for a
// body over the cap, the domain error's status otherwise; the body says
// what was applied before the failure, so the operator knows where it
// stopped (applying the file again is safe).
func (s *Server) restoreFailure(c echo.Context, err error, sum backup.Summary) error {
	if IsTooLarge(err) {
		return TooLarge(c)
	}
	var fe *backup.FormatError
	status, msg := http.StatusBadRequest, ""
	switch {
	case errors.As(err, &fe):
		msg = "bad backup: " + fe.Error()
	case core.ErrorCode(err) == core.EINVALID || core.ErrorCode(err) == core.ETOOLARGE:
		msg = "bad backup: " + core.ErrorMessage(err)
	case core.ErrorCode(err) == core.EUNAVAILABLE:
		status, msg = http.StatusServiceUnavailable, core.ErrorMessage(err)
	default:
		s.log.Error("restore failed", "err", err)
		status, msg = http.StatusInternalServerError, "internal error"
	}
	body := adminError(status, msg)
	body["restored"] = sum
	return JSON(c, status, body)
}

// boolParam reads an optional true/false query parameter.
func boolParam(c echo.Context, name string) (bool, error) {
	switch c.QueryParam(name) {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, errors.New(name + " must be true or false")
}

// stallWriter pushes the connection's write deadline forward before each
// write, so a long backup is bounded by progress, not by total time.
type stallWriter struct {
	w  io.Writer
	rc *http.ResponseController
}

func (s *stallWriter) Write(p []byte) (int, error) {
	_ = s.rc.SetWriteDeadline(time.Now().Add(transferStall)) // unsupported only off a real connection
	return s.w.Write(p)
}

// stallReader pushes the connection's read deadline forward before each
// read, as stallWriter does for writes.
type stallReader struct {
	r  io.Reader
	rc *http.ResponseController
}

func (s *stallReader) Read(p []byte) (int, error) {
	_ = s.rc.SetReadDeadline(time.Now().Add(transferStall))
	return s.r.Read(p)
}
