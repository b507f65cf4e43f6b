package discordsim

import (
	"encoding/json"
	"strings"
	"time"
)

// requestMembers is op 8's payload (docs/compat/discord.md §3.1).
type requestMembers struct {
	GuildID   json.RawMessage `json:"guild_id"`
	Query     *string         `json:"query"`
	Limit     int             `json:"limit"`
	Presences bool            `json:"presences"`
	UserIDs   json.RawMessage `json:"user_ids"`
	Nonce     string          `json:"nonce"`
}

const chunkSize = 1000

// parseIDList reads a snowflake or an array of snowflakes, each a string or number.
func parseIDList(raw json.RawMessage) ([]uint64, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, true
	}
	var list []json.RawMessage
	if raw[0] == '[' {
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, false
		}
	} else {
		list = []json.RawMessage{raw}
	}
	out := make([]uint64, 0, len(list))
	for _, r := range list {
		id, ok := parseID(strings.Trim(string(r), `"`))
		if !ok {
			return nil, false
		}
		out = append(out, id)
	}
	return out, true
}

func (s *Sim) handleRequestMembers(c *gwConn, raw json.RawMessage) (int, string) {
	var req requestMembers
	if err := json.Unmarshal(raw, &req); err != nil {
		return 4002, "Error while decoding payload."
	}
	gids, ok := parseIDList(req.GuildID)
	if !ok || len(gids) != 1 {
		return 4001, "Invalid payload for op 8."
	}
	uids, ok := parseIDList(req.UserIDs)
	if !ok {
		return 4001, "Invalid payload for op 8."
	}
	if len(req.Nonce) > 32 {
		req.Nonce = ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := c.sess
	g := s.pop.byID[gids[0]]
	if ss == nil || g == nil || !ss.ownsGuild(g.id) {
		return 0, ""
	}
	withPresences := req.Presences && ss.intents&IntentGuildPresences != 0
	var found []uint64
	var notFound []string
	switch {
	case req.UserIDs != nil && string(req.UserIDs) != "null":
		if len(uids) > 100 {
			uids = uids[:100]
		}
		for _, id := range uids {
			if id == s.pop.botID || s.pop.isMember(g, id) {
				found = append(found, id)
			} else {
				notFound = append(notFound, fmtID(id))
			}
		}
		if notFound == nil {
			notFound = []string{}
		}
	case req.Query != nil && *req.Query == "" && req.Limit == 0:
		if ss.intents&IntentGuildMembers == 0 {
			break
		}
		if w := s.cfg.MemberRequestWindow; w > 0 {
			if last, ok := s.lastAll[g.id]; ok && time.Since(last) < w {
				retry := (w - time.Since(last)).Seconds()
				b, _ := json.Marshal(map[string]any{"opcode": 8, "retry_after": retry,
					"meta": map[string]any{"guild_id": fmtID(g.id), "nonce": req.Nonce}})
				s.dispatchLocked(ss, "RATE_LIMITED", b, nil)
				return 0, ""
			}
			s.lastAll[g.id] = time.Now()
		}
		found = s.pop.allMemberIDs(g)
	case req.Query != nil:
		limit := req.Limit
		if limit <= 0 || limit > 100 {
			limit = 100
		}
		q := strings.ToLower(*req.Query)
		for _, id := range s.pop.allMemberIDs(g) {
			if len(found) >= limit {
				break
			}
			if s.matchesQuery(g, id, q) {
				found = append(found, id)
			}
		}
	default:
		return 4001, "Invalid payload for op 8."
	}
	s.sendChunksLocked(ss, g, found, notFound, withPresences, req.Nonce)
	return 0, ""
}

func (s *Sim) matchesQuery(g *guild, id uint64, q string) bool {
	u, _ := s.pop.user(id)
	var user struct {
		Username string `json:"username"`
	}
	_ = json.Unmarshal(u, &user)
	if strings.HasPrefix(strings.ToLower(user.Username), q) {
		return true
	}
	nick, _ := s.pop.memberInfo(g, id)
	return nick != "" && strings.HasPrefix(strings.ToLower(nick), q)
}

// sendChunksLocked dispatches GUILD_MEMBERS_CHUNKs of at most 1000 members.
func (s *Sim) sendChunksLocked(ss *session, g *guild, ids []uint64, notFound []string, withPresences bool, nonce string) {
	count := max(1, (len(ids)+chunkSize-1)/chunkSize)
	for ci := 0; ci < count; ci++ {
		part := ids[min(ci*chunkSize, len(ids)):min((ci+1)*chunkSize, len(ids))]
		members := make([]json.RawMessage, 0, len(part))
		var presences []json.RawMessage
		if withPresences {
			presences = []json.RawMessage{}
		}
		for _, id := range part {
			m, ok := s.pop.member(g, id)
			if !ok {
				continue
			}
			members = append(members, m)
			if withPresences {
				if pr := s.pop.presenceOf(id); pr.Status != "offline" {
					presences = append(presences, s.presenceJSON(id, pr, 0, nil))
				}
			}
		}
		chunk := map[string]any{"guild_id": fmtID(g.id), "members": members, "chunk_index": ci, "chunk_count": count}
		if ci == 0 && notFound != nil {
			chunk["not_found"] = notFound
		}
		if presences != nil {
			chunk["presences"] = presences
		}
		if nonce != "" {
			chunk["nonce"] = nonce
		}
		b, _ := json.Marshal(chunk)
		s.dispatchLocked(ss, "GUILD_MEMBERS_CHUNK", b, nil)
	}
}
