package discordsim

import (
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"strings"
)

// userObject is a Discord user as the gateway sends it (docs/compat/discord.md §5).
type userObject struct {
	ID                   string           `json:"id"`
	Username             string           `json:"username"`
	Discriminator        string           `json:"discriminator"`
	GlobalName           *string          `json:"global_name"`
	Avatar               *string          `json:"avatar"`
	Bot                  bool             `json:"bot,omitempty"`
	PublicFlags          int              `json:"public_flags"`
	Flags                int              `json:"flags"`
	Banner               *string          `json:"banner"`
	AccentColor          *int             `json:"accent_color"`
	AvatarDecorationData *decoration      `json:"avatar_decoration_data"`
	Collectibles         *json.RawMessage `json:"collectibles"`
	DisplayNameStyles    *json.RawMessage `json:"display_name_styles"`
	PrimaryGuild         *guildTag        `json:"primary_guild"`
	Clan                 *guildTag        `json:"clan"`
}

type decoration struct {
	Asset     string `json:"asset"`
	SkuID     string `json:"sku_id"`
	ExpiresAt *int64 `json:"expires_at"`
}

type guildTag struct {
	IdentityGuildID *string `json:"identity_guild_id"`
	IdentityEnabled *bool   `json:"identity_enabled"`
	Tag             *string `json:"tag"`
	Badge           *string `json:"badge"`
}

var (
	adjectives = []string{"swift", "quiet", "lucky", "brave", "sleepy", "cosmic", "neon", "salty", "fuzzy", "golden", "hidden", "rapid", "silver", "wild", "mellow", "crimson"}
	nouns      = []string{"otter", "falcon", "anchor", "comet", "maple", "pixel", "harbor", "fox", "lynx", "koi", "raven", "sprout", "tide", "ember", "quasar", "mango"}
	publicBits = []int{0, 0, 0, 0, 1 << 6, 1 << 7, 1 << 8, 1 << 22, 1 << 9, 1 << 3}
	tags       = []string{"HLYD", "GG", "OWL", "DEV", "MEOW", "SHIP"}
)

// hexHash is a 32-hex-digit image hash.
func hexHash(rng *rand.Rand) string {
	var b [16]byte
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return hex.EncodeToString(b[:])
}

// genUser derives synthetic member i's user object from (seed, i).
func (p *population) genUser(i int) json.RawMessage {
	u := p.genUserObject(i)
	return appendUser(nil, &u)
}

// genUserObject draws synthetic member i's user from (seed, i).
func (p *population) genUserObject(i int) userObject {
	rng := rand.New(rand.NewPCG(p.seed, uint64(i)*4+1))
	id := p.userID(i)
	adj, noun := adjectives[rng.IntN(len(adjectives))], nouns[rng.IntN(len(nouns))]
	u := userObject{
		ID:            fmtID(id),
		Username:      adj + noun + strconv.Itoa(i),
		Discriminator: "0",
	}
	if rng.IntN(100) < 80 {
		gn := strings.ToUpper(adj[:1]) + adj[1:] + " " + strings.ToUpper(noun[:1]) + noun[1:]
		u.GlobalName = &gn
	}
	switch r := rng.IntN(100); {
	case r < 15:
	case r < 30:
		a := "a_" + hexHash(rng)
		u.Avatar = &a
	default:
		a := hexHash(rng)
		u.Avatar = &a
	}
	u.PublicFlags = publicBits[rng.IntN(len(publicBits))]
	u.Flags = u.PublicFlags
	if rng.IntN(100) < 12 {
		u.AvatarDecorationData = &decoration{Asset: "a_" + hexHash(rng), SkuID: fmtID(makeSnowflake(1700000000000+rng.Int64N(5e10), rng.Uint64()))}
	}
	if rng.IntN(100) < 5 {
		c := json.RawMessage(`{"nameplate":{"sku_id":"` + fmtID(makeSnowflake(1720000000000, rng.Uint64())) +
			`","asset":"nameplates/nameplates/twilight/","label":"","palette":"cobalt"}}`)
		u.Collectibles = &c
	}
	if rng.IntN(100) < 10 {
		g := p.guilds[rng.IntN(len(p.guilds))]
		gid, on, tag, badge := fmtID(g.id), true, tags[rng.IntN(len(tags))], hexHash(rng)
		t := &guildTag{IdentityGuildID: &gid, IdentityEnabled: &on, Tag: &tag, Badge: &badge}
		u.PrimaryGuild, u.Clan = t, t
	}
	return u
}

