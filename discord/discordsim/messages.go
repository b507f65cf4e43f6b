package discordsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Message is a message the bot posted.
type Message struct {
	ChannelID   string
	Content     string
	Embeds      json.RawMessage // JSON array
	CreatedAt   time.Time
	RecipientID string // DM recipient user id, "" for guild channels
}

// Messages returns everything the bot posted (channel messages and
// interaction follow-ups), oldest first.
func (s *Sim) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// DMMessages returns the bot's messages in the DM channel with userID, oldest first.
func (s *Sim) DMMessages(userID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.msgs {
		if m.RecipientID == userID {
			out = append(out, m)
		}
	}
	return out
}

// dmChannelLocked returns the stable DM channel with uid, creating it.
func (s *Sim) dmChannelLocked(uid uint64) uint64 {
	if c, ok := s.dms[uid]; ok {
		return c
	}
	c := s.ids.next()
	s.dms[uid], s.dmUsers[c] = c, uid
	return c
}

func (s *Sim) dmChannelObject(cid, uid uint64) []byte {
	u, _ := s.pop.user(uid)
	b, _ := json.Marshal(map[string]any{"id": fmtID(cid), "type": 1, "last_message_id": nil, "flags": 0, "recipients": []json.RawMessage{u}})
	return b
}

// messageFields are the parts of a message object callers vary.
type messageFields struct {
	channel  uint64
	guild    *guild // nil for DMs
	author   uint64
	content  string
	embeds   json.RawMessage
	nonce    string
	stripped bool // content-less variant for sessions without MESSAGE_CONTENT
}

func (s *Sim) messageObject(id uint64, f messageFields) []byte {
	u, _ := s.pop.user(f.author)
	embeds := f.embeds
	if len(embeds) == 0 || f.stripped {
		embeds = json.RawMessage("[]")
	}
	content := f.content
	if f.stripped {
		content = ""
	}
	m := map[string]any{
		"id": fmtID(id), "channel_id": fmtID(f.channel), "author": u, "content": content,
		"timestamp": discordTime(snowflakeTime(id)), "edited_timestamp": nil, "tts": false,
		"mention_everyone": false, "mentions": []any{}, "mention_roles": []any{}, "attachments": []any{},
		"embeds": embeds, "components": []any{}, "pinned": false, "type": 0, "flags": 0,
	}
	if f.nonce != "" {
		m["nonce"] = f.nonce
	}
	if f.guild != nil {
		m["guild_id"] = fmtID(f.guild.id)
		m["channel_type"] = 0
		if mem, ok := s.pop.member(f.guild, f.author); ok {
			var mm map[string]json.RawMessage
			_ = json.Unmarshal(mem, &mm)
			delete(mm, "user")
			m["member"] = mm
		}
	} else {
		m["channel_type"] = 1
	}
	b, _ := json.Marshal(m)
	return b
}

// broadcastMessageLocked dispatches MESSAGE_CREATE under the message
// intents; guild messages from others lose their content for sessions
// without MESSAGE_CONTENT unless they mention the bot.
func (s *Sim) broadcastMessageLocked(id uint64, f messageFields) {
	s.rememberLocked(id, f)
	full := s.messageObject(id, f)
	if f.guild == nil {
		s.broadcastDMLocked(IntentDirectMessages, "MESSAGE_CREATE", full)
		return
	}
	var stripped []byte
	keep := f.author == s.pop.botID || strings.Contains(f.content, "<@"+fmtID(s.pop.botID)+">")
	for _, ss := range s.sessions {
		if ss.intents&IntentGuildMessages == 0 || !ss.ownsGuild(f.guild.id) {
			continue
		}
		d := full
		if !keep && ss.intents&IntentMessageContent == 0 {
			if stripped == nil {
				sf := f
				sf.stripped = true
				stripped = s.messageObject(id, sf)
			}
			d = stripped
		}
		s.dispatchLocked(ss, "MESSAGE_CREATE", d, nil)
	}
}

// SendDM dispatches MESSAGE_CREATE for a DM from userID to the bot (shard 0,
// DIRECT_MESSAGES) and returns the DM channel ID. Unknown users are
// created on the fly with username "user<id-suffix>".
func (s *Sim) SendDM(userID, content string) (string, error) {
	uid, ok := parseID(userID)
	if !ok {
		return "", fmt.Errorf("discordsim: bad user id %q", userID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if uid == s.pop.botID {
		return "", errors.New("discordsim: the bot cannot DM itself")
	}
	if !s.pop.knownUser(uid) {
		s.pop.users[uid] = placeholderUser(uid)
	}
	cid := s.dmChannelLocked(uid)
	id := s.ids.next()
	s.broadcastMessageLocked(id, messageFields{channel: cid, author: uid, content: content, nonce: fmtID(id - 1)})
	return fmtID(cid), nil
}

// SendGuildMessage dispatches MESSAGE_CREATE from a member in the guild's text channel.
func (s *Sim) SendGuildMessage(guildID, userID, content string) error {
	uid, ok := parseID(userID)
	if !ok {
		return fmt.Errorf("discordsim: bad user id %q", userID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.pop.guildByString(guildID)
	if g == nil {
		return fmt.Errorf("discordsim: unknown guild %q", guildID)
	}
	if !s.pop.isMember(g, uid) {
		return fmt.Errorf("discordsim: user %d is not in guild %s", uid, guildID)
	}
	id := s.ids.next()
	s.broadcastMessageLocked(id, messageFields{channel: g.channelID, guild: g, author: uid, content: content, nonce: fmtID(id - 1)})
	return nil
}

// channelTarget resolves a channel ID to a guild (text channel) or DM recipient.
func (s *Sim) channelTargetLocked(cid uint64) (g *guild, recipient uint64, ok bool) {
	if uid, ok := s.dmUsers[cid]; ok {
		return nil, uid, true
	}
	for _, g := range s.pop.guilds {
		if g.channelID == cid {
			return g, 0, true
		}
	}
	return nil, 0, false
}
