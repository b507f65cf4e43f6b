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
// (utils/json.Default); frameDriver reads the envelope of a frame with one
// validation pass and jsonparser, and hands the raw dispatches of events.go
// their bytes directly. Everything else (READY, messages, interactions, the
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
// would treat otherwise (then the caller lets encoding/json decide).
func decodeEnvelope(frame []byte, op *frameOp) bool {
	ok := true
	var data []byte
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
			data = dec.Skip()
		default:
			// encoding/json matches names case-insensitively; leave any
			// other spelling to it.
			ok = false
		}
	})
	if !ok || obj == nil || dec.Finish() != nil {
		return false
	}
	if data == nil {
		return true
	}
	if len(data) >= ownedSize && op.Code == 0 && rawDispatch[op.Type] {
		// A private copy, which Unmarshal hands to the dispatch as it is.
		op.Data = append([]byte(nil), data...)
		handedOut.Store(unsafe.SliceData(op.Data), struct{}{})
		return true
	}
	// As ajson.Raw.UnmarshalJSON: into the shared buffer arikawa passed in
	// op.Data.
	op.Data = append(op.Data[:0], data...)
	return true
}

// ownedSize is the size from which a dispatch's "d" gets a copy of its
// own. arikawa keeps a decoded "d" as its shared buffer for the next
// frame only while its capacity is under 32 KiB (ws.maxSharedBufferSize,
// private; TestFrameDriverOwnedDispatch holds it to that), so a copy this
// large is never written again.
const ownedSize = 1 << 15

// handedOut holds the copies decodeEnvelope made for a dispatch, by their
// first byte, until the dispatch takes its copy (ownPayload).
var handedOut sync.Map // *byte → struct{}

// ownPayload returns the bytes of a dispatch for it to keep: the copy
// decodeEnvelope made for it, or else a copy (the bytes arikawa hands over
// are its shared read buffer).
func ownPayload(b []byte) []byte {
	if len(b) >= ownedSize {
		if _, ours := handedOut.LoadAndDelete(unsafe.SliceData(b)); ours {
			return b
		}
	}
	return clone(b)
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
