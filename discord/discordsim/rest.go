package discordsim

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	var b []byte
	switch v := v.(type) {
	case []byte:
		b = v
	case json.RawMessage:
		b = v
	default:
		b, _ = json.Marshal(v)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeError writes Discord's error body {"message","code"}.
func writeError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, map[string]any{"message": msg, "code": code})
}

// restPath normalises a REST path: collapses "//", strips the API prefix.
func restPath(p string) []string {
	for strings.Contains(p, "//") {
		p = strings.ReplaceAll(p, "//", "/")
	}
	for _, pre := range []string{"/api/v10", "/api/v9", "/api/v8", "/api"} {
		if p == pre || strings.HasPrefix(p, pre+"/") {
			p = p[len(pre):]
			break
		}
	}
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

func readBody(r *http.Request) ([]byte, error) {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		if err := r.ParseMultipartForm(8 << 20); err != nil {
			return nil, err
		}
		return []byte(r.FormValue("payload_json")), nil
	}
	return io.ReadAll(io.LimitReader(r.Body, 1<<20))
}

func (s *Sim) serveREST(w http.ResponseWriter, r *http.Request) {
	seg := restPath(r.URL.Path)
	m := r.Method
	is := func(method string, pattern ...string) bool {
		if m != method || len(seg) != len(pattern) {
			return false
		}
		for i, p := range pattern {
			if p != "*" && p != seg[i] {
				return false
			}
		}
		return true
	}
	if !s.rl.take(w, m, seg) {
		return
	}
	// Routes authenticated by their own token.
	switch {
	case is("GET", "gateway"):
		writeJSON(w, 200, map[string]any{"url": s.GatewayURL()})
		return
	case is("POST", "interactions", "*", "*", "callback"):
		s.restCallback(w, r, seg[1], seg[2])
		return
	case len(seg) >= 3 && seg[0] == "webhooks":
		s.restWebhook(w, r, seg)
		return
	}
	if !s.checkAuth(r.Header.Get("Authorization")) {
		writeError(w, http.StatusUnauthorized, 0, "401: Unauthorized")
		return
	}
	switch {
	case is("GET", "gateway", "bot"):
		writeJSON(w, 200, map[string]any{"url": s.GatewayURL(), "shards": s.cfg.Shards, "session_start_limit": s.StartLimit()})
	case is("GET", "oauth2", "applications", "@me"), is("GET", "applications", "@me"):
		writeJSON(w, 200, s.applicationObject())
	case len(seg) >= 3 && seg[0] == "applications" && seg[len(seg)-1] == "commands":
		s.restCommands(w, r, seg)
	case is("GET", "users", "@me"):
		writeJSON(w, 200, s.pop.botUser())
	case is("POST", "users", "@me", "channels"):
		s.restCreateDM(w, r)
	case is("GET", "users", "*"):
		s.withUser(w, seg[1], func(u json.RawMessage) { writeJSON(w, 200, u) })
	case is("GET", "guilds", "*"):
		s.restGuild(w, r, seg[1])
	case is("GET", "guilds", "*", "members", "search"):
		s.restSearchMembers(w, r, seg[1])
	case is("GET", "guilds", "*", "members", "*"):
		s.restMember(w, seg[1], seg[3])
	case is("GET", "guilds", "*", "members"):
		s.restMembers(w, r, seg[1])
	case is("GET", "guilds", "*", "channels"):
		s.restGuildChannels(w, seg[1])
	case is("GET", "guilds", "*", "roles"):
		s.restGuildRoles(w, seg[1])
	case is("GET", "users", "@me", "guilds"):
		s.restMyGuilds(w, r)
	case is("GET", "channels", "*", "messages"):
		s.restChannelMessages(w, r, seg[1])
	case is("GET", "channels", "*"):
		s.restChannel(w, seg[1])
	case is("POST", "channels", "*", "messages"):
		s.restSendMessage(w, r, seg[1])
	default:
		writeError(w, http.StatusNotFound, 0, "404: Not Found")
	}
}

func (s *Sim) checkAuth(h string) bool {
	tok, ok := strings.CutPrefix(h, "Bot ")
	return ok && tok == s.cfg.Token
}

