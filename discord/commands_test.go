package discord

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/diamondburned/arikawa/v3/discord"
	"github.com/halyardhq/halyard/core"
)

func TestParsePrefixCommand(t *testing.T) {
	for _, tc := range []struct {
		content, prefix string
		name            string
		args            []string
		ok              bool
	}{
		{".ping", ".", "ping", []string{}, true},
		{".set key value with spaces", ".", "set", []string{"key", "value", "with", "spaces"}, true},
		{".set a  b", ".", "set", []string{"a", "", "b"}, true},
		{".get ", ".", "get", []string{""}, true},
		{".Ping", ".", "Ping", []string{}, true},
		{"..ping", ".", ".ping", []string{}, true},
		{".", ".", "", []string{}, true},
		{"ping", ".", "", nil, false},
		{" .ping", ".", "", nil, false},
		{"", ".", "", nil, false},
		{"!!ping", "!!", "!ping", []string{}, true}, // exactly one character is stripped, as Lanyard does
		{"»ping x", "»", "ping", []string{"x"}, true},
		{".set\tk v", ".", "set\tk", []string{"v"}, true},
	} {
		name, args, ok := parsePrefixCommand(tc.content, tc.prefix)
		if name != tc.name || ok != tc.ok || (ok && !reflect.DeepEqual(args, tc.args)) {
			t.Errorf("%q: got %q %q %v, want %q %q %v", tc.content, name, args, ok, tc.name, tc.args, tc.ok)
		}
	}
}

func TestDefuseMentions(t *testing.T) {
	got := defuseMentions("hi @everyone and @here, <@123>")
	want := "hi @\u200b\u200beveryone and @\u200b\u200bhere, <@\u200b\u200b123>"
	if got != want {
		t.Errorf("%q", got)
	}
	d := sendMessageData(core.Message{Content: "@x", Embeds: []core.Embed{{Title: "@t", Description: "@d", Color: 0xff,
		Fields: []core.EmbedField{{Name: "@n", Value: "@v", Inline: true}}, Footer: "@f"}}})
	if d.Content != "@\u200b\u200bx" {
		t.Errorf("content %q", d.Content)
	}
	e := d.Embeds[0]
	if e.Title != "@t" || e.Description != "@d" || e.Color != 0xff || e.Fields[0].Value != "@v" || !e.Fields[0].Inline || e.Footer.Text != "@f" {
		t.Errorf("embed altered: %+v", e)
	}
}

func TestFlattenOptions(t *testing.T) {
	var opts discord.CommandInteractionOptions
	raw := `[{"name":"storage","type":2,"options":[{"name":"set","type":1,"options":[` +
		`{"name":"key","type":3,"value":"k"},{"name":"n","type":4,"value":5},{"name":"b","type":5,"value":true},{"name":"u","type":6,"value":"13"}]}]}]`
	if err := json.Unmarshal([]byte(raw), &opts); err != nil {
		t.Fatal(err)
	}
	sub, got := flattenOptions(opts)
	want := map[string]string{"key": "k", "n": "5", "b": "true", "u": "13"}
	if sub != "storage set" || !reflect.DeepEqual(got, want) {
		t.Errorf("%q %v", sub, got)
	}
	sub, got = flattenOptions(nil)
	if sub != "" || len(got) != 0 {
		t.Errorf("%q %v", sub, got)
	}
}

func TestSlashCommandData(t *testing.T) {
	d := slashCommandData(core.Command{Name: "Storage", Slash: true, Options: []core.CommandOption{
		{Name: "get", Type: core.OptionSubCommand, Options: []core.CommandOption{{Name: "key", Type: core.OptionString, Required: true}}},
		{Name: "user", Description: "who", Type: core.OptionUser},
	}})
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Name        string `json:"name"`
		Description string `json:"description"`
		Options     []struct {
			Name    string `json:"name"`
			Type    int    `json:"type"`
			Options []struct {
				Name     string `json:"name"`
				Type     int    `json:"type"`
				Required bool   `json:"required"`
			} `json:"options"`
		} `json:"options"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Name != "storage" || got.Description != "Storage" || len(got.Options) != 2 || got.Options[0].Type != 1 ||
		got.Options[0].Options[0].Type != 3 || !got.Options[0].Options[0].Required || got.Options[1].Type != 6 {
		t.Errorf("%s", b)
	}
}

func TestSlashCommandGroup(t *testing.T) {
	d := slashCommandData(core.Command{Name: "storage", Slash: true, Options: []core.CommandOption{
		{Name: "create", Type: core.OptionSubCommand, Options: []core.CommandOption{
			{Name: "token", Type: core.OptionSubCommand},
			{Name: "data", Type: core.OptionSubCommand, Options: []core.CommandOption{{Name: "key", Type: core.OptionString, Required: true}}},
		}},
	}})
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Options []struct {
			Name    string `json:"name"`
			Type    int    `json:"type"`
			Options []struct {
				Name    string `json:"name"`
				Type    int    `json:"type"`
				Options []struct {
					Name string `json:"name"`
					Type int    `json:"type"`
				} `json:"options"`
			} `json:"options"`
		} `json:"options"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	g := got.Options
	if len(g) != 1 || g[0].Type != 2 || len(g[0].Options) != 2 || g[0].Options[0].Type != 1 || g[0].Options[0].Name != "token" ||
		len(g[0].Options[1].Options) != 1 || g[0].Options[1].Options[0].Type != 3 {
		t.Fatalf("group not registered as a sub-command group: %s", b)
	}
}
