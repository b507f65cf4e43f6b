package backup_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/halyardhq/halyard/backup"
	"github.com/halyardhq/halyard/core"
)

// sample is a small backup's content.
func sample() ([]core.UserKV, []core.TokenHash, []core.UserRecord) {
	kvs := []core.UserKV{
		{UserID: "9", KV: core.KVOf("zeta", "z", "", "empty key", "alpha", "naïve ✓ \"quoted\" <b>\n\x01")},
		{UserID: "10", KV: core.KVOf("k", strings.Repeat("é", core.MaxKVValueLength))},
	}
	toks := []core.TokenHash{{UserID: "9", Hash: bytes.Repeat([]byte{7}, core.TokenHashSize)}}
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 123, time.UTC)
	recs := []core.UserRecord{
		{ID: "9", Username: "nine", MonitoringSince: t0, LastSeen: t0.Add(time.Hour), GitHubLogin: "octo"},
		{ID: "12", Username: "twelve"},
	}
	return kvs, toks, recs
}

// encode writes a backup of the sample.
func encode(t *testing.T) []byte {
	t.Helper()
	kvs, toks, recs := sample()
	counts := backup.Counts{KVUsers: 2, KVPairs: 4, Tokens: 1, Users: 2}
	var buf bytes.Buffer
	w, err := backup.NewWriter(&buf, backup.NewHeader("v1.2.3", time.Now(), "check", counts))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range kvs {
		if err := w.KV(u); err != nil {
			t.Fatal(err)
		}
	}
	for _, tk := range toks {
		if err := w.Token(tk); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range recs {
		if err := w.User(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readAll reads a whole backup.
func readAll(b []byte) ([]backup.Item, error) {
	r, err := backup.NewReader(bytes.NewReader(b), 0)
	if err != nil {
		return nil, err
	}
	var items []backup.Item
	for {
		it, err := r.Next()
		if err == io.EOF {
			return items, nil
		}
		if err != nil {
			return items, err
		}
		items = append(items, it)
	}
}

func TestRoundTrip(t *testing.T) {
	items, err := readAll(encode(t))
	if err != nil {
		t.Fatal(err)
	}
	kvs, toks, recs := sample()
	if len(items) != 5 {
		t.Fatalf("%d items", len(items))
	}
	for i, u := range kvs {
		if it := items[i]; it.Kind != backup.KindKV || it.KV.UserID != u.UserID || !it.KV.KV.Equal(u.KV) {
			t.Errorf("KV item %d: %+v, want %v", i, it.KV, u.KV)
		}
	}
	if it := items[2]; it.Kind != backup.KindToken || !bytes.Equal(it.Token.Hash, toks[0].Hash) {
		t.Errorf("token item %+v", it)
	}
	for i, r := range recs {
		got := items[3+i].User
		if got.ID != r.ID || got.Username != r.Username || !got.MonitoringSince.Equal(r.MonitoringSince) ||
			!got.LastSeen.Equal(r.LastSeen) || got.GitHubLogin != r.GitHubLogin {
			t.Errorf("record %d: %+v, want %+v", i, got, r)
		}
	}
}

// lines returns a backup made of raw JSON lines.
func lines(t *testing.T, ls ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	io.WriteString(gz, strings.Join(ls, "\n")+"\n")
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const head = `{"halyard_backup":1,"sections":{"kv":1,"tokens":1,"users":1},"counts":`

// TestRefused: every kind of bad file is refused with a message saying
// what is wrong.
func TestRefused(t *testing.T) {
	good := encode(t)
	corrupt := bytes.Clone(good)
	corrupt[len(corrupt)/2] ^= 0xff
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "not gzip"},
		{"plain text", []byte("hello\n"), "not gzip"},
		{"truncated in the middle", good[:len(good)/2], "truncated"},
		{"truncated trailer", good[:len(good)-4], "truncated"},
		{"a flipped byte", corrupt, ""},
		{"no header", lines(t, `{"t":"kv","id":"1","k":"a","v":"b"}`), "no header"},
		{"newer format", lines(t, `{"halyard_backup":2,"counts":{}}`), "newer"},
		{"newer history section", lines(t, `{"halyard_backup":1,"sections":{"kv":1,"history":2},"counts":{}}`), `"history" section (version 2)`},
		{"newer section", lines(t, `{"halyard_backup":1,"sections":{"kv":2},"counts":{}}`), `"kv" section (version 2)`},
		{"fewer lines than counted", lines(t, head+`{"kv_users":1,"kv_pairs":2}}`, `{"t":"kv","id":"1","k":"a","v":"b"}`), "incomplete"},
		{"more lines than counted", lines(t, head+`{"users":1}}`, `{"t":"user","id":"1"}`, `{"t":"user","id":"2"}`), "incomplete"},
		{"KV not consecutive", lines(t, head+`{"kv_users":2,"kv_pairs":3}}`, `{"t":"kv","id":"1","k":"a","v":"b"}`,
			`{"t":"kv","id":"2","k":"a","v":"b"}`, `{"t":"kv","id":"1","k":"c","v":"d"}`), "not consecutive"},
		{"key twice", lines(t, head+`{"kv_users":1,"kv_pairs":2}}`, `{"t":"kv","id":"1","k":"a","v":"b"}`, `{"t":"kv","id":"1","k":"a","v":"c"}`), "given twice"},
		{"bad key", lines(t, head+`{"kv_users":1,"kv_pairs":1}}`, `{"t":"kv","id":"1","k":"a b","v":"b"}`), "alphanumeric"},
		{"no value", lines(t, head+`{"kv_users":1,"kv_pairs":1}}`, `{"t":"kv","id":"1","k":"a"}`), "needs k and v"},
		{"bad user id", lines(t, head+`{"users":1}}`, `{"t":"user","id":"abc"}`), "not a user id"},
		{"bad hash", lines(t, head+`{"tokens":1}}`, `{"t":"token","id":"1","hash":"abcd"}`), "hex digits"},
		{"unknown type", lines(t, head+`{"users":1}}`, `{"t":"history","id":"1"}`), "unknown line type"},
		{"unknown field", lines(t, head+`{"users":1}}`, `{"t":"user","id":"1","extra":true}`), "not a backup line"},
		{"sections out of order", lines(t, head+`{"users":1,"tokens":1}}`, `{"t":"user","id":"1"}`,
			`{"t":"token","id":"1","hash":"`+strings.Repeat("00", 32)+`"}`), "after the next section"},
		{"opt-out without since", lines(t, head+`{"optouts":1}}`, `{"t":"optout","id":"1"}`), "needs since"},
		{"opt-outs over the count", lines(t, head+`{"optouts":1}}`, `{"t":"optout","id":"1","since":"2026-01-02T03:04:05Z"}`,
			`{"t":"optout","id":"2","since":"2026-01-02T03:04:05Z"}`), "incomplete"},
		{"opt-out before a user record", lines(t, head+`{"users":1,"optouts":1}}`, `{"t":"optout","id":"1","since":"2026-01-02T03:04:05Z"}`,
			`{"t":"user","id":"1"}`), "after the next section"},
		{"line too long", lines(t, head+`{"users":1}}`, `{"t":"user","id":"1","username":"`+strings.Repeat("x", backup.MaxLineBytes)+`"}`), "longer than"},
	}
	for _, tt := range tests {
		_, err := readAll(tt.file)
		var fe *backup.FormatError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want a FormatError containing %q", tt.name, err, tt.want)
		}
	}
}

// TestDecompressedBound: a body that decompresses past the bound fails.
func TestDecompressedBound(t *testing.T) {
	file := lines(t, head+`{"users":2}}`, `{"t":"user","id":"1","username":"`+strings.Repeat("x", 5000)+`"}`, `{"t":"user","id":"2"}`)
	r, err := backup.NewReader(bytes.NewReader(file), 2000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err == nil || !strings.Contains(err.Error(), "exceeds the bound") {
		t.Fatalf("got %v", err)
	}
}

// TestOptOutsRoundTrip: opted-out users come back with their time, after
// every other section, and a file made before the section existed (no
// "optouts" in its header) still reads.
func TestOptOutsRoundTrip(t *testing.T) {
	since := time.Date(2026, 3, 4, 5, 6, 7, 8_000_000, time.UTC)
	h := backup.NewHeader("test", time.Now(), "", backup.Counts{Users: 1, OptOuts: 2})
	var buf bytes.Buffer
	w, err := backup.NewWriter(&buf, h)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.User(core.UserRecord{ID: "1", Username: "a"}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"1", "22"} {
		if err := w.OptOut(core.OptOut{UserID: id, Since: since}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	items, err := readAll(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 3 || items[0].Kind != backup.KindUser {
		t.Fatalf("items %+v", items)
	}
	for i, id := range []string{"1", "22"} {
		if o := items[1+i]; o.Kind != backup.KindOptOut || o.OptOut.UserID != id || !o.OptOut.Since.Equal(since) {
			t.Errorf("opt-out %d: %+v", i, o)
		}
	}
	if _, err := readAll(lines(t, head+`{"users":1}}`, `{"t":"user","id":"1"}`)); err != nil {
		t.Errorf("a file without the section: %v", err)
	}
}