func (s *Sim) applicationObject() map[string]any {
	id := fmtID(s.pop.botID)
	return map[string]any{
		"id": id, "name": "Halyard", "icon": nil, "description": "Presence server (discordsim)",
		"summary": "", "type": nil, "bot_public": true, "bot_require_code_grant": false,
		"verify_key": "7e1c0ffee0ddba11c0ffee0ddba11c0ffee0ddba11c0ffee0ddba11c0ffee0d",
		"flags":      s.applicationFlags(), "hook": true, "is_monetized": false, "team": nil,
		"owner": map[string]any{"id": fmtID(s.pop.userIDOrBot()), "username": "owner", "discriminator": "0", "avatar": nil, "flags": 0},
		"bot":   s.pop.botUser(), "tags": []string{}, "redirect_uris": []string{}, "interactions_endpoint_url": nil,
		"approximate_guild_count": len(s.pop.guilds),
	}
}

func (p *population) userIDOrBot() uint64 {
	if p.n > 0 {
		return p.userID(0)
	}
	return p.botID
}

func (s *Sim) withUser(w http.ResponseWriter, idStr string, fn func(json.RawMessage)) {
	id, ok := parseID(idStr)
	if !ok {
		writeError(w, 404, 10013, "Unknown User")
		return
	}
	s.mu.Lock()
	u, ok := s.pop.user(id)
	s.mu.Unlock()
	if !ok {
		writeError(w, 404, 10013, "Unknown User")
		return
	}
	fn(u)
}

func (s *Sim) restGuild(w http.ResponseWriter, r *http.Request, gidStr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guildLocked(w, gidStr)
	if g == nil {
		return
	}
	obj := s.guildObject(g)
	if r.URL.Query().Get("with_counts") == "true" {
		obj["approximate_member_count"] = g.count + 1
		obj["approximate_presence_count"] = s.onlineLocked(g) + 1
	}
	writeJSON(w, 200, obj)
}

func (s *Sim) restMember(w http.ResponseWriter, gidStr, uidStr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guildLocked(w, gidStr)
	if g == nil {
		return
	}
	uid, _ := parseID(uidStr)
	m, ok := s.pop.member(g, uid)
	if !ok {
		writeError(w, 404, 10007, "Unknown Member")
		return
	}
	writeJSON(w, 200, m)
}

