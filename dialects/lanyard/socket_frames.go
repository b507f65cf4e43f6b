package lanyard

import (
	"bytes"
	"encoding/json"
	"sync"

	"github.com/klauspost/compress/zlib"

	"github.com/halyardhq/halyard/core"
)

// Server frames of the Lanyard socket (docs/compat/lanyard.md §5.2–§5.4), keys in
// Lanyard's alphabetical order.
const (
	helloFrame     = `{"d":{"heartbeat_interval":30000},"op":1}`
	frameStart     = `{"d":`
	initEnd        = `,"op":0,"t":"INIT_STATE"}`
	updateEnd      = `,"op":0,"t":"PRESENCE_UPDATE"}`
	emptyInitFrame = frameStart + `{}` + initEnd
)

// frameRenderers are the hub renderers of PRESENCE_UPDATE frames, indexed
// [withUserID][zlib]: each is built at most once per user snapshot, however
// many sockets receive it.
type frameRenderers [2][2]core.RendererID

// registerFrames adds the PRESENCE_UPDATE renderers on top of the presence
// renderer.
func registerFrames(hub *core.Hub, presence core.RendererID) frameRenderers {
	var f frameRenderers
	f[0][0] = hub.RegisterRenderer(func(u *core.User) []byte {
		return updateFrame(hub.Render(presence, u), "")
	})
	f[1][0] = hub.RegisterRenderer(func(u *core.User) []byte {
		return updateFrame(hub.Render(presence, u), u.ID)
	})
	f[0][1] = hub.RegisterRenderer(func(u *core.User) []byte { return deflate(hub.Render(f[0][0], u)) })
	f[1][1] = hub.RegisterRenderer(func(u *core.User) []byte { return deflate(hub.Render(f[1][0], u)) })
	return f
}

// updateFrame wraps a presence object as PRESENCE_UPDATE; with a userID,
// d gains a trailing "user_id" (docs/compat/lanyard.md §5.4: sockets that subscribed by ids or to
// all), which keeps the keys alphabetical.
func updateFrame(presence []byte, userID string) []byte {
	out := make([]byte, 0, len(frameStart)+len(presence)+len(updateEnd)+len(userID)+16)
	out = append(out, frameStart...)
	if userID == "" {
		out = append(out, presence...)
	} else {
		out = append(out, presence[:len(presence)-1]...) // drop the closing brace
		out = append(out, `,"user_id":`...)
		out = appendJSONString(out, userID)
		out = append(out, '}')
	}
	return append(out, updateEnd...)
}

// initSingleFrame is INIT_STATE for subscribe_to_id: the bare presence, or
// {} when the user is not monitored (u nil).
func (s *sockets) initSingleFrame(u *core.User) []byte {
	if u == nil {
		return []byte(emptyInitFrame)
	}
	p := s.hub.Render(s.presence, u)
	out := make([]byte, 0, len(frameStart)+len(p)+len(initEnd))
	out = append(out, frameStart...)
	out = append(out, p...)
	return append(out, initEnd...)
}

// initMapFrame is INIT_STATE for subscribe_to_ids and subscribe_to_all:
// {"<id>": presence, …}, assembled from each user's cached presence bytes.
func (s *sockets) initMapFrame(users []*core.User) []byte {
	size := len(frameStart) + len(initEnd) + 2
	parts := make([][]byte, len(users))
	for i, u := range users {
		parts[i] = s.hub.Render(s.presence, u)
		size += len(parts[i]) + len(u.ID) + 4
	}
	out := make([]byte, 0, size)
	out = append(out, frameStart...)
	out = append(out, '{')
	for i, u := range users {
		if i > 0 {
			out = append(out, ',')
		}
		out = appendJSONString(out, u.ID)
		out = append(out, ':')
		out = append(out, parts[i]...)
	}
	out = append(out, '}')
	return append(out, initEnd...)
}

// appendJSONString appends s as a JSON string; snowflakes take the fast path.
func appendJSONString(out []byte, s string) []byte {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 || c == '<' || c == '>' || c == '&' {
			plain = false
			break
		}
	}
	if plain {
		out = append(out, '"')
		out = append(out, s...)
		return append(out, '"')
	}
	b, _ := json.Marshal(s) // a string always encodes
	return append(out, b...)
}

var zlibWriters = sync.Pool{New: func() any {
	w, _ := zlib.NewWriterLevel(nil, zlib.DefaultCompression) // a valid level never fails
	return w
}}

// deflate compresses b as one complete, independent zlib stream (header
// 78 9c, Z_FINISH, Adler-32 trailer): a zlib_json frame (docs/compat/lanyard.md §5.1).
func deflate(b []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(b)/2 + 64)
	zw := zlibWriters.Get().(*zlib.Writer)
	zw.Reset(&buf)
	_, _ = zw.Write(b) // writes to a bytes.Buffer never fail
	_ = zw.Close()
	zlibWriters.Put(zw)
	return buf.Bytes()
}
