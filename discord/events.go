package discord

import "github.com/diamondburned/arikawa/v3/utils/ws"

// The dispatches whose JSON the bot decodes itself (docs/compat/discord.md
// §6): arikawa's types drop fields the dialects echo and reject whole
// events on odd number types. Each keeps a private copy of the payload
// (ownPayload): the bytes arikawa hands to UnmarshalJSON may alias its
// shared read buffer.
type (
	// rawGuildCreate is a GUILD_CREATE payload.
	rawGuildCreate struct{ raw []byte }
	// rawGuildDelete is a GUILD_DELETE payload.
	rawGuildDelete struct{ raw []byte }
	// rawMembersChunk is a GUILD_MEMBERS_CHUNK payload.
	rawMembersChunk struct {
		raw     []byte
		decoded *memberChunk // read by the frame driver already (decode_frame.go)
	}
	// rawMemberAdd is a GUILD_MEMBER_ADD payload.
	rawMemberAdd struct{ raw []byte }
	// rawMemberUpdate is a GUILD_MEMBER_UPDATE payload.
	rawMemberUpdate struct{ raw []byte }
	// rawMemberRemove is a GUILD_MEMBER_REMOVE payload.
	rawMemberRemove struct{ raw []byte }
	// rawPresenceUpdate is a PRESENCE_UPDATE payload.
	rawPresenceUpdate struct{ raw []byte }
	// rawRateLimited is a RATE_LIMITED payload (unknown to arikawa 3.6.0).
	rawRateLimited struct{ raw []byte }
)

func (*rawGuildCreate) Op() ws.OpCode    { return 0 }
func (*rawGuildDelete) Op() ws.OpCode    { return 0 }
func (*rawMembersChunk) Op() ws.OpCode   { return 0 }
func (*rawMemberAdd) Op() ws.OpCode      { return 0 }
func (*rawMemberUpdate) Op() ws.OpCode   { return 0 }
func (*rawMemberRemove) Op() ws.OpCode   { return 0 }
func (*rawPresenceUpdate) Op() ws.OpCode { return 0 }
func (*rawRateLimited) Op() ws.OpCode    { return 0 }

func (*rawGuildCreate) EventType() ws.EventType    { return "GUILD_CREATE" }
func (*rawGuildDelete) EventType() ws.EventType    { return "GUILD_DELETE" }
func (*rawMembersChunk) EventType() ws.EventType   { return "GUILD_MEMBERS_CHUNK" }
func (*rawMemberAdd) EventType() ws.EventType      { return "GUILD_MEMBER_ADD" }
func (*rawMemberUpdate) EventType() ws.EventType   { return "GUILD_MEMBER_UPDATE" }
func (*rawMemberRemove) EventType() ws.EventType   { return "GUILD_MEMBER_REMOVE" }
func (*rawPresenceUpdate) EventType() ws.EventType { return "PRESENCE_UPDATE" }
func (*rawRateLimited) EventType() ws.EventType    { return "RATE_LIMITED" }

func (e *rawGuildCreate) UnmarshalJSON(b []byte) error { e.raw = ownPayload(b); return nil }
func (e *rawGuildDelete) UnmarshalJSON(b []byte) error { e.raw = ownPayload(b); return nil }
func (e *rawMembersChunk) UnmarshalJSON(b []byte) error {
	if e.decoded = takeChunk(b); e.decoded == nil {
		e.raw = ownPayload(b)
	}
	return nil
}

// chunk returns the chunk as read (decodeChunk).
func (e *rawMembersChunk) chunk() (memberChunk, error) {
	if e.decoded != nil {
		return *e.decoded, nil
	}
	return decodeChunk(e.raw)
}
func (e *rawMemberAdd) UnmarshalJSON(b []byte) error      { e.raw = ownPayload(b); return nil }
func (e *rawMemberUpdate) UnmarshalJSON(b []byte) error   { e.raw = ownPayload(b); return nil }
func (e *rawMemberRemove) UnmarshalJSON(b []byte) error   { e.raw = ownPayload(b); return nil }
func (e *rawPresenceUpdate) UnmarshalJSON(b []byte) error { e.raw = ownPayload(b); return nil }
func (e *rawRateLimited) UnmarshalJSON(b []byte) error    { e.raw = ownPayload(b); return nil }
