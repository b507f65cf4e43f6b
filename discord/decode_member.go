package discord

import (
	"encoding/json"
	"fmt"

	"github.com/halyardhq/halyard/core"
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
	m.Nick, _ = readString(nick, false)
	m.JoinedAt = readTime(joined)
	return guildID, m, nil
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
