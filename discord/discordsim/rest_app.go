package discordsim

import (
	"net/http"
	"time"
)

// The application as `halyard doctor` inspects it: its flags (which
// privileged intents are enabled), its global commands, and the Date
// header of every answer. Each can be changed while the simulator runs,
// so one running node can be checked against each misconfiguration.

// Application flags of GET /applications/@me that say a privileged intent
// is enabled (Discord's "Application flags" table). The plain flag is set
// for verified apps (100 servers or more), the _LIMITED one for the rest;
// either means the intent is enabled.
const (
	AppFlagGatewayPresence              uint64 = 1 << 12
	AppFlagGatewayPresenceLimited       uint64 = 1 << 13
	AppFlagGatewayGuildMembers          uint64 = 1 << 14
	AppFlagGatewayGuildMembersLimited   uint64 = 1 << 15
	AppFlagGatewayMessageContent        uint64 = 1 << 18
	AppFlagGatewayMessageContentLimited uint64 = 1 << 19
	// AppFlagApplicationCommandBadge is set once the app has global commands.
	AppFlagApplicationCommandBadge uint64 = 1 << 23
)

// applicationFlags derives the application's flags from the intents it
// has enabled, as an unverified app (under 100 servers) sees them: the
// _LIMITED flags.
func (s *Sim) applicationFlags() uint64 {
	allowed := s.allowed.Load()
	var flags uint64
	if allowed&IntentGuildPresences != 0 {
		flags |= AppFlagGatewayPresenceLimited
	}
	if allowed&IntentGuildMembers != 0 {
		flags |= AppFlagGatewayGuildMembersLimited
	}
	if allowed&IntentMessageContent != 0 {
		flags |= AppFlagGatewayMessageContentLimited
	}
	s.mu.Lock()
	if len(s.cmds.global) > 0 {
		flags |= AppFlagApplicationCommandBadge
	}
	s.mu.Unlock()
	return flags
}

// SetAllowedIntents sets the privileged intents the application has
// enabled (a mask of IntentGuildMembers, IntentGuildPresences and
// IntentMessageContent; 0 enables none), as toggling them in the
// Developer Portal does. Like Discord, it does not drop sessions already
// identified: the next IDENTIFY asking for a disabled intent is closed
// with 4014, and GET /applications/@me reports the new flags at once.
func (s *Sim) SetAllowedIntents(privileged uint64) {
	s.allowed.Store(privileged & PrivilegedIntents)
}

// SetClockSkew makes every answer's Date header d ahead of the local
// clock (behind when negative); 0 restores the true time.
func (s *Sim) SetClockSkew(d time.Duration) { s.skew.Store(int64(d)) }

// stampDate sets the Date header when a skew is injected; otherwise
// net/http writes the true time itself.
func (s *Sim) stampDate(w http.ResponseWriter) {
	if d := time.Duration(s.skew.Load()); d != 0 {
		w.Header().Set("Date", time.Now().Add(d).UTC().Format(http.TimeFormat))
	}
}

// ClearCommands deletes every global and guild command, as if the
// application's commands had never been registered (or were deleted in
// the Developer Portal).
func (s *Sim) ClearCommands() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cmds.global = nil
	s.cmds.init()
}
