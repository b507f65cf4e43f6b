package lantern

import (
	"time"

	"github.com/halyardhq/halyard/core"
)

// cardUser is what the card draws of one user, taken from the same sources
// as the Lantern user object (docs/compat/lantern.md §3) so that card and JSON agree.
type cardUser struct {
	ID             string
	Username       string
	GlobalName     string // "" when Discord has none
	AvatarURL      string // display_avatar_url
	AvatarStill    string // for an animated avatar, its still WebP; else ""
	DefaultAvatar  int    // default avatar index, for the drawn fallback
	Badges         []string
	Tag            *cardServerTag // nil when the user shows no server tag
	PlatformStatus core.Status    // what the status icon shows (docs/compat/lantern.md §4.5)
	Status         core.Status
	LastSeen       time.Time // zero when unknown
	Activity       *cardActivity
}

// cardServerTag is the user's primary guild tag (docs/compat/lantern.md §3.8).
type cardServerTag struct {
	Name    string
	IconURL string // "" without a badge
}

// cardActivity is the one activity the card shows: the first that is not a
// custom status, in Discord's order (docs/compat/lantern.md §4.3).
type cardActivity struct {
	Name     string
	Details  string
	State    string
	LargeURL string
	SmallURL string
	Start    int64 // Unix ms, 0 when absent
}

// newCardUser collects what the card needs from a user snapshot.
func newCardUser(u *core.User, hosts imageHosts) *cardUser {
	d := u.Discord.DiscordUser()
	disc := d.Discriminator
	if disc == "" {
		disc = "0"
	}
	cu := &cardUser{
		ID:            u.ID,
		Username:      d.Username,
		GlobalName:    d.GlobalName,
		AvatarURL:     hosts.avatarURL(u.ID, d.Avatar, disc),
		AvatarStill:   hosts.avatarStillURL(u.ID, d.Avatar),
		DefaultAvatar: defaultAvatarIndex(u.ID, disc),
	}
	cu.Status, cu.LastSeen = statusAndLastSeen(u)
	prof := parseProfile(d.JSON())
	if prof.PublicFlags != nil {
		cu.Badges = flagNames(*prof.PublicFlags)
	}
	if g := prof.PrimaryGuild; g != nil && g.IdentityEnabled != nil && *g.IdentityEnabled {
		tag := &cardServerTag{}
		if g.Tag != nil {
			tag.Name = *g.Tag
		}
		if g.IdentityGuildID != nil && g.Badge != nil {
			tag.IconURL = hosts.serverTagIconURL(*g.IdentityGuildID, *g.Badge)
		}
		cu.Tag = tag
	}
	cu.PlatformStatus = cardPlatformStatus(u)
	for _, a := range u.Activities() {
		if a.Type == 4 || a.Name == customStatus {
			continue
		}
		cu.Activity = &cardActivity{
			Name:     a.Name,
			Details:  a.Details,
			State:    a.State,
			LargeURL: hosts.largeImageURL(a.LargeImage, a.ApplicationID),
			SmallURL: hosts.smallImageURL(a.SmallImage, a.ApplicationID),
			Start:    a.Start,
		}
		break
	}
	return cu
}

// cardPlatformStatus is the status the icon shows: the first of desktop,
// mobile, web that is not offline (docs/compat/lantern.md §4.5). When Discord gave none of the
// three (a console-only session, a presence without client_status) the
// overall status is used instead of Lantern's "offline".
func cardPlatformStatus(u *core.User) core.Status {
	if u.Presence == nil {
		return core.StatusOffline
	}
	cs := u.Presence.Clients()
	for _, s := range []core.Status{cs.Desktop, cs.Mobile, cs.Web} {
		if s != "" && s != core.StatusOffline && s.Valid() {
			return s
		}
	}
	if cs.Desktop == "" && cs.Mobile == "" && cs.Web == "" {
		return u.Status()
	}
	return core.StatusOffline
}
