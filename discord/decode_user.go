package discord

import (
	"encoding/json"
	"errors"

	"github.com/halyardhq/halyard/core"
)

// errNoUserID rejects a member or presence whose user has no usable id.
var errNoUserID = errors.New("user object without an id")

// userWire is a user object with every field kept raw, so an odd type
// skips only that field.
type userWire struct {
	ID            json.RawMessage `json:"id"`
	Username      json.RawMessage `json:"username"`
	Discriminator json.RawMessage `json:"discriminator"`
	GlobalName    json.RawMessage `json:"global_name"`
	Avatar        json.RawMessage `json:"avatar"`
	Bot           json.RawMessage `json:"bot"`
}

// decodeUser parses a Discord user object. Raw is the object verbatim, so
// fields Halyard does not name (primary_guild, collectibles, …) reach the
// dialects.
func decodeUser(raw json.RawMessage) (core.DiscordUser, error) {
	var u core.DiscordUser
	if kind(raw) != '{' {
		return u, errNoUserID
	}
	var w userWire
	if err := json.Unmarshal(raw, &w); err != nil {
		return u, err
	}
	id, _ := lenientSnowflake(w.ID)
	if id == "" {
		return u, errNoUserID
	}
	u.Raw = raw
	u.ID = id
	u.Username, _ = lenientString(w.Username)
	u.Discriminator, _ = lenientString(w.Discriminator)
	u.GlobalName, _ = lenientString(w.GlobalName)
	u.Avatar, _ = lenientString(w.Avatar)
	u.Bot, _ = lenientBool(w.Bot)
	return u, nil
}
