package jsonread

import (
	"encoding/binary"
	"strconv"
)

// Decoder reads one JSON text in a single pass, validating every byte as
// it goes, and lets its caller walk into the objects and arrays it wants
// (Object, Array) and take the other values whole (Skip). Walking a
// member chunk this way reads each byte once, where splitting each level
// with EachMember scans every value to its end again at every depth.
//
// It accepts exactly what encoding/json.Valid accepts, nesting limit
// included (FuzzDecoderMatchesValid); after the first error every call
// returns at once and Err reports it. Raw values are capped slices of
// the input: appending to one never writes into it.
type Decoder struct {
	data  []byte
	pos   int
	depth int
	err   error
}

// maxDepth is encoding/json's nesting limit.
const maxDepth = 10000

// SyntaxError reports where a Decoder found its input not to be JSON.
type SyntaxError struct {
	Offset int    // of the offending byte
	What   string // what was wrong there
}

func (e *SyntaxError) Error() string {
	return "invalid JSON at offset " + strconv.Itoa(e.Offset) + ": " + e.What
}

// NewDecoder returns a Decoder reading data.
func NewDecoder(data []byte) Decoder { return Decoder{data: data} }

// Err returns the first error the Decoder met, or nil.
func (d *Decoder) Err() error { return d.err }

// Finish reports the first error, or one for anything but whitespace
// after the value read.
func (d *Decoder) Finish() error {
	if d.Peek(); d.pos < len(d.data) {
		d.fail("data after the value")
	}
	return d.err
}

func (d *Decoder) fail(what string) {
	if d.err == nil {
		d.err = &SyntaxError{Offset: d.pos, What: what}
		d.pos = len(d.data)
	}
}

// Peek returns the first byte of the next value (or delimiter), 0 at the
// end of the input or after an error.
func (d *Decoder) Peek() byte {
	for d.pos < len(d.data) {
		switch c := d.data[d.pos]; c {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			if d.err != nil {
				return 0
			}
			return c
		}
	}
	return 0
}

// Skip reads the next value whole and returns it as written (nil after
// an error).
func (d *Decoder) Skip() []byte {
	if d.Peek() == 0 {
		d.fail("missing value")
		return nil
	}
	start := d.pos
	d.value()
	if d.err != nil {
		return nil
	}
	return d.data[start:d.pos:d.pos]
}

// Object reads the next value. When it is an object, fn is called with
// each member's name (unescaped; it aliases the input and must not be
// kept) and may read the member's value with one call of Skip, Object or
// Array; a value fn leaves is skipped. It returns the object as written,
// or nil when the value was not an object (it is then skipped) or was
// malformed.
func (d *Decoder) Object(fn func(key string)) []byte {
	if d.Peek() != '{' {
		d.Skip()
		return nil
	}
	start := d.pos
	d.object(fn)
	if d.err != nil {
		return nil
	}
	return d.data[start:d.pos:d.pos]
}

// Array reads the next value. When it is an array, fn is called once per
// element and may read it with one call of Skip, Object or Array; an
// element fn leaves is skipped. It returns the array as written, or nil
// as Object does.
func (d *Decoder) Array(fn func()) []byte {
	if d.Peek() != '[' {
		d.Skip()
		return nil
	}
	start := d.pos
	d.array(fn)
	if d.err != nil {
		return nil
	}
	return d.data[start:d.pos:d.pos]
}

// value reads the value starting at d.pos (past any whitespace).
func (d *Decoder) value() {
	switch c := d.data[d.pos]; {
	case c == '{':
		d.object(nil)
	case c == '[':
		d.array(nil)
	case c == '"':
		d.str()
	case c == '-' || c >= '0' && c <= '9':
		d.number()
	case c == 't':
		d.literal("true")
	case c == 'f':
		d.literal("false")
	case c == 'n':
		d.literal("null")
	default:
		d.fail("invalid character")
	}
}

func (d *Decoder) enter() bool {
	d.depth++
	if d.depth > maxDepth {
		d.fail("exceeded max depth")
		return false
	}
	d.pos++ // the bracket
	return true
}

