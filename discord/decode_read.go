package discord

import (
	"time"

	"github.com/halyardhq/halyard/internal/jsonread"
)

// The gateway's value readers and scanners live in internal/jsonread,
// shared with core (which decodes packed activities on demand); these
// short names keep the decoders readable and are inlined.

func kind(raw []byte) byte                                { return jsonread.Kind(raw) }
func isNull(raw []byte) bool                              { return jsonread.IsNull(raw) }
func readString(raw []byte, share bool) (string, bool)    { return jsonread.ReadString(raw, share) }
func readSnowflake(raw []byte, share bool) (string, bool) { return jsonread.ReadSnowflake(raw, share) }
func readInt(raw []byte) (int64, bool)                    { return jsonread.ReadInt(raw) }
func readFloat(raw []byte) (float64, bool)                { return jsonread.ReadFloat(raw) }
func readBool(raw []byte) (bool, bool)                    { return jsonread.ReadBool(raw) }
func readTime(raw []byte) time.Time                       { return jsonread.ReadTime(raw) }

func eachMember(obj []byte, fn func(key string, raw []byte)) error {
	return jsonread.EachMember(obj, fn)
}

func replaceMember(obj []byte, key string, val []byte) ([]byte, bool) {
	return jsonread.ReplaceMember(obj, key, val)
}
