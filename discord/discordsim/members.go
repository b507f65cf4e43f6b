package discordsim

import (
	"encoding/json"
	"strconv"
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

// chunkJob is one op 8 answer whose GUILD_MEMBERS_CHUNKs are still being
// sent. Guarded by Sim.mu.
type chunkJob struct {
	g         *guild
	ids       []uint64 // the members asked for, as found at the request
	notFound  []string // nil: no not_found key (only user_ids requests carry it)
	presences bool
	nonce     string
	next      int // the next chunk to build
	count     int
}

// chunksAhead is how many built chunks a connection may have waiting to
// be written. Discord streams a large guild's chunks over seconds as its
// guild process produces them (a 330 000-member guild takes ~30 s:
// discord.py#7932), so a HEARTBEAT_ACK waits behind a few chunks, not
// behind all of them. Building them all at once queued up to a gigabyte
// at a million members, delayed the ACK past arikawa's two missed beats
// and held Sim.mu for the whole build.
const chunksAhead = 2

// sendChunksLocked starts the GUILD_MEMBERS_CHUNKs (of at most 1000
// members) answering one op 8; they are built and dispatched as the
// connection drains (fillChunksLocked), after the chunks of earlier
// requests.
func (s *Sim) sendChunksLocked(ss *session, g *guild, ids []uint64, notFound []string, withPresences bool, nonce string) {
	count := max(1, (len(ids)+chunkSize-1)/chunkSize)
	ss.chunkJobs = append(ss.chunkJobs, &chunkJob{g: g, ids: ids, notFound: notFound, presences: withPresences, nonce: nonce, count: count})
	s.fillChunksLocked(ss)
}

// fillChunksLocked builds and dispatches pending chunks until
// chunksAhead are waiting on ss's connection. While ss is detached the
// rest wait for a RESUME. Sim.mu must be held.
func (s *Sim) fillChunksLocked(ss *session) {
	c := ss.conn
	for c != nil && ss.chunksQueued < chunksAhead && len(ss.chunkJobs) > 0 {
		job := ss.chunkJobs[0]
		d := s.chunkPayloadLocked(job, job.next)
		if job.next++; job.next == job.count {
			ss.chunkJobs[0] = nil
			ss.chunkJobs = ss.chunkJobs[1:]
		}
		ss.chunksQueued++
		at := ss.attached
		s.dispatchLocked(ss, "GUILD_MEMBERS_CHUNK", d, func() { s.chunkWritten(ss, c, at) })
	}
}

// chunkWritten runs on c's writer once a chunk queued during attachment
// at is on the wire.
func (s *Sim) chunkWritten(ss *session, c *gwConn, at uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss.conn != c || ss.attached != at {
		return // detached, or resumed since, which counts afresh
	}
	ss.chunksQueued--
	s.fillChunksLocked(ss)
}

// chunkPayloadLocked is chunk ci of job, byte for byte what json.Marshal
// gave for the map {guild_id, members, chunk_index, chunk_count[,
// not_found][, presences][, nonce]}, keys in the order it sorts them
// (chunk_count, chunk_index, guild_id, members, nonce, not_found,
// presences), written directly: the members and presences the simulator
// generates are already compact, and re-compacting them was most of its
// CPU at a million members. Members and presences are read when the
// chunk is built, so a member who left since the request is skipped and
// a presence is the current one, each after the dispatch announcing it.
func (s *Sim) chunkPayloadLocked(job *chunkJob, ci int) []byte {
	p := s.pop
	part := job.ids[min(ci*chunkSize, len(job.ids)):min((ci+1)*chunkSize, len(job.ids))]
	b := make([]byte, 0, 64+len(part)*1024)
	b = strconv.AppendInt(append(b, `{"chunk_count":`...), int64(job.count), 10)
	b = strconv.AppendInt(append(b, `,"chunk_index":`...), int64(ci), 10)
	b = appendIDString(append(b, `,"guild_id":`...), job.g.id)
	b = append(b, `,"members":[`...)
	first := true
	for _, id := range part {
		n := len(b)
		if !first {
			b = append(b, ',')
		}
		var ok bool
		if b, ok = p.appendSyntheticMember(b, job.g, id); !ok {
			m, found := p.member(job.g, id)
			if !found {
				b = b[:n]
				continue
			}
			b = appendCanonical(b, m)
		}
		first = false
	}
	b = append(b, ']')
	if job.nonce != "" {
		b = appendJSONString(append(b, `,"nonce":`...), job.nonce)
	}
	if ci == 0 && job.notFound != nil {
		b = append(b, `,"not_found":[`...)
		for k, id := range job.notFound {
			if k > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, id)
		}
		b = append(b, ']')
	}
	if job.presences {
		b = append(b, `,"presences":[`...)
		first := true
		for _, id := range part {
			if !p.isMember(job.g, id) {
				continue // as members: one presence per member found
			}
			n := len(b)
			if !first {
				b = append(b, ',')
			}
			var ok bool
			if b, ok = s.appendChunkPresence(b, id); !ok {
				b = b[:n]
				continue
			}
			first = false
		}
		b = append(b, ']')
	}
	return append(b, '}')
}
