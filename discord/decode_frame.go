package discord

import (
	"bytes"
	stdjson "encoding/json"
	"io"
	"reflect"
	"sync"
	"unsafe"

	"github.com/buger/jsonparser"
	ajson "github.com/diamondburned/arikawa/v3/utils/json"
	"github.com/diamondburned/arikawa/v3/utils/ws"

	"github.com/halyardhq/halyard/internal/jsonread"
)

// arikawa reads every gateway frame with encoding/json three times over: a
// streaming Decode of the envelope (which scans the frame, then copies "d"),
// then json.Unmarshal of "d" into the event, which validates it once more
// before our UnmarshalJSON even sees it. That was a third of the bot's CPU
// per PRESENCE_UPDATE. arikawa lets a program replace its JSON driver
// (utils/json.Default); frameDriver reads a frame in one validating pass
// (jsonread.Decoder) and hands the raw dispatches of events.go their bytes
// directly. A GUILD_MEMBERS_CHUNK (a thousand members, 900 KB) is read in
// that same pass when its "t" comes before its "d", as Discord writes
// them: its members reach the dispatch decoded, and its bytes are neither
// copied nor read again. Everything else (READY, messages, interactions, the
// REST client) goes to encoding/json exactly as before, and so does any
// frame the fast path is unsure of, so errors read the same.
type frameDriver struct{ ajson.DefaultDriver }

// frameOp mirrors arikawa's private envelope type (ws.codecOp): the
// embedded ws.Op and the raw "d". frameOpLayout checks that a value's type
// has exactly this layout before it is written through a *frameOp.
type frameOp struct {
	ws.Op
	Data ajson.Raw `json:"d,omitempty"`
}

var frameOpTypes sync.Map // reflect.Type → bool: has frameOp's layout

func frameOpLayout(t reflect.Type) bool {
	if ok, seen := frameOpTypes.Load(t); seen {
		return ok.(bool)
	}
	mirror := reflect.TypeFor[frameOp]()
	ok := t.Kind() == reflect.Struct && t.NumField() == 2 && t.Size() == mirror.Size()
	for i := 0; ok && i < 2; i++ {
		f, m := t.Field(i), mirror.Field(i)
		ok = f.Name == m.Name && f.Type == m.Type && f.Offset == m.Offset && f.Anonymous == m.Anonymous && f.Tag == m.Tag
	}
	frameOpTypes.Store(t, ok)
	return ok
}

var framePool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// DecodeStream reads one gateway frame into v.
func (d frameDriver) DecodeStream(r io.Reader, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || !frameOpLayout(rv.Type().Elem()) {
		return d.DefaultDriver.DecodeStream(r, v)
	}
	buf := framePool.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 1<<20 { // a GUILD_CREATE may be huge; don't keep it
			buf.Reset()
			framePool.Put(buf)
		}
	}()
	buf.Reset()
	if _, err := buf.ReadFrom(r); err != nil {
		return err
	}
	frame := buf.Bytes()
	op := (*frameOp)(rv.UnsafePointer())
	if !decodeEnvelope(frame, op) {
		// encoding/json's stream decoder, exactly as arikawa would have
		// run it on this frame (it also tolerates trailing bytes).
		*op = frameOp{Data: op.Data[:0]}
		return d.DefaultDriver.DecodeStream(bytes.NewReader(frame), v)
	}
	return nil
}

