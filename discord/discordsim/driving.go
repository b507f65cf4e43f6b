package discordsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"
)

var validStatus = map[string]bool{"online": true, "idle": true, "dnd": true, "offline": true}

// presenceInput is the PRESENCE_UPDATE `d` accepted by UpdatePresence.
type presenceInput struct {
	User         json.RawMessage   `json:"user"`
	GuildID      *string           `json:"guild_id"`
	Status       *string           `json:"status"`
	Activities   json.RawMessage   `json:"activities"`
	ClientStatus map[string]string `json:"client_status"`
}

// UpdatePresence applies a PRESENCE_UPDATE `d` object and dispatches it,
// once per guild the user shares with the bot (or only guild_id if set),
// to sessions with GUILD_PRESENCES on the owning shard. user.id is
// required; absent status/activities/client_status keep their current
// values. Unknown users, bad JSON and statuses outside
// online/idle/dnd/offline are errors.
func (s *Sim) UpdatePresence(d json.RawMessage) error {
	var in presenceInput
	if err := json.Unmarshal(d, &in); err != nil {
		return fmt.Errorf("discordsim: presence: %w", err)
	}
	var user map[string]json.RawMessage
	if err := json.Unmarshal(in.User, &user); err != nil || user == nil {
		return errors.New("discordsim: presence: user object required")
	}
	var idStr string
	if err := json.Unmarshal(user["id"], &idStr); err != nil {
		return errors.New("discordsim: presence: user.id must be a snowflake string")
	}
	uid, ok := parseID(idStr)
	if !ok {
		return errors.New("discordsim: presence: bad user.id")
	}
	if in.Status != nil && !validStatus[*in.Status] {
		return fmt.Errorf("discordsim: presence: bad status %q", *in.Status)
	}
	for k, v := range in.ClientStatus {
		if !validStatus[v] || v == "offline" {
			return fmt.Errorf("discordsim: presence: bad client_status %s=%q", k, v)
		}
	}
	if in.Activities != nil && string(in.Activities) != "null" {
		var acts []json.RawMessage
		if err := json.Unmarshal(in.Activities, &acts); err != nil {
			return errors.New("discordsim: presence: activities must be an array")
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pop
	if !p.knownUser(uid) {
		return fmt.Errorf("discordsim: presence: unknown user %d", uid)
	}
	guilds := p.userGuilds(uid)
	if in.GuildID != nil {
		g := p.guildByString(*in.GuildID)
		if g == nil || !p.isMember(g, uid) {
			return fmt.Errorf("discordsim: presence: user %d is not in guild %s", uid, *in.GuildID)
		}
		guilds = []*guild{g}
	}
	cur := p.presenceOf(uid)
	next := &presence{Status: cur.Status, ClientStatus: maps.Clone(cur.ClientStatus), Activities: cur.Activities}
	if in.Status != nil {
		next.Status = *in.Status
	}
	if in.Activities != nil && string(in.Activities) != "null" {
		next.Activities = append(json.RawMessage(nil), in.Activities...)
	}
	if in.ClientStatus != nil {
		next.ClientStatus = maps.Clone(in.ClientStatus)
	} else if in.Status != nil && next.Status != "offline" {
		if len(next.ClientStatus) == 0 {
			next.ClientStatus = map[string]string{"desktop": next.Status}
		} else {
			for k := range next.ClientStatus {
				next.ClientStatus[k] = next.Status
			}
		}
	}
	if next.Status == "offline" {
		next.ClientStatus, next.Activities = map[string]string{}, json.RawMessage("[]")
	}
	if len(user) > 1 {
		p.mergeUser(uid, user)
	}
	p.pres[uid] = next
	for _, g := range guilds {
		s.broadcastGuildLocked(g.id, IntentGuildPresences, "PRESENCE_UPDATE", s.presenceJSON(uid, next, g.id, in.User))
	}
	return nil
}

// mergeUser overlays the given fields on uid's stored user object.
func (p *population) mergeUser(uid uint64, fields map[string]json.RawMessage) {
	cur := map[string]json.RawMessage{}
	if u, ok := p.user(uid); ok {
		_ = json.Unmarshal(u, &cur)
	}
	maps.Copy(cur, fields)
	b, _ := json.Marshal(cur)
	p.users[uid] = b
}

// parseMember splits a member object into its user ID, user object and other fields.
func parseMember(member json.RawMessage) (uint64, json.RawMessage, map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(member, &m); err != nil || m == nil {
		return 0, nil, nil, errors.New("discordsim: member must be a JSON object")
	}
	var u struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(m["user"], &u); err != nil {
		return 0, nil, nil, errors.New("discordsim: member.user object required")
	}
	uid, ok := parseID(u.ID)
	if !ok {
		return 0, nil, nil, errors.New("discordsim: member.user.id must be a snowflake string")
	}
	user := m["user"]
	delete(m, "user")
	delete(m, "guild_id")
	return uid, user, m, nil
}

// withGuildID prepends "guild_id" to a JSON object.
func withGuildID(gid uint64, obj []byte) []byte {
	out := []byte(`{"guild_id":"` + fmtID(gid) + `"`)
	if len(obj) > 2 {
		out = append(out, ',')
		return append(out, obj[1:]...)
	}
	return append(out, '}')
}

// AddMember adds (or re-adds) a member to a guild and dispatches
// GUILD_MEMBER_ADD to sessions with GUILD_MEMBERS. member is a Discord
// member object with "user"; missing joined_at/roles get defaults.
func (s *Sim) AddMember(guildID string, member json.RawMessage) error {
	uid, user, fields, err := parseMember(member)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pop
	g := p.guildByString(guildID)
	if g == nil {
		return fmt.Errorf("discordsim: unknown guild %q", guildID)
	}
	if uid == p.botID {
		return errors.New("discordsim: cannot add the bot")
	}
	var uf map[string]json.RawMessage
	_ = json.Unmarshal(user, &uf)
	switch {
	case len(uf) > 1:
		p.users[uid] = append(json.RawMessage(nil), user...)
	case !p.knownUser(uid):
		p.users[uid] = placeholderUser(uid)
	}
	defaults := map[string]any{"roles": []string{}, "joined_at": discordTime(time.Now()), "nick": nil, "avatar": nil,
		"premium_since": nil, "deaf": false, "mute": false, "flags": 0, "pending": false, "communication_disabled_until": nil}
	for k, v := range defaults {
		if _, ok := fields[k]; !ok {
			fields[k], _ = json.Marshal(v)
		}
	}
	was := p.isMember(g, uid)
	delete(g.removed, uid)
	g.ov[uid], _ = json.Marshal(fields)
	if !was {
		g.count++
		g.sorted, g.withBot = nil, nil
	}
	m, _ := p.member(g, uid)
	s.broadcastGuildLocked(g.id, IntentGuildMembers, "GUILD_MEMBER_ADD", withGuildID(g.id, m))
	return nil
}

// UpdateMember replaces a member's user object (when given) and overlays
// the other member fields, then dispatches GUILD_MEMBER_UPDATE.
func (s *Sim) UpdateMember(guildID string, member json.RawMessage) error {
	uid, user, fields, err := parseMember(member)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pop
	g := p.guildByString(guildID)
	if g == nil {
		return fmt.Errorf("discordsim: unknown guild %q", guildID)
	}
	if !p.isMember(g, uid) {
		return fmt.Errorf("discordsim: user %d is not in guild %s", uid, guildID)
	}
	var uf map[string]json.RawMessage
	_ = json.Unmarshal(user, &uf)
	if len(uf) > 1 {
		p.users[uid] = append(json.RawMessage(nil), user...)
	}
	cur, _ := p.member(g, uid)
	var merged map[string]json.RawMessage
	_ = json.Unmarshal(cur, &merged)
	delete(merged, "user")
	maps.Copy(merged, fields)
	g.ov[uid], _ = json.Marshal(merged)
	m, _ := p.member(g, uid)
	s.broadcastGuildLocked(g.id, IntentGuildMembers, "GUILD_MEMBER_UPDATE", withGuildID(g.id, m))
	return nil
}

// RemoveMember removes a member and dispatches GUILD_MEMBER_REMOVE.
func (s *Sim) RemoveMember(guildID, userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pop
	g := p.guildByString(guildID)
	if g == nil {
		return fmt.Errorf("discordsim: unknown guild %q", guildID)
	}
	uid, ok := parseID(userID)
	if !ok || !p.isMember(g, uid) {
		return fmt.Errorf("discordsim: user %q is not in guild %s", userID, guildID)
	}
	if uid == p.botID {
		return errors.New("discordsim: the bot leaves a guild by GUILD_DELETE, not as a member")
	}
	g.removed[uid] = true
	delete(g.ov, uid)
	g.count--
	g.sorted, g.withBot = nil, nil
	u, _ := p.user(uid)
	b, _ := json.Marshal(map[string]any{"guild_id": fmtID(g.id), "user": u})
	s.broadcastGuildLocked(g.id, IntentGuildMembers, "GUILD_MEMBER_REMOVE", b)
	return nil
}
