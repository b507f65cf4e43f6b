package discord

import (
	"encoding/json"
	"errors"

	"github.com/halyardhq/halyard/core"
)

// errNoUserID rejects a member or presence whose user has no usable id.
var errNoUserID = errors.New("user object without an id")

// decodeUser parses a Discord user object. Raw is the object verbatim, so
// fields Halyard does not name (primary_guild, collectibles, …) reach the
// dialects. Raw is a private copy of exactly the object (raw usually lies
// in a whole member chunk, which must not stay alive for one user), and
// the parsed strings share that copy instead of holding their own.
func decodeUser(raw json.RawMessage) (core.DiscordUser, error) {
	var u core.DiscordUser
	if kind(raw) != '{' {
		return u, errNoUserID
	}
	own := json.RawMessage(clone(raw))
	var id, username, discriminator, globalName, avatar, bot []byte
	err := eachMember(own, func(key string, v []byte) {
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
	u.Raw = own
	u.Username, _ = readString(username, true)
	u.Discriminator, _ = readString(discriminator, true)
	u.GlobalName, _ = readString(globalName, true)
	u.Avatar, _ = readString(avatar, true)
	u.Bot, _ = readBool(bot)
	return u, nil
}