func (d *Decoder) object(fn func(key string)) {
	if !d.enter() {
		return
	}
	if d.Peek() == '}' {
		d.pos++
		d.depth--
		return
	}
	for d.err == nil {
		if d.Peek() != '"' {
			d.fail("object key is not a string")
			return
		}
		body, escaped := d.str()
		keyEnd := d.pos
		if d.Peek() != ':' {
			d.fail("missing colon after object key")
			return
		}
		d.pos++
		if d.Peek() == 0 {
			d.fail("missing value")
			return
		}
		at := d.pos
		if fn != nil {
			key := Alias(body)
			if escaped { // rare: names are plain ASCII
				key, _ = ReadString(d.data[keyEnd-len(body)-2:keyEnd], false)
			}
			fn(key)
		}
		if d.err == nil && d.pos == at {
			d.value()
		}
		switch d.Peek() {
		case ',':
			d.pos++
		case '}':
			d.pos++
			d.depth--
			return
		default:
			d.fail("missing comma or closing brace")
		}
	}
}

func (d *Decoder) array(fn func()) {
	if !d.enter() {
		return
	}
	if d.Peek() == ']' {
		d.pos++
		d.depth--
		return
	}
	for d.err == nil {
		if d.Peek() == 0 {
			d.fail("missing value")
			return
		}
		at := d.pos
		if fn != nil {
			fn()
		}
		if d.err == nil && d.pos == at {
			d.value()
		}
		switch d.Peek() {
		case ',':
			d.pos++
		case ']':
			d.pos++
			d.depth--
			return
		default:
			d.fail("missing comma or closing bracket")
		}
	}
}

// SWAR masks: a word has a byte below 0x20, a quote or a backslash when
// (x-lo)&^x&hi is non-zero for x the word (below 0x20) or the word xored
// with the byte repeated (equal to it).
const (
	lo = 0x0101010101010101
	hi = 0x8080808080808080
)

// str reads the string at d.pos and returns its body (between the
// quotes) and whether it holds escapes. Control characters and malformed
// escapes fail; other bytes, UTF-8 or not, pass, as with encoding/json.
func (d *Decoder) str() (body []byte, escaped bool) {
	b := d.data
	start := d.pos + 1
	i := start
	for {
		for i+8 <= len(b) {
			w := binary.LittleEndian.Uint64(b[i:])
			q, s := w^(lo*'"'), w^(lo*'\\')
			if ((w-lo*0x20)&^w|(q-lo)&^q|(s-lo)&^s)&hi != 0 {
				break
			}
			i += 8
		}
		for i < len(b) && b[i] >= 0x20 && b[i] != '"' && b[i] != '\\' {
			i++
		}
		if i >= len(b) {
			d.pos = i
			d.fail("unterminated string")
			return nil, false
		}
		switch b[i] {
		case '"':
			d.pos = i + 1
			return b[start:i], escaped
		case '\\':
			escaped = true
			n := escapeLen(b[i+1:])
			if n == 0 {
				d.pos = i
				d.fail("invalid escape in string")
				return nil, false
			}
			i += 1 + n
		default:
			d.pos = i
			d.fail("control character in string")
			return nil, false
		}
	}
}

// escapeLen is the length of the escape (after its backslash) that b
// starts with, 0 when it is not one.
func escapeLen(b []byte) int {
	if len(b) == 0 {
		return 0
	}
	switch b[0] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 1
	case 'u':
		if len(b) < 5 {
			return 0
		}
		for _, c := range b[1:5] {
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return 0
			}
		}
		return 5
	}
	return 0
}

// number reads a number as RFC 8259 writes it.
func (d *Decoder) number() {
	b, i := d.data, d.pos
	if b[i] == '-' {
		i++
	}
	digits := func() bool {
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > j
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case !digits():
		d.pos = i
		d.fail("invalid number")
		return
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			d.pos = i
			d.fail("invalid number")
			return
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			d.pos = i
			d.fail("invalid number")
			return
		}
	}
	d.pos = i
}

func (d *Decoder) literal(word string) {
	if len(d.data)-d.pos < len(word) || string(d.data[d.pos:d.pos+len(word)]) != word {
		d.fail("invalid literal")
		return
	}
	d.pos += len(word)
}
