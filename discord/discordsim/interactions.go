package discordsim

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// interaction is an INTERACTION_CREATE the simulator sent, awaiting a callback.
type interaction struct {
	id        uint64
	token     string
	created   time.Time
	channel   uint64
	guild     *guild
	user      uint64
	answered  bool
	response  json.RawMessage
	cbType    int
	followups int
}

// commandStore holds registered application commands. Guarded by Sim.mu.
type commandStore struct {
	global []map[string]any
	guild  map[uint64][]map[string]any
}

func (cs *commandStore) init() { cs.guild = make(map[uint64][]map[string]any) }

func findCommand(list []map[string]any, name string) map[string]any {
	for _, c := range list {
		if c["name"] == name {
			return c
		}
	}
	return nil
}

// Commands returns the registered global application commands as a JSON array.
func (s *Sim) Commands() json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.cmds.global
	if list == nil {
		list = []map[string]any{}
	}
	b, _ := json.Marshal(list)
	return b
}

// InteractionResponse returns the callback body the bot sent for an
// interaction ({"type":N,"data":{...}}), with data replaced by the last
// PATCH .../messages/@original if there was one.
func (s *Sim) InteractionResponse(interactionID string) (json.RawMessage, bool) {
	id, ok := parseID(interactionID)
	if !ok {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.inters[id]
	if !ok || !in.answered {
		return nil, false
	}
	return append(json.RawMessage(nil), in.response...), true
}

func newInteractionToken() string {
	var b [48]byte
	_, _ = rand.Read(b[:])
	return "aW50ZXJhY3Rpb24" + base64.RawURLEncoding.EncodeToString(b[:])
}

type commandOption struct {
	Name    string          `json:"name"`
	Type    int             `json:"type"`
	Value   json.RawMessage `json:"value,omitempty"`
	Options []commandOption `json:"options,omitempty"`
}

// Interact dispatches INTERACTION_CREATE (type 2) for a registered
// command, run by userID in guildID ("" = in a DM with the bot). options
// is the command's options array (or nil); USER options are resolved.
func (s *Sim) Interact(guildID, userID, command string, options json.RawMessage) (string, error) {
	uid, ok := parseID(userID)
	if !ok {
		return "", fmt.Errorf("discordsim: bad user id %q", userID)
	}
	var opts []commandOption
	if len(options) > 0 && string(options) != "null" {
		if err := json.Unmarshal(options, &opts); err != nil {
			return "", fmt.Errorf("discordsim: options: %w", err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pop
	var g *guild
	if guildID != "" {
		if g = p.guildByString(guildID); g == nil {
			return "", fmt.Errorf("discordsim: unknown guild %q", guildID)
		}
		if !p.isMember(g, uid) {
			return "", fmt.Errorf("discordsim: user %d is not in guild %s", uid, guildID)
		}
	} else if !p.knownUser(uid) {
		p.users[uid] = placeholderUser(uid)
	}
	var cmd map[string]any
	if g != nil {
		cmd = findCommand(s.cmds.guild[g.id], command)
	}
	guildCommand := cmd != nil
	if cmd == nil {
		cmd = findCommand(s.cmds.global, command)
	}
	if cmd == nil {
		return "", fmt.Errorf("discordsim: command %q is not registered", command)
	}
	in := &interaction{id: s.ids.next(), token: newInteractionToken(), created: time.Now(), guild: g, user: uid}
	data := map[string]any{"id": cmd["id"], "name": command, "type": cmd["type"]}
	if opts != nil {
		data["options"] = opts
		if res := s.resolveUsersLocked(g, opts); res != nil {
			data["resolved"] = res
		}
	}
	if guildCommand {
		// Discord names the guild in data only for a guild-registered
		// command; a global one run in a guild carries just the top-level
		// guild_id.
		data["guild_id"] = fmtID(g.id)
	}
	u, _ := p.user(uid)
	d := map[string]any{
		"id": fmtID(in.id), "application_id": fmtID(p.botID), "type": 2, "data": data,
		"token": in.token, "version": 1, "app_permissions": everyonePerms, "locale": "en-US",
		"entitlements": []any{}, "attachment_size_limit": 10485760,
	}
	if g != nil {
		in.channel = g.channelID
		ch := s.channelObject(g)
		ch["permissions"] = everyonePerms
		mem, _ := p.member(g, uid)
		var mm map[string]any
		_ = json.Unmarshal(mem, &mm)
		mm["permissions"] = everyonePerms
		d["guild_id"], d["channel_id"], d["channel"], d["member"] = fmtID(g.id), fmtID(g.channelID), ch, mm
		d["guild_locale"], d["context"] = "en-US", 0
		d["guild"] = map[string]any{"id": fmtID(g.id), "locale": "en-US", "features": []string{"COMMUNITY"}}
		d["authorizing_integration_owners"] = map[string]string{"0": fmtID(g.id)}
	} else {
		in.channel = s.dmChannelLocked(uid)
		d["channel_id"] = fmtID(in.channel)
		d["channel"] = map[string]any{"id": fmtID(in.channel), "type": 1, "flags": 0, "last_message_id": nil, "recipients": []json.RawMessage{u}}
		d["user"], d["context"] = u, 1
		d["authorizing_integration_owners"] = map[string]string{"0": fmtID(uid)}
	}
	s.inters[in.id] = in
	b, _ := json.Marshal(d)
	for _, ss := range s.sessions {
		if (g != nil && ss.ownsGuild(g.id)) || (g == nil && ss.shardID == 0) {
			s.dispatchLocked(ss, "INTERACTION_CREATE", b, nil)
		}
	}
	return fmtID(in.id), nil
}

// resolveUsersLocked builds data.resolved for USER (6) options.
func (s *Sim) resolveUsersLocked(g *guild, opts []commandOption) map[string]any {
	users := map[string]json.RawMessage{}
	members := map[string]json.RawMessage{}
	var walk func([]commandOption)
	walk = func(os []commandOption) {
		for _, o := range os {
			walk(o.Options)
			if o.Type != 6 {
				continue
			}
			var idStr string
			if json.Unmarshal(o.Value, &idStr) != nil {
				continue
			}
			id, ok := parseID(idStr)
			if !ok {
				continue
			}
			if u, ok := s.pop.user(id); ok {
				users[idStr] = u
			}
			if g != nil {
				if m, ok := s.pop.member(g, id); ok {
					var mm map[string]json.RawMessage
					_ = json.Unmarshal(m, &mm)
					delete(mm, "user")
					members[idStr], _ = json.Marshal(mm)
				}
			}
		}
	}
	walk(opts)
	if len(users) == 0 {
		return nil
	}
	res := map[string]any{"users": users}
	if len(members) > 0 {
		res["members"] = members
	}
	return res
}

var validCallbackTypes = map[int]bool{1: true, 4: true, 5: true, 6: true, 7: true, 8: true, 9: true, 12: true}

// errInteraction carries a Discord REST error from interaction handling.
type errInteraction struct {
	status, code int
	msg          string
}

func (e *errInteraction) Error() string { return e.msg }

// answerInteractionLocked records a callback; see docs/compat/discord.md §3.5.
func (s *Sim) answerInteractionLocked(id uint64, token string, body []byte) error {
	in, ok := s.inters[id]
	if !ok || in.token != token || (!in.answered && time.Since(in.created) > interactionDeadline) {
		return &errInteraction{404, 10062, "Unknown interaction"}
	}
	if in.answered {
		return &errInteraction{400, 40060, "Interaction has already been acknowledged."}
	}
	var cb struct {
		Type *int            `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &cb); err != nil || cb.Type == nil || !validCallbackTypes[*cb.Type] {
		return &errInteraction{400, 50035, "Invalid Form Body"}
	}
	if (*cb.Type == 4 || *cb.Type == 7 || *cb.Type == 8 || *cb.Type == 9) && (len(cb.Data) == 0 || cb.Data[0] != '{') {
		return &errInteraction{400, 50035, "Invalid Form Body"}
	}
	in.answered, in.cbType = true, *cb.Type
	in.response = append(json.RawMessage(nil), body...)
	return nil
}

// interactionByTokenLocked finds a live interaction by its token (webhook routes).
func (s *Sim) interactionByTokenLocked(token string) (*interaction, error) {
	for _, in := range s.inters {
		if in.token == token {
			if time.Since(in.created) > 15*time.Minute {
				break
			}
			return in, nil
		}
	}
	return nil, errors.New("unknown webhook")
}
