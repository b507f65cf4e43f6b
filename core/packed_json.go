package core

import (
	"bytes"
	"encoding/binary"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
)

// PackedJSON holds one JSON value byte for byte in less memory: its shape
// (the text without the values of its strings and numbers: keys, braces,
// literals) is interned, and only the values are kept, each behind its
// length. A million Discord user objects differ in their ids, names and
// hashes, not in their thirty-odd bytes of keys and nulls, so a member's
// profile costs its values and two bytes. AppendTo rebuilds the exact
// bytes PackJSON was given.
//
// Layout: two bytes of shape id (little endian), then per value a uvarint
// length and the value's bytes exactly as written (a string's without its
// quotes, escapes kept). The zero PackedJSON holds nothing.
type PackedJSON struct{ s string }

// holeMark stands for one value in a shape. A raw 0x00 byte is never
// valid JSON, so PackJSON refuses input holding one and the mark is
// unambiguous.
const holeMark = 0

// Limits of the shape table: shapes are few (Discord's objects have a
// fixed set of optional fields), but they come from the network, so past
// these a value with a new shape is kept verbatim instead.
const (
	maxShapes     = 1 << 14
	maxShapeBytes = 4 << 20
	maxJSONDepth  = 64
)

// shapes is the process-wide intern table. Readers index list without a
// lock; the mutex serialises additions and guards ids.
var shapes struct {
	mu    sync.Mutex
	ids   map[string]uint16
	bytes int
	list  [maxShapes]atomic.Pointer[string] // id → shape; id 0 unused
	n     int
}

// PackJSON appends raw's packed form to dst (which may hold the packed
// forms of other values, so that several share one allocation; see
// PackedJSONOf). JSON this packer cannot reproduce exactly (malformed, or
// deeper than 64 levels), or a new shape once the shape table is full, is
// kept verbatim instead, so every raw can be packed.
func PackJSON(dst, raw []byte) []byte {
	if out, ok := packShaped(dst, raw); ok {
		return out
	}
	dst = append(dst, 0, 0) // shape id 0: verbatim
	return append(dst, raw...)
}

// packShaped is PackJSON with an interned shape; ok is false (and dst
// unchanged) when raw cannot be packed that way.
func packShaped(dst, raw []byte) (out []byte, ok bool) {
	if bytes.IndexByte(raw, holeMark) >= 0 {
		return dst, false
	}
	start := len(dst)
	var shapeBuf [512]byte
	shape := shapeBuf[:0]
	out = append(dst, 0, 0)
	var stack [maxJSONDepth]byte // '{' or '['
	depth := 0
	wantKey := false
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '{' || c == '[':
			if depth == maxJSONDepth {
				return dst, false
			}
			stack[depth] = c
			depth++
			wantKey = c == '{'
			shape = append(shape, c)
			i++
		case c == '}' || c == ']':
			if depth == 0 || stack[depth-1] != c-2 { // '{'+2 == '}', '['+2 == ']'
				return dst, false
			}
			depth--
			wantKey = false
			shape = append(shape, c)
			i++
		case c == ',':
			wantKey = depth > 0 && stack[depth-1] == '{'
			shape = append(shape, c)
			i++
		case c == ':':
			wantKey = false
			shape = append(shape, c)
			i++
		case c == '"':
			end := stringEnd(raw, i+1)
			if end < 0 {
				return dst, false
			}
			if wantKey {
				shape = append(shape, raw[i:end+1]...)
			} else {
				shape = append(shape, '"', holeMark, '"')
				out = appendHole(out, raw[i+1:end])
			}
			i = end + 1
		case c == '-' || c >= '0' && c <= '9':
			j := i + 1
			for j < len(raw) && isNumberByte(raw[j]) {
				j++
			}
			shape = append(shape, holeMark)
			out = appendHole(out, raw[i:j])
			i = j
		case c >= 'a' && c <= 'z' || c == ' ' || c == '\t' || c == '\n' || c == '\r':
			// Literals and whitespace stay in the shape byte for byte; a
			// misspelt literal is reproduced as it came, which is all the
			// packer promises.
			shape = append(shape, c)
			i++
		default:
			return dst, false
		}
	}
	if depth != 0 || len(raw) == 0 {
		return dst, false
	}
	id, ok := shapeID(shape)
	if !ok {
		return dst, false
	}
	binary.LittleEndian.PutUint16(out[start:], id)
	return out, true
}

// stringEnd returns the index of the quote closing the string whose
// contents start at raw[i], or -1. A plain loop: the strings packed are
// short (ids, names, hashes), too short for IndexByte's call to pay.
func stringEnd(raw []byte, i int) int {
	for ; i < len(raw); i++ {
		switch raw[i] {
		case '"':
			return i
		case '\\':
			i++ // the escaped byte
		}
	}
	return -1
}

func isNumberByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'
}

func appendHole(out, v []byte) []byte {
	out = binary.AppendUvarint(out, uint64(len(v)))
	return append(out, v...)
}

