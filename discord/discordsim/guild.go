package discordsim

import (
	"encoding/json"
)

const everyonePerms = "2248473465835073"

// guildObject is g as GET /guilds/{g} returns it (no members).
func (s *Sim) guildObject(g *guild) map[string]any {
	gid := fmtID(g.id)
	roles := []map[string]any{
		role(g.roleIDs[0], "@everyone", 0, everyonePerms, 0, false),
		role(g.roleIDs[1], "Member", 0x2ecc71, "0", 1, false),
		role(g.roleIDs[2], "Moderator", 0xe67e22, "1099511627775", 2, true),
		role(g.roleIDs[3], "Supporter", 0xf47fff, "0", 3, true),
	}
	return map[string]any{
		"id": gid, "name": g.name, "icon": g.icon, "icon_hash": g.icon, "splash": nil, "discovery_splash": nil,
		"banner": nil, "description": nil, "owner_id": fmtID(g.ownerID), "region": "deprecated",
		"afk_channel_id": nil, "afk_timeout": 300, "widget_enabled": false, "widget_channel_id": nil,
		"verification_level": 1, "default_message_notifications": 1, "explicit_content_filter": 2,
		"roles": roles, "emojis": []any{}, "stickers": []any{}, "features": []string{"COMMUNITY", "NEWS"},
		"mfa_level": 0, "application_id": nil, "system_channel_id": fmtID(g.channelID), "system_channel_flags": 0,
		"rules_channel_id": nil, "max_presences": nil, "max_members": 500000, "vanity_url_code": nil,
		"premium_tier": 0, "premium_subscription_count": 0, "preferred_locale": "en-US",
		"public_updates_channel_id": nil, "max_video_channel_users": 25, "nsfw_level": 0, "nsfw": false,
		"premium_progress_bar_enabled": false, "safety_alerts_channel_id": nil, "latest_onboarding_question_id": nil,
	}
}

func role(id uint64, name string, color int, perms string, pos int, hoist bool) map[string]any {
	return map[string]any{
		"id": fmtID(id), "name": name, "color": color, "colors": map[string]any{"primary_color": color, "secondary_color": nil, "tertiary_color": nil},
		"hoist": hoist, "icon": nil, "unicode_emoji": nil, "position": pos, "permissions": perms,
		"managed": false, "mentionable": false, "flags": 0,
	}
}

func (s *Sim) channelObject(g *guild) map[string]any {
	return map[string]any{
		"id": fmtID(g.channelID), "type": 0, "guild_id": fmtID(g.id), "name": "general", "position": 0,
		"permission_overwrites": []any{}, "topic": "Presence talk", "nsfw": false, "last_message_id": nil,
		"rate_limit_per_user": 0, "parent_id": nil, "flags": 0,
	}
}

// presenceJSON is a PRESENCE_UPDATE-shaped object for uid; guildID 0 omits guild_id.
func (s *Sim) presenceJSON(uid uint64, pr *presence, guildID uint64, user json.RawMessage) []byte {
	if user == nil {
		user = json.RawMessage(`{"id":"` + fmtID(uid) + `"}`)
	}
	acts := pr.Activities
	if len(acts) == 0 {
		acts = json.RawMessage("[]")
	}
	if s.cfg.Hostile {
		acts = hostileActivities(acts, uid)
	}
	m := map[string]any{"user": user, "status": pr.Status, "client_status": pr.ClientStatus, "activities": acts}
	if guildID != 0 {
		m["guild_id"] = fmtID(guildID)
	}
	if s.cfg.Hostile {
		m["_sim_unknown"] = map[string]any{"nested": []int{1, 2}}
		m["broadcast"] = nil
	}
	b, _ := json.Marshal(m)
	return b
}

// appendChunkPresence appends uid's presence as a GUILD_MEMBERS_CHUNK
// carries it (no guild_id); ok is false, b unchanged, when uid is
// offline: chunks leave offline members' presences out.
func (s *Sim) appendChunkPresence(b []byte, uid uint64) ([]byte, bool) {
	p := s.pop
	pr, changed := p.pres[uid]
	if !changed {
		i, ok := p.userIndex(uid)
		if !ok {
			return b, false // the bot, or a user added at run time: offline
		}
		if !s.cfg.Hostile {
			d := p.genPresenceDraw(i)
			if d.status == "offline" {
				return b, false
			}
			return appendPresenceDraw(b, uid, &d), true
		}
		pr = p.genPresence(i)
	}
	if pr.Status == "offline" {
		return b, false
	}
	// Activities set through UpdatePresence are the caller's bytes, which
	// encoding/json compacts and escapes; Hostile rewrites them.
	return append(b, s.presenceJSON(uid, pr, 0, nil)...), true
}

// guildCreatePayload builds GUILD_CREATE for ss, applying intents,
// large_threshold and the FullGuildLimit (75k) rule (docs/compat/discord.md §3.1).
func (s *Sim) guildCreatePayload(ss *session, g *guild) []byte {
	p := s.pop
	obj := s.guildObject(g)
	count := g.count + 1 // the bot
	large := count > ss.largeThreshold
	obj["joined_at"] = discordTime(p.botJoined(g))
	obj["large"] = large
	obj["unavailable"] = false
	obj["member_count"] = count
	obj["channels"] = []any{s.channelObject(g)}
	for _, k := range []string{"threads", "voice_states", "stage_instances", "guild_scheduled_events", "soundboard_sounds", "embedded_activities"} {
		obj[k] = []any{}
	}
	members := []json.RawMessage{p.botMember(g)}
	presences := []json.RawMessage{}
	withPresences := ss.intents&IntentGuildPresences != 0
	if withPresences && count <= s.cfg.FullGuildLimit {
		for _, uid := range p.memberIDs(g) {
			pr := p.presenceOf(uid)
			online := pr.Status != "offline"
			include := !large || online
			if !include {
				nick, hasRole := p.memberInfo(g, uid)
				include = nick != "" || hasRole
			}
			if include {
				m, _ := p.member(g, uid)
				members = append(members, m)
			}
			if online || !large {
				presences = append(presences, s.presenceJSON(uid, pr, 0, nil))
			}
		}
	}
	obj["members"] = members
	obj["presences"] = presences
	b, _ := json.Marshal(obj)
	return b
}
