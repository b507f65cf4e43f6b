package discord

import (
	"errors"
	"fmt"
	"time"
)

// onGuildCreate loads a watched guild's members (with their presences, or
// none) and asks for the full member list, which GUILD_CREATE lacks for
// large guilds.
func (b *Bot) onGuildCreate(raw []byte) error {
	w, err := decodeGuild(raw)
	if err != nil {
		return err
	}
	guildID, ok, err := b.watchedGuild(w.ID)
	if !ok {
		return err
	}
	if unavailable, _ := readBool(w.Unavailable); unavailable {
		return nil // in outage; its members stay as they were
	}
	members, bad := decodeMembers(w.Members, w.Presences)
	for _, m := range members {
		b.hub.UpsertMember(guildID, m)
	}
	nonce := b.sync.begin(guildID)
	b.req.requestAll(guildID, nonce)
	if bad > 0 {
		return fmt.Errorf("guild %s: %d members or presences unreadable", guildID, bad)
	}
	return nil
}

// onGuildDelete forgets a guild the bot left; an outage changes nothing.
func (b *Bot) onGuildDelete(raw []byte) error {
	w, err := decodeGuild(raw)
	if err != nil {
		return err
	}
	guildID, ok, err := b.watchedGuild(w.ID)
	if !ok {
		return err
	}
	if unavailable, _ := readBool(w.Unavailable); unavailable {
		return nil
	}
	b.sync.forget(guildID)
	b.hub.RemoveGuild(guildID)
	b.noteSynced()
	return nil
}

// onMembersChunk loads one chunk of members with their presences (as
// decodeChunk reads it; the chunk is released here). After the last chunk
// of an all-members request, members the chunks did not name left while
// the bot was away and are pruned.
func (b *Bot) onMembersChunk(c memberChunk, err error) error {
	defer c.list.release()
	if err != nil {
		return err
	}
	if c.guildID == "" {
		return errors.New("missing guild_id")
	}
	guildID := c.guildID
	if !b.watched(guildID) {
		return nil
	}
	members := c.list.members
	ids := make([]string, 0, len(members))
	for _, m := range members {
		if b.sync.wasRemoved(guildID, m.User.ID) {
			continue
		}
		b.hub.UpsertMember(guildID, m)
		ids = append(ids, m.User.ID)
	}
	if !b.sync.isPending(guildID, c.nonce) {
		// A user-id lookup (or an abandoned request) during a full sync:
		// these members are current and must survive its prune.
		for _, id := range ids {
			b.sync.memberAdded(guildID, id)
		}
	}
	if done := b.sync.noteChunk(guildID, c.nonce, int(c.index), int(c.count), ids); done != nil {
		b.hub.PruneGuild(guildID, done.keep)
		b.log.Info("discord: guild members synced", "guild", guildID, "members", done.seen.len())
		b.noteSynced()
	}
	if bad := c.list.bad(); bad > 0 {
		return fmt.Errorf("guild %s chunk %d: %d members or presences unreadable", guildID, c.index, bad)
	}
	return nil
}

// onMemberAdd records a new member and asks for their presence.
func (b *Bot) onMemberAdd(raw []byte) error {
	guildID, m, err := decodeMember(raw)
	if err != nil {
		return err
	}
	if guildID == "" {
		return errors.New("missing guild_id")
	}
	if !b.watched(guildID) {
		return nil
	}
	b.sync.memberAdded(guildID, m.User.ID)
	b.hub.UpsertMember(guildID, m)
	b.req.requestUser(guildID, m.User.ID)
	return nil
}

// onMemberUpdate replaces a member's user object and nickname; this is
// how profile changes arrive.
func (b *Bot) onMemberUpdate(raw []byte) error {
	guildID, m, err := decodeMember(raw)
	if err != nil {
		return err
	}
	if guildID == "" {
		return errors.New("missing guild_id")
	}
	if !b.watched(guildID) {
		return nil
	}
	b.hub.UpsertMember(guildID, m)
	return nil
}

// onMemberRemove records that a member left the guild.
func (b *Bot) onMemberRemove(raw []byte) error {
	w, err := decodeMemberRemove(raw)
	if err != nil {
		return err
	}
	guildID, err := requireGuildID(w.GuildID)
	if err != nil {
		return err
	}
	userID, _ := readSnowflake(w.UserID, false)
	if userID == "" {
		return errNoUserID
	}
	if !b.watched(guildID) {
		return nil
	}
	b.sync.memberRemoved(guildID, userID)
	b.hub.RemoveMember(guildID, userID)
	return nil
}

// onPresenceUpdate replaces a monitored user's presence. The event comes
// once per shared guild; the hub publishes identical ones once.
func (b *Bot) onPresenceUpdate(raw []byte) error {
	w, err := decodePresenceWire(raw)
	if err != nil {
		return err
	}
	userID := w.userID()
	if userID == "" {
		return errNoUserID
	}
	guildID, _ := readSnowflake(w.guildID, true)
	if guildID != "" && !b.watched(guildID) {
		return nil
	}
	b.hub.UpdatePresence(userID, w.presence())
	return nil
}

// onRateLimited retries an all-members request Discord refused (one per
// guild per 30 s) once the wait is over, unless it finished or was
// replaced meanwhile.
func (b *Bot) onRateLimited(raw []byte) error {
	w, err := decodeRateLimited(raw)
	if err != nil {
		return err
	}
	guildID, _ := readSnowflake(w.GuildID, false)
	nonce, _ := readString(w.Nonce, false)
	if guildID == "" || !b.sync.isPending(guildID, nonce) {
		return nil
	}
	secs, _ := readFloat(w.RetryAfter)
	wait := time.Duration(secs*float64(time.Second)) + 100*time.Millisecond
	wait = min(max(wait, 100*time.Millisecond), 2*time.Minute)
	b.log.Info("discord: member request rate limited", "guild", guildID, "retry_after", wait)
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-b.ctx.Done():
		case <-t.C:
			if b.sync.isPending(guildID, nonce) {
				b.req.requestAll(guildID, nonce)
			}
		}
	}()
	return nil
}

// watchedGuild reads a guild-scoped dispatch's required guild id. ok is
// false when it is missing (err says so) or names a guild Halyard does not
// watch.
func (b *Bot) watchedGuild(rawID []byte) (guildID string, ok bool, err error) {
	guildID, err = requireGuildID(rawID)
	if err != nil {
		return "", false, err
	}
	return guildID, b.watched(guildID), nil
}