// shapeID interns shape.
func shapeID(shape []byte) (uint16, bool) {
	shapes.mu.Lock()
	defer shapes.mu.Unlock()
	if id, ok := shapes.ids[string(shape)]; ok {
		return id, true
	}
	if shapes.n+1 >= maxShapes || shapes.bytes+len(shape) > maxShapeBytes {
		return 0, false
	}
	if shapes.ids == nil {
		shapes.ids = map[string]uint16{}
	}
	shapes.n++
	id := uint16(shapes.n)
	s := string(shape)
	shapes.ids[s] = id
	shapes.bytes += len(s)
	shapes.list[id].Store(&s)
	return id, true
}

// PackedJSONOf returns the value PackJSON appended as packed (exactly
// the bytes it appended). It shares packed's memory, which must not be
// written afterwards.
func PackedJSONOf(packed []byte) PackedJSON {
	if len(packed) < 2 {
		return PackedJSON{}
	}
	return PackedJSON{unsafe.String(unsafe.SliceData(packed), len(packed))}
}

// shape returns p's shape; "" for a verbatim value.
func (p PackedJSON) shape() string {
	if id := uint16(p.s[0]) | uint16(p.s[1])<<8; id != 0 {
		return *shapes.list[id].Load()
	}
	return ""
}

// verbatim reports whether p holds its JSON as it came (no shape).
func (p PackedJSON) verbatim() bool { return p.s[0] == 0 && p.s[1] == 0 }

// IsZero reports whether p holds nothing.
func (p PackedJSON) IsZero() bool { return p.s == "" }

// AppendTo appends the JSON p holds, byte for byte as packed.
func (p PackedJSON) AppendTo(dst []byte) []byte {
	if p.s == "" {
		return dst
	}
	if p.verbatim() {
		return append(dst, p.s[2:]...)
	}
	shape, holes := p.shape(), p.s[2:]
	for {
		i := strings.IndexByte(shape, holeMark)
		if i < 0 {
			return append(dst, shape...)
		}
		dst = append(dst, shape[:i]...)
		shape = shape[i+1:]
		n, k := uvarint(holes)
		dst = append(dst, holes[k:k+n]...)
		holes = holes[k+n:]
	}
}

// Bytes returns the JSON p holds in a new slice.
func (p PackedJSON) Bytes() []byte {
	if p.s == "" {
		return nil
	}
	return p.AppendTo(make([]byte, 0, p.Len()))
}

// Len returns the length of the JSON p holds.
func (p PackedJSON) Len() int {
	if p.s == "" {
		return 0
	}
	if p.verbatim() {
		return len(p.s) - 2
	}
	n := len(p.shape())
	for holes := p.s[2:]; holes != ""; {
		l, k := uvarint(holes)
		n += l - 1 // the value replaces its mark
		holes = holes[k+l:]
	}
	return n
}

// Equal reports whether p and q hold the same JSON. Two packed values are
// equal exactly when their bytes are (the shape table gives one shape one
// id), so only a verbatim one is compared rebuilt.
func (p PackedJSON) Equal(q PackedJSON) bool {
	if p.s == q.s {
		return true
	}
	if p.s == "" || q.s == "" || !p.verbatim() && !q.verbatim() {
		return false
	}
	return bytes.Equal(p.Bytes(), q.Bytes())
}

// Share returns s, which the caller parsed from raw (the bytes p was
// packed from), as a string sharing p's memory instead of raw's: a value
// of p when s lies inside one, a copy otherwise. So a parsed field costs
// no bytes of its own and does not keep raw (often a whole member chunk)
// alive.
func (p PackedJSON) Share(raw []byte, s string) string {
	if s == "" {
		return ""
	}
	if len(raw) == 0 || p.s == "" {
		return strings.Clone(s)
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(raw)))
	at := uintptr(unsafe.Pointer(unsafe.StringData(s)))
	if at < base || at+uintptr(len(s)) > base+uintptr(len(raw)) {
		return strings.Clone(s)
	}
	off := int(at - base)
	if p.verbatim() {
		return p.s[2+off : 2+off+len(s)]
	}
	shape, holes := p.shape(), p.s[2:]
	pos, hp := 0, 2 // where the next value starts in raw, in p.s
	for {
		i := strings.IndexByte(shape, holeMark)
		if i < 0 {
			return strings.Clone(s) // s is not inside a value (a key?)
		}
		pos += i
		shape = shape[i+1:]
		n, k := uvarint(holes)
		if off >= pos && off+len(s) <= pos+n {
			from := hp + k + off - pos
			return p.s[from : from+len(s)]
		}
		pos += n
		hp += k + n
		holes = holes[k+n:]
	}
}

// GobEncode sends the JSON itself (shape ids are this process's own).
func (p PackedJSON) GobEncode() ([]byte, error) { return p.Bytes(), nil }

// GobDecode packs the JSON GobEncode sent.
func (p *PackedJSON) GobDecode(b []byte) error {
	*p = PackedJSON{}
	if len(b) > 0 {
		*p = PackedJSONOf(PackJSON(nil, b))
	}
	return nil
}

// uvarint reads a length PackJSON wrote.
func uvarint(s string) (int, int) {
	var v uint64
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		c := s[i]
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return int(v), i + 1
		}
	}
	return 0, len(s)
}
