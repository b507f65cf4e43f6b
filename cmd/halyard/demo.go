package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

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

// floods marks the simulators with a flood running, so a second
// POST /admin/v1/demo/flood is refused instead of stacking up.
var floods sync.Map // *discordsim.Sim → struct{}

// StartFlood implements server.DemoFlooder: it checks the sizes against
// the population and floods in the background.
func (d simDriver) StartFlood(events, users int) error {
	g, err := d.guild()
	if err != nil {
		return err
	}
	if n := len(d.sim.MemberIDs(g)); users > n {
		return fmt.Errorf("users must be from 1 to %d (the simulated members)", n)
	}
	if _, running := floods.LoadOrStore(d.sim, struct{}{}); running {
		return server.ErrFloodRunning
	}
	go func() {
		defer floods.Delete(d.sim)
		_ = d.sim.Flood(context.Background(), events, users)
	}()
	return nil
}
