package backup

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"io"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/halyardhq/halyard/core"
)

// Writer writes a backup: NewWriter writes the header, then KV, Token and
// User write lines as they come, and Close ends the gzip stream. It holds
// nothing but a buffer, so a backup of any size streams.
type Writer struct {
	gz  *gzip.Writer
	buf *bufio.Writer
	enc *json.Encoder
}

// NewWriter starts a backup on w with header h.
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	gz := gzip.NewWriter(w)
	buf := bufio.NewWriterSize(gz, 64<<10)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false) // KV values go back byte for byte
	bw := &Writer{gz: gz, buf: buf, enc: enc}
	if err := enc.Encode(h); err != nil {
		return nil, err
	}
	return bw, nil
}

// KV writes one user's KV map, a line per pair in insertion order.
func (w *Writer) KV(u core.UserKV) error {
	for k, v := range u.KV.All() {
		if err := w.enc.Encode(line{T: kindKV, ID: u.UserID, K: &k, V: &v}); err != nil {
			return err
		}
	}
	return nil
}

// Token writes one user's token hash.
func (w *Writer) Token(t core.TokenHash) error {
	return w.enc.Encode(line{T: kindToken, ID: t.UserID, Hash: hex.EncodeToString(t.Hash)})
}

// User writes one user record.
func (w *Writer) User(r core.UserRecord) error {
	l := line{T: kindUser, ID: r.ID, Username: r.Username, GitHub: r.GitHubLogin}
	if !r.MonitoringSince.IsZero() {
		ms := r.MonitoringSince.UTC()
		l.MonitoringSince = &ms
	}
	if !r.LastSeen.IsZero() {
		ls := r.LastSeen.UTC()
		l.LastSeen = &ls
	}
	return w.enc.Encode(l)
}

// OptOut writes one opted-out user.
func (w *Writer) OptOut(o core.OptOut) error {
	since := o.Since.UTC()
	return w.enc.Encode(line{T: kindOptOut, ID: o.UserID, Since: &since})
}

// HistoryUser writes one user who turned presence history on.
func (w *Writer) HistoryUser(userID string) error {
	return w.enc.Encode(line{T: kindHistoryUser, ID: userID})
}

// Interval writes one closed interval of presence history, its times to
// the millisecond.
func (w *Writer) Interval(iv core.HistoryInterval) error {
	start, end := iv.Start.UTC().Truncate(time.Millisecond), iv.End.UTC().Truncate(time.Millisecond)
	l := line{T: kindInterval, ID: iv.UserID, Start: &start, End: &end}
	if iv.IsStatus() {
		l.Status = string(iv.Status)
	} else {
		name, typ := iv.Activity.Name, iv.Activity.Type
		l.Name, l.Type, l.ApplicationID = &name, &typ, iv.Activity.ApplicationID
	}
	return w.enc.Encode(l)
}

// Item writes one item as read by a Reader.
func (w *Writer) Item(it Item) error {
	switch it.Kind {
	case KindKV:
		return w.KV(it.KV)
	case KindToken:
		return w.Token(it.Token)
	case KindOptOut:
		return w.OptOut(it.OptOut)
	case KindHistoryUser:
		return w.HistoryUser(it.HistoryUser)
	case KindInterval:
		return w.Interval(it.Interval)
	default:
		return w.User(it.User)
	}
}

// Flush pushes what is buffered through the compressor to the underlying
// writer, so a reader on the other end of a stream sees it.
func (w *Writer) Flush() error {
	if err := w.buf.Flush(); err != nil {
		return err
	}
	return w.gz.Flush()
}

// Close writes what is buffered and ends the gzip stream (its checksum
// and length, by which a reader tells a truncated file). It does not
// close the underlying writer.
func (w *Writer) Close() error {
	if err := w.buf.Flush(); err != nil {
		return err
	}
	return w.gz.Close()
}
