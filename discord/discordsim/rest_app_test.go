package discordsim

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// appFlags reads the flags of GET /applications/@me.
func appFlags(t *testing.T, s *Sim) uint64 {
	t.Helper()
	status, body := restDo(t, s, "GET", "/api/v10/applications/@me", "Bot "+s.Token(), "")
	var app struct {
		Flags uint64 `json:"flags"`
	}
	if status != 200 || json.Unmarshal([]byte(body), &app) != nil {
		t.Fatalf("GET /applications/@me: %d %s", status, body)
	}
	return app.Flags
}

// The application's flags follow the enabled intents; before, they were a
// constant that left out GATEWAY_MESSAGE_CONTENT_LIMITED although the
// simulated app allowed message content.
func TestApplicationFlagsFollowIntents(t *testing.T) {
	intentFlags := AppFlagGatewayPresenceLimited | AppFlagGatewayGuildMembersLimited | AppFlagGatewayMessageContentLimited
	s := newSim(t, Config{})
	if got := appFlags(t, s) & intentFlags; got != intentFlags {
		t.Fatalf("default app flags %#x, want every intent's limited flag %#x", got, intentFlags)
	}
	tests := []struct {
		allowed uint64
		want    uint64
	}{
		{PrivilegedIntents &^ IntentGuildPresences, AppFlagGatewayGuildMembersLimited | AppFlagGatewayMessageContentLimited},
		{PrivilegedIntents &^ IntentGuildMembers, AppFlagGatewayPresenceLimited | AppFlagGatewayMessageContentLimited},
		{PrivilegedIntents &^ IntentMessageContent, AppFlagGatewayPresenceLimited | AppFlagGatewayGuildMembersLimited},
		{0, 0},
		{PrivilegedIntents, intentFlags},
	}
	for _, tt := range tests {
		s.SetAllowedIntents(tt.allowed)
		if got := appFlags(t, s) & intentFlags; got != tt.want {
			t.Errorf("allowed %#x: intent flags %#x, want %#x", tt.allowed, got, tt.want)
		}
	}
	// Created with an intent disabled, the app says so from the start.
	s2 := newSim(t, Config{AllowedIntents: IntentGuildMembers | IntentMessageContent})
	if got := appFlags(t, s2); got&AppFlagGatewayPresenceLimited != 0 || got&AppFlagGatewayGuildMembersLimited == 0 {
		t.Errorf("presence disabled at New: flags %#x", got)
	}
}

// A disabled intent also closes the next IDENTIFY that asks for it with
// 4014, as on Discord.
func TestSetAllowedIntentsGatesIdentify(t *testing.T) {
	s := newSim(t, Config{Members: 3})
	s.SetAllowedIntents(PrivilegedIntents &^ IntentGuildPresences)
	c := dial(t, s)
	readFrame(t, c) // HELLO
	identify(t, c, s, allIntents)
	expectClose(t, c, 4014)
}

func TestClockSkewInDateHeader(t *testing.T) {
	s := newSim(t, Config{ClockSkew: -time.Hour})
	date := func() time.Time {
		t.Helper()
		resp, err := http.Get(s.RESTURL() + "/api/v10/gateway")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		d, err := http.ParseTime(resp.Header.Get("Date"))
		if err != nil {
			t.Fatalf("Date %q: %v", resp.Header.Get("Date"), err)
		}
		return d
	}
	if skew := time.Since(date()); skew < 59*time.Minute || skew > 61*time.Minute {
		t.Errorf("ClockSkew -1h: Date is %v behind", skew)
	}
	s.SetClockSkew(2 * time.Minute)
	if skew := time.Since(date()); skew > -119*time.Second || skew < -121*time.Second {
		t.Errorf("SetClockSkew 2m: Date is %v ahead", -skew)
	}
	s.SetClockSkew(0)
	if skew := time.Since(date()); skew < -time.Second || skew > 2*time.Second {
		t.Errorf("no skew: Date is %v off", skew)
	}
}

func TestClearCommands(t *testing.T) {
	s := newSim(t, Config{})
	bot := "Bot " + s.Token()
	cmds := "/api/v10/applications/" + s.ApplicationID() + "/commands"
	if status, body := restDo(t, s, "PUT", cmds, bot, `[{"name":"help","description":"d"}]`); status != 200 {
		t.Fatalf("PUT commands: %d %s", status, body)
	}
	if appFlags(t, s)&AppFlagApplicationCommandBadge == 0 {
		t.Error("no APPLICATION_COMMAND_BADGE with a global command registered")
	}
	s.ClearCommands()
	if status, body := restDo(t, s, "GET", cmds, bot, ""); status != 200 || body != "[]" {
		t.Errorf("GET commands after ClearCommands: %d %s", status, body)
	}
	if appFlags(t, s)&AppFlagApplicationCommandBadge != 0 {
		t.Error("APPLICATION_COMMAND_BADGE without commands")
	}
}
