package backup

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/klauspost/compress/gzip"

	"github.com/halyardhq/halyard/core"
)

// Kind says what an Item holds.
type Kind int

// Item kinds, in the order a backup holds them.
const (
	KindKV          Kind = iota + 1 // one user's whole KV map
	KindToken                       // one user's token hash
	KindUser                        // one user record
	KindOptOut                      // one opted-out user
	KindHistoryUser                 // one user who turned presence history on
	KindInterval                    // one closed interval of presence history
)

// Item is one thing a restore applies: a user's whole KV map, a token
// hash, a user record, an opt-out, a history user or interval.
type Item struct {
	Kind   Kind
	KV     core.UserKV
	Token  core.TokenHash
	User   core.UserRecord
	OptOut core.OptOut
	// HistoryUser is the id of a user who turned presence history on.
	HistoryUser string
	// Interval is closed: End is after Start, both to the millisecond.
	Interval core.HistoryInterval
}

// FormatError is a backup that cannot be read: not gzip, truncated,
// corrupted, or of a version this Halyard does not know. Line is 0 when
// the error is not about one line.
type FormatError struct {
	Line int
	Msg  string
	Err  error // the reading failure behind it, if any
}

// Unwrap returns the reading failure behind the error, if any.
func (e *FormatError) Unwrap() error { return e.Err }

// Error implements error.
func (e *FormatError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

// Reader reads a backup item by item, checking as it goes: the header's
// version and sections, every line's shape, the KV rules, and at the end
// the header's counts (a truncated file fails there at the latest). It
// holds one user's KV map at most.
type Reader struct {
	sc     *bufio.Scanner
	header Header
	lineNo int

	pending *line // a line read ahead while collecting a user's KV map
	section Kind  // the section being read: sections come in order
	kvSeen  map[string]struct{}
	counted Counts
	done    bool
}

// NewReader reads the header of the backup in r; maxBytes (0: no bound)
// bounds the decompressed size, so a small compressed body cannot make the
// reader work through gigabytes.
func NewReader(r io.Reader, maxBytes int64) (*Reader, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, &FormatError{Msg: "not a Halyard backup (not gzip-compressed): " + err.Error(), Err: err}
	}
	var src io.Reader = gz
	if maxBytes > 0 {
		src = &boundedReader{r: gz, left: maxBytes, limit: maxBytes}
	}
	sc := bufio.NewScanner(src)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLineBytes)
	br := &Reader{sc: sc, kvSeen: map[string]struct{}{}}
	if !sc.Scan() {
		return nil, br.scanError("the file holds no header")
	}
	if sc.Err() != nil {
		return nil, br.scanError("")
	}
	br.lineNo = 1
	if err := br.readHeader(sc.Bytes()); err != nil {
		return nil, err
	}
	return br, nil
}

// Header returns the backup's header.
func (r *Reader) Header() Header { return r.header }

// Counted returns what was read so far.
func (r *Reader) Counted() Counts { return r.counted }

func (r *Reader) readHeader(b []byte) error {
	var h Header
	if err := json.Unmarshal(b, &h); err != nil || h.Format == 0 {
		return &FormatError{Line: 1, Msg: "not a Halyard backup (no header line)"}
	}
	if h.Format > FormatVersion {
		return &FormatError{Line: 1, Msg: fmt.Sprintf("backup format %d is newer than this Halyard reads (%d): restore with a newer Halyard", h.Format, FormatVersion)}
	}
	names := make([]string, 0, len(h.Sections))
	for name := range h.Sections {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		v, known := knownSections[name]
		if !known || h.Sections[name] > v {
			return &FormatError{Line: 1, Msg: fmt.Sprintf("the backup holds a %q section (version %d) this Halyard cannot restore: restore with a newer Halyard", name, h.Sections[name])}
		}
	}
	c := h.Counts
	if c.KVUsers < 0 || c.KVPairs < c.KVUsers || c.Tokens < 0 || c.Users < 0 || c.History < 0 || c.OptOuts < 0 || c.HistoryUsers < 0 {
		return &FormatError{Line: 1, Msg: "the header's counts are not possible"}
	}
	r.header = h
	return nil
}

// Next returns the next item, or io.EOF once the whole file was read and
// matched its header's counts.
func (r *Reader) Next() (Item, error) {
	if r.done {
		return Item{}, io.EOF
	}
	l, err := r.next()
	if err == io.EOF {
		return Item{}, r.finish()
	}
	if err != nil {
		return Item{}, err
	}
	switch l.T {
	case kindKV:
		return r.readKV(l)
	case kindToken:
		hash, err := hex.DecodeString(l.Hash)
		if err != nil || len(hash) != core.TokenHashSize {
			return Item{}, r.lineError("a token hash is %d hex digits", 2*core.TokenHashSize)
		}
		r.counted.Tokens++
		return Item{Kind: KindToken, Token: core.TokenHash{UserID: l.ID, Hash: hash}}, nil
	case kindOptOut:
		if l.Since == nil {
			return Item{}, r.lineError("an opt-out line needs since")
		}
		r.counted.OptOuts++
		return Item{Kind: KindOptOut, OptOut: core.OptOut{UserID: l.ID, Since: *l.Since}}, nil
	case kindHistoryUser:
		r.counted.HistoryUsers++
		return Item{Kind: KindHistoryUser, HistoryUser: l.ID}, nil
	case kindInterval:
		iv, err := r.interval(l)
		if err != nil {
			return Item{}, err
		}
		r.counted.History++
		return Item{Kind: KindInterval, Interval: iv}, nil
	default:
		rec := core.UserRecord{ID: l.ID, Username: l.Username, GitHubLogin: l.GitHub}
		if l.MonitoringSince != nil {
			rec.MonitoringSince = *l.MonitoringSince
		}
		if l.LastSeen != nil {
			rec.LastSeen = *l.LastSeen
		}
		r.counted.Users++
		return Item{Kind: KindUser, User: rec}, nil
	}
}