// decodeEnvelope fills op from frame in one validating pass; false when
// frame is not valid JSON, or a member has a type or a name encoding/json
// would treat otherwise (then the caller lets encoding/json decide). A
// member chunk read in the pass is handed to its dispatch (takeChunk), and
// op.Data is then a marker, not the chunk's bytes.
func decodeEnvelope(frame []byte, op *frameOp) bool {
	ok := true
	var data []byte
	var chunk *memberChunk // "d", when read here
	dropChunk := func() {
		if chunk != nil {
			chunk.list.release()
			chunk = nil
		}
	}
	dec := jsonread.NewDecoder(frame)
	obj := dec.Object(func(key string) {
		switch key {
		case "op":
			n, isInt := plainInt(dec.Skip())
			ok = ok && isInt
			op.Code = ws.OpCode(n)
		case "s":
			if v := dec.Skip(); !isNull(v) {
				n, isInt := plainInt(v)
				ok = ok && isInt
				op.Sequence = n
			}
		case "t":
			if v := dec.Skip(); !isNull(v) {
				s, isString := readString(v, false)
				ok = ok && isString && kind(v) == '"'
				op.Type = ws.EventType(s)
			}
		case "d":
			dropChunk()
			if op.Type == "GUILD_MEMBERS_CHUNK" && dec.Peek() == '{' {
				c, _ := readChunk(&dec)
				chunk = &c
				data = nil
				return
			}
			data = dec.Skip()
		default:
			// encoding/json matches names case-insensitively; leave any
			// other spelling to it.
			ok = false
		}
	})
	if !ok || obj == nil || dec.Finish() != nil {
		dropChunk()
		return false
	}
	switch {
	case chunk != nil && op.Code == 0 && op.Type == "GUILD_MEMBERS_CHUNK":
		// The dispatch takes the chunk read (takeChunk); its "d" is a
		// marker of a size arikawa never keeps, so it is never reused
		// while handedOut holds it.
		op.Data = append(make([]byte, 0, ownedSize), "{}"...)
		handedOut.Store(unsafe.SliceData(op.Data), chunk)
	case chunk != nil:
		// Not a dispatch after all ("op" came late): go the long way.
		dropChunk()
		return false
	case data == nil:
	case len(data) >= ownedSize && op.Code == 0 && rawDispatch[op.Type]:
		// A private copy, which the dispatch keeps as it is (ownPayload).
		op.Data = append([]byte(nil), data...)
		handedOut.Store(unsafe.SliceData(op.Data), struct{}{})
	default:
		// As ajson.Raw.UnmarshalJSON: into the shared buffer arikawa
		// passed in op.Data.
		op.Data = append(op.Data[:0], data...)
	}
	return true
}

// ownedSize is the size from which a dispatch's "d" gets a copy of its
// own. arikawa keeps a decoded "d" as its shared buffer for the next
// frame only while its capacity is under 32 KiB (ws.maxSharedBufferSize,
// private; TestFrameDriverOwnedDispatch holds it to that), so a copy this
// large is never written again.
const ownedSize = 1 << 15

// handedOut holds what decodeEnvelope made for a dispatch, by the first
// byte of the "d" it handed arikawa, until the dispatch takes it: a copy
// of its own (struct{}, ownPayload), or a member chunk read (takeChunk).
var handedOut sync.Map // *byte → struct{} or *memberChunk

// ownPayload returns the bytes of a dispatch for it to keep: the copy
// decodeEnvelope made for it, or else a copy (the bytes arikawa hands over
// are its shared read buffer).
func ownPayload(b []byte) []byte {
	if len(b) >= ownedSize {
		if v, ours := handedOut.Load(unsafe.SliceData(b)); ours && v == struct{}{} {
			handedOut.Delete(unsafe.SliceData(b))
			return b
		}
	}
	return clone(b)
}

// takeChunk returns the member chunk decodeEnvelope read for the dispatch
// whose "d" is b, nil when it read none.
func takeChunk(b []byte) *memberChunk {
	if cap(b) < ownedSize {
		return nil
	}
	if v, ours := handedOut.Load(unsafe.SliceData(b)); ours {
		if c, isChunk := v.(*memberChunk); isChunk {
			handedOut.Delete(unsafe.SliceData(b))
			return c
		}
	}
	return nil
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

// rawDispatch names the dispatches of events.go.
var rawDispatch = map[ws.EventType]bool{
	"GUILD_CREATE": true, "GUILD_DELETE": true, "GUILD_MEMBERS_CHUNK": true, "GUILD_MEMBER_ADD": true,
	"GUILD_MEMBER_UPDATE": true, "GUILD_MEMBER_REMOVE": true, "PRESENCE_UPDATE": true, "RATE_LIMITED": true,
}

// plainInt reads an integer written as one.
func plainInt(raw []byte) (int64, bool) {
	n, err := jsonparser.ParseInt(raw)
	return n, err == nil
}

// Unmarshal hands a dispatch of events.go its bytes directly: the frame
// they come from was validated by DecodeStream. Anything else goes to
// encoding/json.
func (d frameDriver) Unmarshal(data []byte, v any) error {
	switch e := v.(type) {
	case *rawPresenceUpdate, *rawMembersChunk, *rawGuildCreate, *rawGuildDelete,
		*rawMemberAdd, *rawMemberUpdate, *rawMemberRemove, *rawRateLimited:
		return e.(stdjson.Unmarshaler).UnmarshalJSON(data)
	}
	return d.DefaultDriver.Unmarshal(data, v)
}
