package discord

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/diamondburned/arikawa/v3/api"
	"github.com/diamondburned/arikawa/v3/discord"
	"github.com/halyardhq/halyard/core"
)

// defuseMentions breaks every @ in plain content with two zero-width
// spaces, as Lanyard does, so no reply can ping @everyone or a user.
func defuseMentions(s string) string {
	return strings.ReplaceAll(s, "@", "@\u200b\u200b")
}

// embeds converts core embeds to Discord's; embed text is sent unchanged.
func embeds(in []core.Embed) []discord.Embed {
	if len(in) == 0 {
		return nil
	}
	out := make([]discord.Embed, 0, len(in))
	for _, e := range in {
		d := discord.Embed{Title: e.Title, Description: e.Description, Color: discord.Color(e.Color)}
		for _, f := range e.Fields {
			d.Fields = append(d.Fields, discord.EmbedField{Name: f.Name, Value: f.Value, Inline: f.Inline})
		}
		if e.Footer != "" {
			d.Footer = &discord.EmbedFooter{Text: e.Footer}
		}
		out = append(out, d)
	}
	return out
}

// sendMessageData is the REST body for m.
func sendMessageData(m core.Message) api.SendMessageData {
	return api.SendMessageData{Content: defuseMentions(m.Content), Embeds: embeds(m.Embeds)}
}

// empty reports whether m has nothing to send.
func empty(m core.Message) bool { return m.Content == "" && len(m.Embeds) == 0 }

// send posts m to a channel.
func (b *Bot) send(ctx context.Context, channelID discord.ChannelID, m core.Message) error {
	if empty(m) {
		return nil
	}
	_, err := b.client.WithContext(ctx).SendMessageComplex(channelID, sendMessageData(m))
	return err
}

// dmChannel returns the DM channel with the user, opening it once.
func (b *Bot) dmChannel(ctx context.Context, userID discord.UserID) (discord.ChannelID, error) {
	b.dmMu.Lock()
	ch, ok := b.dmChannels[userID]
	b.dmMu.Unlock()
	if ok {
		return ch, nil
	}
	c, err := b.client.WithContext(ctx).CreatePrivateChannel(userID)
	if err != nil {
		return 0, err
	}
	b.dmMu.Lock()
	b.dmChannels[userID] = c.ID
	b.dmMu.Unlock()
	return c.ID, nil
}

// sendDM sends m to the user's DM.
func (b *Bot) sendDM(ctx context.Context, userID discord.UserID, m core.Message) error {
	if empty(m) {
		return nil
	}
	ch, err := b.dmChannel(ctx, userID)
	if err != nil {
		return fmt.Errorf("opening DM: %w", err)
	}
	return b.send(ctx, ch, m)
}

// SendDM sends a message to a user's direct messages (content has its
// mentions defused like every reply).
func (b *Bot) SendDM(ctx context.Context, userID string, m core.Message) error {
	id, err := discord.ParseSnowflake(userID)
	if err != nil || !id.IsValid() {
		return errors.New("discord: invalid user id")
	}
	if empty(m) {
		return errors.New("discord: empty message")
	}
	return b.sendDM(ctx, discord.UserID(id), m)
}
