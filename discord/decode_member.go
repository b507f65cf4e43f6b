package discord

import (
	"encoding/json"
	"fmt"

	"github.com/halyardhq/halyard/core"
)

// memberWire is a guild member object (also GUILD_MEMBER_ADD/UPDATE, which
// add guild_id) with the fields the bot reads kept raw.
type memberWire struct {
	GuildID json.RawMessage `json:"guild_id"`
	User    json.RawMessage `json:"user"`
	Nick    json.RawMessage `json:"nick"`
}

// guildWire is the part of GUILD_CREATE / GUILD_DELETE the bot reads.
type guildWire struct {
	ID          json.RawMessage `json:"id"`
	Unavailable json.RawMessage `json:"unavailable"`
	Members     json.RawMessage `json:"members"`
	Presences   json.RawMessage `json:"presences"`
}

// chunkWire is a GUILD_MEMBERS_CHUNK payload.
type chunkWire struct {
	GuildID    json.RawMessage `json:"guild_id"`
	Members    json.RawMessage `json:"members"`
	Presences  json.RawMessage `json:"presences"`
	ChunkIndex json.RawMessage `json:"chunk_index"`
	ChunkCount json.RawMessage `json:"chunk_count"`
	Nonce      json.RawMessage `json:"nonce"`
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
func decodeMember(raw json.RawMessage) (guildID string, m core.Member, err error) {
	var w memberWire
	if err := unmarshalObject(raw, &w); err != nil {
		return "", m, err
	}
	guildID, _ = lenientSnowflake(w.GuildID)
	m.User, err = decodeUser(w.User)
	if err != nil {
		return guildID, m, err
	}
	m.Nick, _ = lenientString(w.Nick)
	return guildID, m, nil
}

// decodeMembers parses a list of member objects and attaches each one's
// presence from the presences list (nil when it has none, which renders
// offline). Members that cannot be read are skipped and counted in bad.
func decodeMembers(membersRaw, presencesRaw json.RawMessage) (members []core.Member, bad int) {
	items, _ := rawArray(membersRaw)
	presences := map[string]*core.Presence{}
	pitems, _ := rawArray(presencesRaw)
	for _, it := range pitems {
		w, err := decodePresenceWire(it)
		if err != nil {
			bad++
			continue
		}
		id := w.userID()
		if id == "" {
			bad++
			continue
		}
		presences[id] = w.presence()
	}
	members = make([]core.Member, 0, len(items))
	for _, it := range items {
		_, m, err := decodeMember(it)
		if err != nil {
			bad++
			continue
		}
		m.Presence = presences[m.User.ID]
		m.SetPresence = true
		members = append(members, m)
	}
	return members, bad
}

// guildID reads a required guild id.
func requireGuildID(raw json.RawMessage) (string, error) {
	id, _ := lenientSnowflake(raw)
	if id == "" {
		return "", fmt.Errorf("missing guild_id")
	}
	return id, nil
}
