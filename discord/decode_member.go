package discord

import (
	"cmp"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/internal/jsonread"
)

// guildWire is the part of GUILD_CREATE / GUILD_DELETE the bot reads, as
// slices of the payload.
type guildWire struct {
	ID, Unavailable, Members, Presences []byte
}

// decodeGuild splits a GUILD_CREATE or GUILD_DELETE payload.
func decodeGuild(raw []byte) (w guildWire, err error) {
	err = eachMember(raw, func(key string, v []byte) {
		switch key {
		case "id":
			w.ID = v
		case "unavailable":
			w.Unavailable = v
		case "members":
			w.Members = v
		case "presences":
			w.Presences = v
		}
	})
	return w, err
}

// memberChunk is a GUILD_MEMBERS_CHUNK as read; nothing in it aliases
// the payload, which may be a read buffer reused for the next frame
// (decode_frame.go).
type memberChunk struct {
	guildID      string // interned; "" when missing
	nonce        string
	index, count int64
	list         *memberList // members with their presences; release it when done
}

// decodeChunk reads a GUILD_MEMBERS_CHUNK payload (see readChunk). The
// caller releases c.list, also after an error.
func decodeChunk(raw []byte) (c memberChunk, err error) {
	d := jsonread.NewDecoder(raw)
	c, ok := readChunk(&d)
	if err := d.Finish(); err != nil {
		return c, err
	}
	if !ok {
		return c, jsonread.ErrNotObject
	}
	return c, nil
}

// readChunk reads a GUILD_MEMBERS_CHUNK payload at d in one pass; ok is
// false when it is not an object (or malformed: d.Err says so).
func readChunk(d *jsonread.Decoder) (c memberChunk, ok bool) {
	c.list = memberLists.Get().(*memberList)
	var gid, nonce, index, count []byte
	obj := d.Object(func(key string) {
		switch key {
		case "guild_id":
			gid = d.Skip()
		case "members":
			c.list.readMembers(d)
		case "presences":
			c.list.readPresences(d)
		case "chunk_index":
			index = d.Skip()
		case "chunk_count":
			count = d.Skip()
		case "nonce":
			nonce = d.Skip()
		}
	})
	c.list.join()
	if obj == nil {
		return c, false
	}
	c.guildID = guildIDOf(gid)
	c.nonce, _ = readString(nonce, false)
	c.index, _ = readInt(index)
	c.count, _ = readInt(count)
	return c, true
}

// memberRemoveWire is the part of GUILD_MEMBER_REMOVE the bot reads.
type memberRemoveWire struct {
	GuildID, UserID []byte
}

// decodeMemberRemove splits a GUILD_MEMBER_REMOVE payload.
func decodeMemberRemove(raw []byte) (w memberRemoveWire, err error) {
	err = eachMember(raw, func(key string, v []byte) {
		switch key {
		case "guild_id":
			w.GuildID = v
		case "user":
			w.UserID = nil
			_ = eachMember(v, func(key string, v []byte) {
				if key == "id" {
					w.UserID = v
				}
			})
		}
	})
	return w, err
}

// rateLimitedWire is a RATE_LIMITED payload, as slices of it.
type rateLimitedWire struct {
	RetryAfter, GuildID, Nonce []byte
}

// decodeRateLimited splits a RATE_LIMITED payload (its guild and nonce
// are in "meta").
func decodeRateLimited(raw []byte) (w rateLimitedWire, err error) {
	err = eachMember(raw, func(key string, v []byte) {
		switch key {
		case "retry_after":
			w.RetryAfter = v
		case "meta":
			_ = eachMember(v, func(key string, v []byte) {
				switch key {
				case "guild_id":
					w.GuildID = v
				case "nonce":
					w.Nonce = v
				}
			})
		}
	})
	return w, err
}

// decodeMember parses a member object (see readMember).
func decodeMember(raw json.RawMessage) (guildID string, m core.Member, err error) {
	d := jsonread.NewDecoder(raw)
	guildID, m, err = readMember(&d)
	if err := d.Finish(); err != nil {
		return guildID, core.Member{}, err
	}
	return guildID, m, err
}

