package discord

import (
	"strings"
	"sync"
)

// guildIDs interns guild ids: every member of a guild keeps the same
// string instead of a copy per event, and none of them pins the payload it
// was read from. The set is small (the guilds the bot is in); past
// maxInterned ids are copied without interning.
var guildIDs = struct {
	sync.Mutex
	m map[string]string
}{m: map[string]string{}}

const maxInterned = 4096

// guildIDOf reads a guild id and returns it interned.
func guildIDOf(raw []byte) string {
	id, _ := readSnowflake(raw, true)
	if id == "" {
		return ""
	}
	guildIDs.Lock()
	defer guildIDs.Unlock()
	if s, ok := guildIDs.m[id]; ok {
		return s
	}
	s := strings.Clone(id)
	if len(guildIDs.m) < maxInterned {
		guildIDs.m[s] = s
	}
	return s
}
