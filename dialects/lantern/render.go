package lantern

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/halyardhq/halyard/core"
)

// discordCDN is the CDN base of every image URL in the user object: part
// of the wire format (docs/compat/lantern.md §3.3), whatever CDN the server itself fetches from.
const discordCDN = "https://cdn.discordapp.com"

// RenderUser renders u as Lantern's user object (docs/compat/lantern.md §3) at time now. Keys are
// in Lantern's order: metadata, active_platforms, activities, storage,
// server_tag, status, last_seen_at. The Spotify clock values are those of
// now; Dialect.UserJSON refreshes them on every read.
func RenderUser(u *core.User, now time.Time) []byte {
	prof := parseProfile(u.Discord.JSON())
	b := make([]byte, 0, 1024)
	b = append(b, `{"metadata":`...)
	b = appendMetadata(b, u, &prof)
	b = append(b, `,"active_platforms":`...)
	b = appendPlatforms(b, u, now)
	b = append(b, `,"activities":[`...)
	for i, a := range u.Activities() {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendActivity(b, &a)
	}
	b = append(b, `],"storage":`...)
	b = appendKV(b, u.KV)
	b = append(b, `,"server_tag":`...)
	b = appendServerTag(b, prof.PrimaryGuild)
	status, lastSeen := statusAndLastSeen(u)
	b = append(b, `,"status":`...)
	b = appendString(b, string(status))
	b = append(b, `,"last_seen_at":`...)
	b = appendTime(b, lastSeen)
	return append(b, '}')
}

// profile holds the Discord user fields core does not parse.
type profile struct {
	PublicFlags  *int64        `json:"public_flags"`
	PrimaryGuild *primaryGuild `json:"primary_guild"`
}

// primaryGuild is Discord's primary_guild (the server tag).
type primaryGuild struct {
	IdentityEnabled *bool   `json:"identity_enabled"`
	IdentityGuildID *string `json:"identity_guild_id"`
	Tag             *string `json:"tag"`
	Badge           *string `json:"badge"`
}

func parseProfile(raw json.RawMessage) profile {
	var p profile
	_ = json.Unmarshal(raw, &p) // a malformed field stays absent; it never breaks the user
	return p
}

// appendMetadata appends docs/compat/lantern.md §3.3's object.
func appendMetadata(b []byte, u *core.User, prof *profile) []byte {
	dv := u.Discord.DiscordUser()
	du := &dv
	disc := du.Discriminator
	if disc == "" {
		disc = "0"
	}
	avatarURL := ""
	if du.Avatar != "" {
		ext := ".webp"
		if len(du.Avatar) > 2 && du.Avatar[:2] == "a_" {
			ext = ".gif"
		}
		avatarURL = discordCDN + "/avatars/" + u.ID + "/" + du.Avatar + ext
	}
	display := avatarURL
	if display == "" {
		display = discordCDN + "/embed/avatars/" + strconv.Itoa(defaultAvatarIndex(u.ID, disc)) + ".png"
	}
	b = append(b, `{"id":`...)
	b = appendString(b, u.ID)
	b = append(b, `,"username":`...)
	b = appendString(b, du.Username)
	b = append(b, `,"discriminator":`...)
	b = appendString(b, disc)
	b = append(b, `,"global_name":`...)
	b = appendNullable(b, du.GlobalName)
	b = append(b, `,"avatar":`...)
	b = appendNullable(b, du.Avatar)
	b = append(b, `,"avatar_url":`...)
	b = appendNullable(b, avatarURL)
	b = append(b, `,"display_avatar_url":`...)
	b = appendString(b, display)
	b = append(b, `,"bot":`...)
	b = appendBool(b, du.Bot)
	b = append(b, `,"flags":{"human_readable":[`...)
	if prof.PublicFlags != nil {
		for i, name := range flagNames(*prof.PublicFlags) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, name)
		}
	}
	b = append(b, ']')
	if prof.PublicFlags != nil {
		b = append(b, `,"bitfield":`...)
		b = strconv.AppendInt(b, *prof.PublicFlags, 10)
	}
	b = append(b, `},"monitoring_since":`...)
	b = appendTime(b, u.MonitoringSince())
	return append(b, '}')
}

// defaultAvatarIndex is Discord's default avatar for a user without one:
// (id >> 22) mod 6 for migrated users, discriminator mod 5 for the rest.
func defaultAvatarIndex(id, disc string) int {
	if disc == "0" {
		n, _ := strconv.ParseUint(id, 10, 64)
		return int((n >> 22) % 6)
	}
	n, _ := strconv.Atoi(disc)
	return n % 5
}

// userFlags are discord.js's UserFlags names, in iteration order (docs/compat/lantern.md §3.3).
var userFlags = []struct {
	bit  int64
	name string
}{
	{1, "Staff"}, {2, "Partner"}, {4, "Hypesquad"}, {8, "BugHunterLevel1"}, {16, "MFASMS"},
	{32, "PremiumPromoDismissed"}, {64, "HypeSquadOnlineHouse1"}, {128, "HypeSquadOnlineHouse2"},
	{256, "HypeSquadOnlineHouse3"}, {512, "PremiumEarlySupporter"}, {1024, "TeamPseudoUser"},
	{8192, "HasUnreadUrgentMessages"}, {16384, "BugHunterLevel2"}, {65536, "VerifiedBot"},
	{131072, "VerifiedDeveloper"}, {262144, "CertifiedModerator"}, {524288, "BotHTTPInteractions"},
	{1048576, "Spammer"}, {2097152, "DisablePremium"}, {4194304, "ActiveDeveloper"},
	{1 << 44, "Quarantined"}, {1 << 50, "Collaborator"}, {1 << 51, "RestrictedCollaborator"},
}

// flagNames returns the names of the set public flags, in table order;
// unknown bits have no name.
func flagNames(bits int64) []string {
	var out []string
	for _, f := range userFlags {
		if bits&f.bit != 0 {
			out = append(out, f.name)
		}
	}
	return out
}

// appendKV appends the user's storage (docs/compat/lantern.md §3.7) in insertion order, as
// Lantern returns it.
func appendKV(b []byte, kv core.KV) []byte {
	b = append(b, '{')
	first := true
	for k, v := range kv.All() {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, k)
		b = append(b, ':')
		b = appendString(b, v)
	}
	return append(b, '}')
}

// appendServerTag appends docs/compat/lantern.md §3.8's object, or null.
func appendServerTag(b []byte, g *primaryGuild) []byte {
	if g == nil || g.IdentityEnabled == nil || !*g.IdentityEnabled {
		return append(b, "null"...)
	}
	b = append(b, `{"guild_id":`...)
	b = appendStringPtr(b, g.IdentityGuildID)
	b = append(b, `,"name":`...)
	b = appendStringPtr(b, g.Tag)
	b = append(b, `,"icon_url":`...)
	if g.Badge == nil || *g.Badge == "" || g.IdentityGuildID == nil {
		b = append(b, "null"...)
	} else {
		b = appendString(b, discordCDN+"/guild-tag-badges/"+*g.IdentityGuildID+"/"+*g.Badge+".webp")
	}
	return append(b, '}')
}

// statusAndLastSeen applies docs/compat/lantern.md §3.9 as decided in §9: an offline user with a
// recorded last-seen time shows it; everyone else shows their status (always
// present, offline without a presence) and no time.
func statusAndLastSeen(u *core.User) (core.Status, time.Time) {
	s := u.Status()
	if s == core.StatusOffline && !u.LastSeen().IsZero() {
		return s, u.LastSeen()
	}
	return s, time.Time{}
}