func (s *Sim) restMembers(w http.ResponseWriter, r *http.Request, gidStr string) {
	q := r.URL.Query()
	limit := 1
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, 400, 50035, "Invalid Form Body")
			return
		}
		limit = n
	}
	var after uint64
	if v := q.Get("after"); v != "" && v != "0" {
		var ok bool
		if after, ok = parseID(v); !ok {
			writeError(w, 400, 50035, "Invalid Form Body")
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guildLocked(w, gidStr)
	if g == nil {
		return
	}
	ids := s.pop.allMemberIDs(g)
	start, _ := slices.BinarySearch(ids, after+1)
	out := make([]json.RawMessage, 0, limit)
	for _, id := range ids[start:min(len(ids), start+limit)] {
		m, _ := s.pop.member(g, id)
		out = append(out, m)
	}
	writeJSON(w, 200, out)
}

func (s *Sim) restCreateDM(w http.ResponseWriter, r *http.Request) {
	body, _ := readBody(r)
	var req struct {
		RecipientID string `json:"recipient_id"`
	}
	_ = json.Unmarshal(body, &req)
	uid, ok := parseID(req.RecipientID)
	if !ok {
		writeError(w, 400, 50035, "Invalid Form Body")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.pop.knownUser(uid) || uid == s.pop.botID {
		writeError(w, 400, 50007, "Cannot send messages to this user")
		return
	}
	writeJSON(w, 200, s.dmChannelObject(s.dmChannelLocked(uid), uid))
}

func (s *Sim) restChannel(w http.ResponseWriter, cidStr string) {
	cid, _ := parseID(cidStr)
	s.mu.Lock()
	defer s.mu.Unlock()
	g, uid, ok := s.channelTargetLocked(cid)
	switch {
	case !ok:
		writeError(w, 404, 10003, "Unknown Channel")
	case g != nil:
		writeJSON(w, 200, s.channelObject(g))
	default:
		writeJSON(w, 200, s.dmChannelObject(cid, uid))
	}
}

// outgoingMessage is the body of POST /channels/{c}/messages and webhook posts.
type outgoingMessage struct {
	Content *string         `json:"content"`
	Embeds  json.RawMessage `json:"embeds"`
	Nonce   json.RawMessage `json:"nonce"`
}

func parseOutgoing(body []byte) (outgoingMessage, error) {
	var m outgoingMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return m, err
	}
	if m.Content != nil && len([]rune(*m.Content)) > 2000 {
		return m, errors.New("content too long")
	}
	if len(m.Embeds) > 0 && string(m.Embeds) != "null" {
		var e []json.RawMessage
		if err := json.Unmarshal(m.Embeds, &e); err != nil || len(e) > 10 {
			return m, errors.New("bad embeds")
		}
		if len(e) == 0 {
			m.Embeds = nil
		}
	} else {
		m.Embeds = nil
	}
	return m, nil
}

func (m outgoingMessage) content() string {
	if m.Content == nil {
		return ""
	}
	return *m.Content
}

func (s *Sim) restSendMessage(w http.ResponseWriter, r *http.Request, cidStr string) {
	body, err := readBody(r)
	if err != nil {
		writeError(w, 400, 50035, "Invalid Form Body")
		return
	}
	msg, err := parseOutgoing(body)
	if err != nil {
		writeError(w, 400, 50035, "Invalid Form Body")
		return
	}
	if msg.content() == "" && msg.Embeds == nil {
		writeError(w, 400, 50006, "Cannot send an empty message")
		return
	}
	cid, _ := parseID(cidStr)
	s.mu.Lock()
	defer s.mu.Unlock()
	g, uid, ok := s.channelTargetLocked(cid)
	if !ok {
		writeError(w, 404, 10003, "Unknown Channel")
		return
	}
	var nonce string
	_ = json.Unmarshal(msg.Nonce, &nonce)
	if nonce == "" && len(msg.Nonce) > 0 && msg.Nonce[0] != '"' && string(msg.Nonce) != "null" {
		nonce = string(msg.Nonce)
	}
	id := s.ids.next()
	f := messageFields{channel: cid, guild: g, author: s.pop.botID, content: msg.content(), embeds: msg.Embeds, nonce: nonce}
	s.recordLocked(cid, uid, msg, id)
	s.broadcastMessageLocked(id, f)
	writeJSON(w, 200, s.messageObject(id, f))
}

func (s *Sim) recordLocked(cid, recipient uint64, msg outgoingMessage, id uint64) {
	rec := Message{ChannelID: fmtID(cid), Content: msg.content(), Embeds: json.RawMessage("[]"), CreatedAt: snowflakeTime(id)}
	if msg.Embeds != nil {
		rec.Embeds = append(json.RawMessage(nil), msg.Embeds...)
	}
	if recipient != 0 {
		rec.RecipientID = fmtID(recipient)
	}
	s.msgs = append(s.msgs, rec)
}

func (s *Sim) restCallback(w http.ResponseWriter, r *http.Request, idStr, token string) {
	body, err := readBody(r)
	if err != nil {
		writeError(w, 400, 50035, "Invalid Form Body")
		return
	}
	id, _ := parseID(idStr)
	s.mu.Lock()
	err = s.answerInteractionLocked(id, token, body)
	s.mu.Unlock()
	var ie *errInteraction
	if errors.As(err, &ie) {
		writeError(w, ie.status, ie.code, ie.msg)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// restWebhook serves interaction follow-ups: PATCH/GET .../messages/@original and POST /webhooks/{app}/{token}.
func (s *Sim) restWebhook(w http.ResponseWriter, r *http.Request, seg []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, err := s.interactionByTokenLocked(seg[2])
	if err != nil || seg[1] != fmtID(s.pop.botID) {
		writeError(w, 404, 10015, "Unknown Webhook")
		return
	}
	original := len(seg) == 5 && seg[3] == "messages" && seg[4] == "@original"
	switch {
	case original && (r.Method == "PATCH" || r.Method == "GET"):
		if !in.answered {
			writeError(w, 404, 10008, "Unknown Message")
			return
		}
		var cb struct {
			Type int             `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		_ = json.Unmarshal(in.response, &cb)
		if r.Method == "PATCH" {
			body, err := readBody(r)
			if err != nil || json.Unmarshal(body, &map[string]any{}) != nil {
				writeError(w, 400, 50035, "Invalid Form Body")
				return
			}
			cb.Data = body
			in.response, _ = json.Marshal(cb)
		}
		var msg outgoingMessage
		_ = json.Unmarshal(cb.Data, &msg)
		writeJSON(w, 200, s.messageObject(in.id, messageFields{channel: in.channel, guild: in.guild, author: s.pop.botID, content: msg.content(), embeds: msg.Embeds}))
	case len(seg) == 3 && r.Method == "POST":
		body, err := readBody(r)
		msg, perr := parseOutgoing(body)
		if err != nil || perr != nil || (msg.content() == "" && msg.Embeds == nil) {
			writeError(w, 400, 50006, "Cannot send an empty message")
			return
		}
		id := s.ids.next()
		var recipient uint64
		if in.guild == nil {
			recipient = in.user
		}
		s.recordLocked(in.channel, recipient, msg, id)
		in.followups++
		writeJSON(w, 200, s.messageObject(id, messageFields{channel: in.channel, guild: in.guild, author: s.pop.botID, content: msg.content(), embeds: msg.Embeds}))
	default:
		writeError(w, 404, 0, "404: Not Found")
	}
}

// restCommands serves GET/PUT/POST /applications/{app}[/guilds/{g}]/commands.
func (s *Sim) restCommands(w http.ResponseWriter, r *http.Request, seg []string) {
	if seg[1] != fmtID(s.pop.botID) {
		writeError(w, 403, 50001, "Missing Access")
		return
	}
	var gid uint64
	switch len(seg) {
	case 3:
	case 5:
		if seg[2] != "guilds" {
			writeError(w, 404, 0, "404: Not Found")
			return
		}
		id, ok := parseID(seg[3])
		if !ok || s.pop.byID[id] == nil {
			writeError(w, 404, 10004, "Unknown Guild")
			return
		}
		gid = id
	default:
		writeError(w, 404, 0, "404: Not Found")
		return
	}
	body, err := readBody(r)
	if err != nil {
		writeError(w, 400, 50035, "Invalid Form Body")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.cmds.global
	if gid != 0 {
		list = s.cmds.guild[gid]
	}
	store := func(l []map[string]any) {
		if gid != 0 {
			s.cmds.guild[gid] = l
		} else {
			s.cmds.global = l
		}
	}
	switch r.Method {
	case "GET":
		if list == nil {
			list = []map[string]any{}
		}
		writeJSON(w, 200, list)
	case "PUT":
		var in []map[string]any
		if err := json.Unmarshal(body, &in); err != nil {
			writeError(w, 400, 50035, "Invalid Form Body")
			return
		}
		out := make([]map[string]any, 0, len(in))
		for _, c := range in {
			cmd, ok := s.normaliseCommand(c, findCommand(list, str(c["name"])), gid)
			if !ok {
				writeError(w, 400, 50035, "Invalid Form Body")
				return
			}
			out = append(out, cmd)
		}
		store(out)
		writeJSON(w, 200, out)
	case "POST":
		var c map[string]any
		if err := json.Unmarshal(body, &c); err != nil {
			writeError(w, 400, 50035, "Invalid Form Body")
			return
		}
		old := findCommand(list, str(c["name"]))
		cmd, ok := s.normaliseCommand(c, old, gid)
		if !ok {
			writeError(w, 400, 50035, "Invalid Form Body")
			return
		}
		status := 201
		if old != nil {
			status = 200
			list = slices.DeleteFunc(slices.Clone(list), func(x map[string]any) bool { return x["name"] == cmd["name"] })
		}
		store(append(list, cmd))
		writeJSON(w, status, cmd)
	default:
		writeError(w, 405, 0, "405: Method Not Allowed")
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// normaliseCommand validates a command and fills the fields Discord adds.
func (s *Sim) normaliseCommand(c, old map[string]any, gid uint64) (map[string]any, bool) {
	name := str(c["name"])
	if name == "" || len(name) > 32 {
		return nil, false
	}
	cmd := map[string]any{
		"type": 1, "description": "", "options": []any{}, "default_member_permissions": nil,
		"dm_permission": true, "nsfw": false, "contexts": nil, "integration_types": []int{0},
		"name_localizations": nil, "description_localizations": nil,
	}
	for k, v := range c {
		if v != nil {
			cmd[k] = v
		}
	}
	if t, ok := cmd["type"].(float64); ok {
		cmd["type"] = int(t)
	}
	if old != nil {
		cmd["id"] = old["id"]
	} else {
		cmd["id"] = fmtID(s.ids.next())
	}
	cmd["application_id"] = fmtID(s.pop.botID)
	cmd["version"] = fmtID(s.ids.next())
	if gid != 0 {
		cmd["guild_id"] = fmtID(gid)
	}
	return cmd, true
}
