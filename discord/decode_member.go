package discord

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/halyardhq/halyard/core"
)

// memberWire is the part of GUILD_MEMBER_REMOVE the bot reads.
type memberWire struct {
	GuildID json.RawMessage `json:"guild_id"`
	User    json.RawMessage `json:"user"`
}

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

// chunkWire is a GUILD_MEMBERS_CHUNK payload, as slices of it.
type chunkWire struct {
	GuildID, Members, Presences, ChunkIndex, ChunkCount, Nonce []byte
}

// decodeChunk splits a GUILD_MEMBERS_CHUNK payload.
func decodeChunk(raw []byte) (w chunkWire, err error) {
	err = eachMember(raw, func(key string, v []byte) {
		switch key {
		case "guild_id":
			w.GuildID = v
		case "members":
			w.Members = v
		case "presences":
			w.Presences = v
		case "chunk_index":
			w.ChunkIndex = v
		case "chunk_count":
			w.ChunkCount = v
		case "nonce":
			w.Nonce = v
		}
	})
	return w, err
}

// rateLimitedWire is a RATE_LIMITED payload.
type rateLimitedWire struct {
	Opcode     json.RawMessage `json:"opcode"`
	RetryAfter json.RawMessage `json:"retry_after"`
	Meta       struct {
		GuildID json.RawMessage `json:"guild_id"`
		Nonce   json.RawMessage `json:"nonce"`
	} `json:"meta"`
}

// unmarshalObject decodes a payload that must be a JSON object into w.
func unmarshalObject(raw []byte, w any) error {
	if kind(raw) != '{' {
		return errNotObject
	}
	return json.Unmarshal(raw, w)
}

// decodeMember parses a member object; presence is left for the caller.
// The guild id is interned and the nickname copied: raw is often one
// member of a large chunk.
func decodeMember(raw json.RawMessage) (guildID string, m core.Member, err error) {
	var gid, user, nick, joined []byte
	if err := eachMember(raw, func(key string, v []byte) {
		switch key {
		case "guild_id":
			gid = v
		case "user":
			user = v
		case "nick":
			nick = v
		case "joined_at":
			joined = v
		}
	}); err != nil {
		return "", m, err
	}
	guildID = guildIDOf(gid)
	m.User, err = decodeUser(user)
	if err != nil {
		return guildID, m, err
	}
	m.Nick, _ = fastString(nick, false)
	m.JoinedAt = fastTime(joined)
	return guildID, m, nil
}

// fastTime reads an ISO 8601 timestamp (Discord's "2021-03-01T12:00:00.000000+00:00");
// null, absent or unreadable is the zero time: the join time is then
// unknown, never a reason to drop the member.
func fastTime(raw []byte) time.Time {
	s, ok := fastString(raw, false)
	if !ok || s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// decodeMembers parses a list of member objects and attaches each one's
// presence from the presences list (nil when it has none, which renders
// offline). Members that cannot be read are skipped and counted in bad.
func decodeMembers(membersRaw, presencesRaw json.RawMessage) (members []core.Member, bad int) {
	presences := map[string]*core.Presence{}
	eachElement(presencesRaw, func(it []byte) {
		w, err := decodePresenceWire(it)
		if err != nil {
			bad++
			return
		}
		id := w.userID()
		if id == "" {
			bad++
			return
		}
		w.copyActs = true
		presences[id] = w.presence()
	})
	eachElement(membersRaw, func(it []byte) {
		_, m, err := decodeMember(it)
		if err != nil {
			bad++
			return
		}
		m.Presence = presences[m.User.ID]
		m.SetPresence = true
		members = append(members, m)
	})
	if members == nil {
		members = []core.Member{}
	}
	return members, bad
}

// requireGuildID reads a required guild id, interned.
func requireGuildID(raw []byte) (string, error) {
	id := guildIDOf(raw)
	if id == "" {
		return "", fmt.Errorf("missing guild_id")
	}
	return id, nil
}
