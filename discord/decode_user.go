package discord

import (
	"encoding/json"
	"errors"

	"github.com/halyardhq/halyard/core"
)

// errNoUserID rejects a member or presence whose user has no usable id.
var errNoUserID = errors.New("user object without an id")

// decodeUser parses a Discord user object. Its JSON is kept verbatim, so
// fields Halyard does not name (primary_guild, collectibles, …) reach the
// dialects, and packed (core.PackedJSON: the values without the keys and
// nulls every user repeats) in a private allocation of its own (raw
// usually lies in a whole member chunk, which must not stay alive for one
// user); the parsed strings share it instead of holding their own.
func decodeUser(raw json.RawMessage) (core.DiscordUser, error) {
	var u core.DiscordUser
	if kind(raw) != '{' {
		return u, errNoUserID
	}
	var id, username, discriminator, globalName, avatar, bot []byte
	err := eachMember(raw, func(key string, v []byte) {
		switch key {
		case "id":
			id = v
		case "username":
			username = v
		case "discriminator":
			discriminator = v
		case "global_name":
			globalName = v
		case "avatar":
			avatar = v
		case "bot":
			bot = v
		}
	})
	if err != nil {
		return u, err
	}
	u.ID, _ = readSnowflake(id, true)
	if u.ID == "" {
		return core.DiscordUser{}, errNoUserID
	}
	u.Packed = packOwn(raw)
	p := u.Packed
	u.ID = p.Share(raw, u.ID)
	u.Username = shareString(p, raw, username)
	u.Discriminator = shareString(p, raw, discriminator)
	u.GlobalName = shareString(p, raw, globalName)
	u.Avatar = shareString(p, raw, avatar)
	u.Bot, _ = readBool(bot)
	return u, nil
}

// packOwn packs raw into an allocation of exactly its packed size.
func packOwn(raw []byte) core.PackedJSON {
	var scratch [1024]byte
	packed := core.PackJSON(scratch[:0], raw)
	return core.PackedJSONOf(clone(packed))
}

// shareString reads a string member of raw (see readString) sharing p,
// the packed form of raw.
func shareString(p core.PackedJSON, raw, v []byte) string {
	s, _ := readString(v, true)
	return p.Share(raw, s)
}