// appendUser appends u as json.Marshal encodes it. Its raw fields
// (Collectibles, DisplayNameStyles) must already be compact JSON without
// HTML characters, as the generator writes them.
func appendUser(b []byte, u *userObject) []byte {
	b = appendKey(append(b, '{'), "id", true)
	b = appendJSONString(b, u.ID)
	b = appendJSONString(appendKey(b, "username", false), u.Username)
	b = appendJSONString(appendKey(b, "discriminator", false), u.Discriminator)
	b = appendOptString(appendKey(b, "global_name", false), u.GlobalName)
	b = appendOptString(appendKey(b, "avatar", false), u.Avatar)
	if u.Bot {
		b = append(appendKey(b, "bot", false), "true"...)
	}
	b = strconv.AppendInt(appendKey(b, "public_flags", false), int64(u.PublicFlags), 10)
	b = strconv.AppendInt(appendKey(b, "flags", false), int64(u.Flags), 10)
	b = appendOptString(appendKey(b, "banner", false), u.Banner)
	b = appendKey(b, "accent_color", false)
	if u.AccentColor == nil {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendInt(b, int64(*u.AccentColor), 10)
	}
	b = appendKey(b, "avatar_decoration_data", false)
	if d := u.AvatarDecorationData; d == nil {
		b = append(b, "null"...)
	} else {
		b = appendJSONString(appendKey(append(b, '{'), "asset", true), d.Asset)
		b = appendJSONString(appendKey(b, "sku_id", false), d.SkuID)
		b = appendKey(b, "expires_at", false)
		if d.ExpiresAt == nil {
			b = append(b, "null"...)
		} else {
			b = strconv.AppendInt(b, *d.ExpiresAt, 10)
		}
		b = append(b, '}')
	}
	b = appendOptRaw(appendKey(b, "collectibles", false), u.Collectibles)
	b = appendOptRaw(appendKey(b, "display_name_styles", false), u.DisplayNameStyles)
	b = appendGuildTag(appendKey(b, "primary_guild", false), u.PrimaryGuild)
	b = appendGuildTag(appendKey(b, "clan", false), u.Clan)
	return append(b, '}')
}

func appendOptRaw(b []byte, r *json.RawMessage) []byte {
	if r == nil || *r == nil {
		return append(b, "null"...)
	}
	return append(b, *r...)
}

func appendGuildTag(b []byte, t *guildTag) []byte {
	if t == nil {
		return append(b, "null"...)
	}
	b = appendOptString(appendKey(append(b, '{'), "identity_guild_id", true), t.IdentityGuildID)
	b = appendKey(b, "identity_enabled", false)
	if t.IdentityEnabled == nil {
		b = append(b, "null"...)
	} else {
		b = appendBool(b, *t.IdentityEnabled)
	}
	b = appendOptString(appendKey(b, "tag", false), t.Tag)
	b = appendOptString(appendKey(b, "badge", false), t.Badge)
	return append(b, '}')
}

// placeholderUser is the user created on the fly for an unknown ID (SendDM).
func placeholderUser(id uint64) json.RawMessage {
	s := fmtID(id)
	suffix := s
	if len(suffix) > 6 {
		suffix = suffix[len(suffix)-6:]
	}
	b, _ := json.Marshal(userObject{ID: s, Username: "user" + suffix, Discriminator: "0"})
	return b
}