// readMember reads a member object at d; presence is left for the
// caller. The guild id is interned and the nickname copied: the input is
// often a whole member chunk.
func readMember(d *jsonread.Decoder) (guildID string, m core.Member, err error) {
	var gid, nick, joined []byte
	userErr := errNoUserID
	obj := d.Object(func(key string) {
		switch key {
		case "guild_id":
			gid = d.Skip()
		case "user":
			m.User, userErr = readUser(d)
		case "nick":
			nick = d.Skip()
		case "joined_at":
			joined = d.Skip()
		}
	})
	if obj == nil {
		return "", core.Member{}, cmp.Or(d.Err(), jsonread.ErrNotObject)
	}
	guildID = guildIDOf(gid)
	if userErr != nil {
		return guildID, core.Member{}, userErr
	}
	m.Nick, _ = readString(nick, false)
	m.JoinedAt = readTime(joined)
	return guildID, m, nil
}

// memberList is a members list and a presences list read from one
// payload (a GUILD_MEMBERS_CHUNK, a GUILD_CREATE), in either order.
type memberList struct {
	members                  []core.Member
	presences                map[string]*core.Presence
	badMembers, badPresences int
}

// memberLists reuses the lists of member chunks: a chunk's thousand
// members are 180 KiB that would be garbage again after every chunk.
var memberLists = sync.Pool{New: func() any { return new(memberList) }}

// release empties l, dropping its references, and returns it to
// memberLists.
func (l *memberList) release() {
	clear(l.members)
	clear(l.presences)
	*l = memberList{members: l.members[:0], presences: l.presences}
	memberLists.Put(l)
}

// readMembers reads a list of member objects at d (replacing any read
// before: the last list named counts). Members that cannot be read are
// skipped and counted.
func (l *memberList) readMembers(d *jsonread.Decoder) {
	l.members, l.badMembers = l.members[:0], 0
	d.Array(func() {
		_, m, err := readMember(d)
		if err != nil {
			l.badMembers++
			return
		}
		l.members = append(l.members, m)
	})
}

// readPresences reads a list of presence objects at d, as readMembers.
func (l *memberList) readPresences(d *jsonread.Decoder) {
	if l.presences == nil {
		l.presences = make(map[string]*core.Presence, len(l.members))
	}
	clear(l.presences)
	l.badPresences = 0
	d.Array(func() {
		w, ok := readPresence(d)
		id := w.userID()
		if !ok || id == "" {
			l.badPresences++
			return
		}
		l.presences[id] = w.presence()
	})
}

// join gives each member its presence from the presences list (nil
// when it has none, which renders offline), and drops what aliases the
// payload: the presences list.
func (l *memberList) join() {
	for i := range l.members {
		l.members[i].Presence = l.presences[l.members[i].User.ID]
		l.members[i].SetPresence = true
	}
	clear(l.presences)
}

// bad counts the entries that could not be read.
func (l *memberList) bad() int { return l.badMembers + l.badPresences }

// decodeMembers parses a list of member objects and a list of presences
// (see memberList.join).
func decodeMembers(membersRaw, presencesRaw json.RawMessage) (members []core.Member, bad int) {
	var l memberList
	if len(membersRaw) > 0 {
		d := jsonread.NewDecoder(membersRaw)
		l.readMembers(&d)
	}
	if len(presencesRaw) > 0 {
		d := jsonread.NewDecoder(presencesRaw)
		l.readPresences(&d)
	}
	l.join()
	if l.members == nil {
		l.members = []core.Member{}
	}
	return l.members, l.bad()
}

// requireGuildID reads a required guild id, interned.
func requireGuildID(raw []byte) (string, error) {
	id := guildIDOf(raw)
	if id == "" {
		return "", fmt.Errorf("missing guild_id")
	}
	return id, nil
}
