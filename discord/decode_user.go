package discord

import (
	"cmp"
	"encoding/json"
	"errors"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/internal/jsonread"
)

// errNoUserID rejects a member or presence whose user has no usable id.
var errNoUserID = errors.New("user object without an id")

// decodeUser parses a Discord user object (see readUser).
func decodeUser(raw json.RawMessage) (core.DiscordUser, error) {
	d := jsonread.NewDecoder(raw)
	u, err := readUser(&d)
	if err := d.Finish(); err != nil {
		return core.DiscordUser{}, err
	}
	return u, err
}

// readUser reads a Discord user object at d. Its JSON is kept verbatim,
// so fields Halyard does not name (primary_guild, collectibles, …) reach
// the dialects, and packed (core.PackedJSON: the values without the keys
// and nulls every user repeats) in a private allocation of its own (the
// input usually is a whole member chunk, which must not stay alive for
// one user); the parsed strings share it instead of holding their own.
func readUser(d *jsonread.Decoder) (core.DiscordUser, error) {
	var u core.DiscordUser
	var id, username, discriminator, globalName, avatar, bot []byte
	raw := d.Object(func(key string) {
		switch key {
		case "id":
			id = d.Skip()
		case "username":
			username = d.Skip()
		case "discriminator":
			discriminator = d.Skip()
		case "global_name":
			globalName = d.Skip()
		case "avatar":
			avatar = d.Skip()
		case "bot":
			bot = d.Skip()
		}
	})
	if raw == nil {
		return u, cmp.Or(d.Err(), errNoUserID)
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