// readKV collects the consecutive pairs of first's user into one map.
func (r *Reader) readKV(first *line) (Item, error) {
	id := first.ID
	if _, seen := r.kvSeen[id]; seen {
		return Item{}, r.lineError("the KV pairs of user %s are not consecutive", id)
	}
	r.kvSeen[id] = struct{}{}
	var kv core.KV
	for l := first; ; {
		if kv.Has(*l.K) {
			return Item{}, r.lineError("user %s's key %q is given twice", id, *l.K)
		}
		kv.Set(*l.K, *l.V)
		if kv.Len() > core.MaxKVPairs {
			return Item{}, r.lineError("user %s has more than %d KV pairs", id, core.MaxKVPairs)
		}
		next, err := r.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Item{}, err
		}
		if next.T != kindKV || next.ID != id {
			r.pending = next
			break
		}
		l = next
	}
	if err := core.ValidateKVPairs(kv); err != nil {
		return Item{}, &FormatError{Line: r.lineNo, Msg: fmt.Sprintf("user %s's KV breaks a rule: %s", id, core.ErrorMessage(err))}
	}
	r.counted.KVUsers++
	r.counted.KVPairs += kv.Len()
	return Item{Kind: KindKV, KV: core.UserKV{UserID: id, KV: kv}}, nil
}

// next returns the next line, checked for shape and section order.
func (r *Reader) next() (*line, error) {
	if l := r.pending; l != nil {
		r.pending = nil
		return l, nil
	}
	if !r.sc.Scan() {
		if err := r.scanError(""); err != nil {
			return nil, err
		}
		return nil, io.EOF
	}
	if r.sc.Err() != nil { // a partial last line before a read failure
		return nil, r.scanError("")
	}
	r.lineNo++
	var l line
	dec := json.NewDecoder(bytes.NewReader(r.sc.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return nil, r.lineError("not a backup line: %v", err)
	}
	if !isUserID(l.ID) {
		return nil, r.lineError("%q is not a user id", l.ID)
	}
	var kind Kind
	switch l.T {
	case kindKV:
		kind = KindKV
		if l.K == nil || l.V == nil {
			return nil, r.lineError("a KV line needs k and v")
		}
	case kindToken:
		kind = KindToken
	case kindUser:
		kind = KindUser
	case kindOptOut:
		kind = KindOptOut
	case kindHistoryUser:
		kind = KindHistoryUser
	case kindInterval:
		kind = KindInterval
	default:
		return nil, r.lineError("unknown line type %q", l.T)
	}
	if kind < r.section {
		return nil, r.lineError("a %s line after the next section began", l.T)
	}
	r.section = kind
	return &l, nil
}

// finish checks the counts once the file ended.
func (r *Reader) finish() error {
	r.done = true
	if r.counted != r.header.Counts {
		return &FormatError{Msg: fmt.Sprintf("the file is incomplete (truncated?): its header announces %s, it holds %s",
			describe(r.header.Counts), describe(r.counted))}
	}
	return io.EOF
}

// scanError turns the scanner's failure into a FormatError (nil at a
// clean end of file); empty is the message for a file with no line.
func (r *Reader) scanError(empty string) error {
	err := r.sc.Err()
	switch {
	case err == nil && empty != "":
		return &FormatError{Msg: empty}
	case err == nil:
		return nil
	case errors.Is(err, bufio.ErrTooLong):
		return &FormatError{Line: r.lineNo + 1, Msg: fmt.Sprintf("a line longer than %d bytes: not a Halyard backup, or corrupted", MaxLineBytes)}
	case errors.Is(err, errTooBig):
		return &FormatError{Msg: err.Error(), Err: err}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &FormatError{Msg: "the file is truncated (the compressed stream ends early)", Err: err}
	}
	return &FormatError{Msg: "the file is corrupted or could not be read: " + err.Error(), Err: err}
}

func (r *Reader) lineError(format string, args ...any) error {
	return &FormatError{Line: r.lineNo, Msg: fmt.Sprintf(format, args...)}
}

// describe words counts for messages.
func describe(c Counts) string {
	return fmt.Sprintf("%d KV pairs of %d users, %d tokens, %d user records, %d opt-outs, %d history users, %d history intervals",
		c.KVPairs, c.KVUsers, c.Tokens, c.Users, c.OptOuts, c.HistoryUsers, c.History)
}

// isUserID reports whether s is a Discord id: 1 to 20 digits.
func isUserID(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	return strings.Trim(s, "0123456789") == ""
}

// errTooBig is a boundedReader past its bound.
var errTooBig = errors.New("the decompressed backup exceeds the bound of one request")

// boundedReader fails once more than limit bytes were read.
type boundedReader struct {
	r           io.Reader
	left, limit int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, fmt.Errorf("%w (%d bytes)", errTooBig, b.limit)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}
