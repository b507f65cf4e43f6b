package discordsim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// The read routes a bot commonly calls besides members: a guild's
// channels and roles, a channel's recent messages, the bot's guilds, and
// member search. Their shapes follow Discord's API reference.

// channelHistory is how many messages per channel GET .../messages can
// return (Discord's largest page).
const channelHistory = 100

// storedMessage is one message kept for GET /channels/{c}/messages.
type storedMessage struct {
	id     uint64
	fields messageFields
}

// rememberLocked keeps a message for the channel's history, newest last.
func (s *Sim) rememberLocked(id uint64, f messageFields) {
	f.stripped = false
	h := append(s.history[f.channel], storedMessage{id: id, fields: f})
	if len(h) > channelHistory {
		h = append(h[:0:0], h[len(h)-channelHistory:]...)
	}
	s.history[f.channel] = h
}

func (s *Sim) restGuildChannels(w http.ResponseWriter, gidStr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guildLocked(w, gidStr)
	if g == nil {
		return
	}
	writeJSON(w, 200, []any{s.channelObject(g)})
}

func (s *Sim) restGuildRoles(w http.ResponseWriter, gidStr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guildLocked(w, gidStr)
	if g == nil {
		return
	}
	writeJSON(w, 200, s.guildObject(g)["roles"])
}

// restMyGuilds serves GET /users/@me/guilds: partial guilds, ascending by
// id, paged with before/after/limit (1–200, default 200).
func (s *Sim) restMyGuilds(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, before, after, ok := pageQuery(q, 200, 200)
	if !ok {
		writeError(w, 400, 50035, "Invalid Form Body")
		return
	}
	withCounts := q.Get("with_counts") == "true"
	s.mu.Lock()
	defer s.mu.Unlock()
	gs := slices.Clone(s.pop.guilds)
	slices.SortFunc(gs, func(a, b *guild) int {
		switch {
		case a.id < b.id:
			return -1
		case a.id > b.id:
			return 1
		}
		return 0
	})
	out := []map[string]any{}
	for _, g := range gs {
		if (after != 0 && g.id <= after) || (before != 0 && g.id >= before) {
			continue
		}
		if len(out) == limit {
			break
		}
		obj := s.guildObject(g)
		pg := map[string]any{
			"id": obj["id"], "name": obj["name"], "icon": obj["icon"], "banner": obj["banner"],
			"owner": g.ownerID == s.pop.botID, "permissions": everyonePerms, "features": obj["features"],
		}
		if withCounts {
			pg["approximate_member_count"] = g.count + 1
			pg["approximate_presence_count"] = s.onlineLocked(g) + 1
		}
		out = append(out, pg)
	}
	writeJSON(w, 200, out)
}

// onlineLocked counts g's members (bot aside) who are not offline.
func (s *Sim) onlineLocked(g *guild) int {
	online := 0
	for _, id := range s.pop.memberIDs(g) {
		if s.pop.presenceOf(id).Status != "offline" {
			online++
		}
	}
	return online
}

// restChannelMessages serves GET /channels/{c}/messages: newest first,
// limit 1–100 (default 50), before/after a message id.
func (s *Sim) restChannelMessages(w http.ResponseWriter, r *http.Request, cidStr string) {
	q := r.URL.Query()
	limit, before, after, ok := pageQuery(q, 50, 100)
	if !ok {
		writeError(w, 400, 50035, "Invalid Form Body")
		return
	}
	cid, _ := parseID(cidStr)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, _, ok := s.channelTargetLocked(cid); !ok {
		writeError(w, 404, 10003, "Unknown Channel")
		return
	}
	h := s.history[cid]
	out := []json.RawMessage{}
	if after != 0 && before == 0 {
		// Discord answers an after= page with the messages just after it,
		// still newest first.
		start, _ := slices.BinarySearchFunc(h, after+1, func(m storedMessage, id uint64) int { return cmpID(m.id, id) })
		page := h[start:min(len(h), start+limit)]
		for i := len(page) - 1; i >= 0; i-- {
			out = append(out, s.messageObject(page[i].id, page[i].fields))
		}
		writeJSON(w, 200, out)
		return
	}
	for i := len(h) - 1; i >= 0 && len(out) < limit; i-- {
		m := h[i]
		if (before != 0 && m.id >= before) || m.id <= after {
			continue
		}
		out = append(out, s.messageObject(m.id, m.fields))
	}
	writeJSON(w, 200, out)
}

func cmpID(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// restSearchMembers serves GET /guilds/{g}/members/search: members whose
// username or nickname starts with query (case-insensitive), limit 1–1000
// (default 1); query is required.
func (s *Sim) restSearchMembers(w http.ResponseWriter, r *http.Request, gidStr string) {
	q := r.URL.Query()
	limit, ok := queryInt(q.Get("limit"), 1, 1, 1000)
	if !ok || !q.Has("query") {
		writeError(w, 400, 50035, "Invalid Form Body")
		return
	}
	query := strings.ToLower(q.Get("query"))
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guildLocked(w, gidStr)
	if g == nil {
		return
	}
	out := []json.RawMessage{}
	for _, id := range s.pop.allMemberIDs(g) {
		if len(out) == limit {
			break
		}
		if s.matchesQuery(g, id, query) {
			m, _ := s.pop.member(g, id)
			out = append(out, m)
		}
	}
	writeJSON(w, 200, out)
}

// guildLocked returns the guild gidStr names, or answers 404 Unknown Guild
// and returns nil.
func (s *Sim) guildLocked(w http.ResponseWriter, gidStr string) *guild {
	g := s.pop.guildByString(gidStr)
	if g == nil {
		writeError(w, 404, 10004, "Unknown Guild")
	}
	return g
}

// pageQuery reads Discord's paging parameters: limit (1–max, def when
// absent), before and after (ids, 0 when absent); ok is false when one is
// malformed.
func pageQuery(q url.Values, def, max int) (limit int, before, after uint64, ok bool) {
	limit, okLimit := queryInt(q.Get("limit"), def, 1, max)
	before, okBefore := queryID(q.Get("before"))
	after, okAfter := queryID(q.Get("after"))
	return limit, before, after, okLimit && okBefore && okAfter
}

// queryInt reads an optional integer query parameter in [lo, hi].
func queryInt(v string, def, lo, hi int) (int, bool) {
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, false
	}
	return n, true
}

// queryID reads an optional snowflake query parameter; "" and "0" are 0.
func queryID(v string) (uint64, bool) {
	if v == "" || v == "0" {
		return 0, true
	}
	return parseID(v)
}
