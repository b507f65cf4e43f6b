package main

import (
	"encoding/json"
	"errors"

	"github.com/halyardhq/halyard/discord/discordsim"
	"github.com/halyardhq/halyard/server"
)

// simDriver lets the admin API drive the simulator in --demo mode.
type simDriver struct{ sim *discordsim.Sim }

func (d simDriver) guild() (string, error) {
	ids := d.sim.GuildIDs()
	if len(ids) == 0 {
		return "", errors.New("the simulator has no guild")
	}
	return ids[0], nil
}

func (d simDriver) UpdatePresence(p json.RawMessage) error { return d.sim.UpdatePresence(p) }

func (d simDriver) AddMember(member json.RawMessage) error {
	g, err := d.guild()
	if err != nil {
		return err
	}
	return d.sim.AddMember(g, member)
}

func (d simDriver) RemoveMember(userID string) error {
	g, err := d.guild()
	if err != nil {
		return err
	}
	return d.sim.RemoveMember(g, userID)
}

func (d simDriver) SendDM(userID, content string) error {
	_, err := d.sim.SendDM(userID, content)
	return err
}

func (d simDriver) DMMessages(userID string) []server.DemoMessage {
	var out []server.DemoMessage
	for _, m := range d.sim.DMMessages(userID) {
		embeds := m.Embeds
		if len(embeds) == 0 {
			embeds = json.RawMessage("[]")
		}
		out = append(out, server.DemoMessage{Content: m.Content, Embeds: embeds, CreatedAt: m.CreatedAt})
	}
	return out
}
