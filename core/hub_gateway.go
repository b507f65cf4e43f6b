package core

import (
	"slices"
	"strings"
	"time"
)

// Member is what the gateway says about one guild member.
type Member struct {
	User DiscordUser
	Nick string
	// Presence replaces the user's presence when SetPresence is true;
	// nil then means "no presence" (offline). GUILD_CREATE and member
	// chunks set it; GUILD_MEMBER_ADD/UPDATE leave the presence alone.
	Presence    *Presence
	SetPresence bool
	// JoinedAt is when the user joined this guild (the member's
	// joined_at); zero when the gateway did not say. Lantern's
	// monitoring_since is the earliest across watched guilds.
	JoinedAt time.Time
}

// UpsertMember records that the user is a member of a watched guild and
// updates their profile (and presence when m.SetPresence). A user seen for
// the first time becomes monitored and MemberJoined is published; otherwise
// PresenceUpdated is published when anything changed.
func (h *Hub) UpsertMember(guildID string, m Member) {
	if m.User.ID == "" {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.upsertMemberLocked(guildID, m)
}

// upsertMemberLocked is UpsertMember with h.mu held for writing (and
// ApplyMember's: hub_records_cluster.go).
func (h *Hub) upsertMemberLocked(guildID string, m Member) {
	now := h.opts.Now()
	old, monitored := h.users.get(m.User.ID)
	prev, _ := h.recordOfLocked(m.User.ID)
	var nu *User
	if monitored {
		nu = old.clone()
	} else {
		// The decoder's id shares the user's packed JSON; the records must
		// not keep that copy alive once the profile changes. The
		// snapshot's own ID shares its current profile (sharedID).
		id := strings.Clone(m.User.ID)
		nu = &User{ID: id, KV: h.kvLocked(id)}
		rec := h.recordLocked(id, now)
		nu.SetMonitoringSince(rec.MonitoringSince)
		nu.SetLastSeen(rec.LastSeen)
	}
	if m.User.HasJSON() {
		nu.Discord = ProfileOf(m.User)
		if nu.Discord.holds(m.User.ID) {
			nu.ID = m.User.ID // the decoder's id shares the profile already
		} else {
			nu.ID = nu.Discord.sharedID(nu.ID)
		}
	}
	guilds, nick := nu.Guilds(), nu.Nick()
	if len(guilds) == 0 {
		guilds = h.oneGuildLocked(guildID).guilds
	} else if !slices.Contains(guilds, guildID) {
		guilds = append(slices.Clip(guilds), guildID)
	}
	if guilds[0] == guildID {
		nick = m.Nick
	}
	nu.member = h.membershipLocked(nu.member, guilds, nick)
	if !m.JoinedAt.IsZero() {
		nu.SetMonitoringSince(monitoringSince(nu, old, guildID, m.JoinedAt))
	}
	if m.SetPresence {
		nu.Presence = m.Presence
		h.touchLastSeenLocked(nu, old, now)
	}
	h.noteRecordLocked(nu, prev)
	switch {
	case !monitored:
		h.replace(nu, MemberJoined)
	case m.SetPresence, !nu.Discord.SameJSON(&old.Discord), nu.Nick() != old.Nick():
		// A fresh sync re-sends even an unchanged presence, as Lanyard does
		// (docs/compat/lanyard.md §3.6).
		h.replace(nu, PresenceUpdated)
	default:
		h.install(nu)
	}
}

// monitoringSince is the user's monitoring start once a member object
// for guildID says they joined it at joined: the guild join time, as
// Lantern renders it (docs: docs/compat/lantern.md §3.3), the earliest across the
// watched guilds. A user newly monitored, or in this one guild only, takes
// joined as it is (a rejoin moves it forward; an older stored start, or
// the first-seen time earlier versions stored, gives way); a user in
// several guilds keeps the earlier of the two, also after leaving one of
// them: their membership of the watched guilds has had no break since (a
// join time per guild and user would cost the hub memory for that alone).
func monitoringSince(nu, old *User, guildID string, joined time.Time) time.Time {
	joined = joined.UTC()
	if old == nil || (len(nu.Guilds()) == 1 && nu.Guilds()[0] == guildID) || nu.MonitoringSince().IsZero() {
		return joined
	}
	if joined.Before(nu.MonitoringSince()) {
		return joined
	}
	return nu.MonitoringSince()
}

// UpdatePresence replaces a monitored user's presence. The user object of a
// PRESENCE_UPDATE is partial, so the profile is left alone. Identical
// updates (one per shared guild) are published once.
func (h *Hub) UpdatePresence(userID string, p *Presence) {
	h.mu.Lock()
	defer h.mu.Unlock()
	old, ok := h.users.get(userID)
	if !ok {
		return
	}
	if p.Equal(old.Presence) {
		return
	}
	nu := old.clone()
	nu.Presence = p
	h.touchLastSeenLocked(nu, old, h.opts.Now())
	h.replace(nu, PresenceUpdated)
}

// UpdateUser replaces a monitored user's Discord profile (from a member
// update); it publishes PresenceUpdated when the profile changed.
func (h *Hub) UpdateUser(u DiscordUser) {
	h.mu.Lock()
	defer h.mu.Unlock()
	old, ok := h.users.get(u.ID)
	if !ok || old.Discord.SameJSONAs(&u) {
		return
	}
	nu := old.clone()
	nu.Discord = ProfileOf(u)
	nu.ID = nu.Discord.sharedID(nu.ID)
	h.replace(nu, PresenceUpdated)
}

// RemoveMember records that the user left a watched guild. A user in no
// watched guild is no longer monitored (MemberLeft); their KV and token stay.
func (h *Hub) RemoveMember(guildID, userID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.removeLocked(guildID, userID)
}

// PruneGuild removes from the guild every member for whom keep returns
// false: after a full member sync, those who left while Halyard was
// disconnected.
func (h *Hub) PruneGuild(guildID string, keep func(userID string) bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, u := range h.users.all() {
		if slices.Contains(u.Guilds(), guildID) && !keep(id) {
			h.removeLocked(guildID, id)
		}
	}
}

// RemoveGuild forgets a guild: the bot left it or it is no longer watched.
func (h *Hub) RemoveGuild(guildID string) {
	h.PruneGuild(guildID, func(string) bool { return false })
}

func (h *Hub) removeLocked(guildID, userID string) {
	old, ok := h.users.get(userID)
	if !ok || !slices.Contains(old.Guilds(), guildID) {
		return
	}
	if len(old.Guilds()) > 1 {
		nu := old.clone()
		nu.SetGuilds(slices.DeleteFunc(slices.Clone(old.Guilds()), func(g string) bool { return g == guildID }))
		h.install(nu) // no event: nothing a client sees changed
		return
	}
	h.keepRecordLocked(old)
	h.users.del(userID)
	h.publishLocked(Event{Type: MemberLeft, User: old})
}

// oneGuildLocked returns the shared membership of guildID without a
// nickname: most users are in one watched guild, and then they share one
// (it is read-only; appends to its list copy, as its capacity is 1).
func (h *Hub) oneGuildLocked(guildID string) *membership {
	if m, ok := h.oneGuild[guildID]; ok {
		return m
	}
	m := &membership{guilds: []string{guildID}}
	if h.oneGuild == nil {
		h.oneGuild = map[string]*membership{}
	}
	h.oneGuild[guildID] = m
	return m
}

// membershipLocked returns a membership of guilds and nick: cur when it
// says the same, the guild's shared one for one guild and no nickname, a
// new one otherwise.
func (h *Hub) membershipLocked(cur *membership, guilds []string, nick string) *membership {
	if cur != nil && cur.nick == nick && len(cur.guilds) == len(guilds) && (len(guilds) == 0 || &cur.guilds[0] == &guilds[0]) {
		return cur
	}
	if len(guilds) == 1 && nick == "" {
		return h.oneGuildLocked(guilds[0])
	}
	return &membership{guilds: guilds, nick: nick}
}

// clone copies the snapshot's fields (not its render cache).
func (u *User) clone() *User {
	return &User{ID: u.ID, Discord: u.Discord, Presence: u.Presence, KV: u.KV,
		member: u.member, since: u.since, seen: u.seen}
}

// touchLastSeenLocked marks the user seen now while their presence is not
// offline, and at the moment it turns offline.
func (h *Hub) touchLastSeenLocked(u, old *User, now time.Time) {
	wasOnline := old != nil && old.Status() != StatusOffline
	if u.Status() != StatusOffline || wasOnline {
		u.SetLastSeen(now)
	}
}
