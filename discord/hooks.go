package discord

import (
	"log/slog"
	"sync"

	"github.com/diamondburned/arikawa/v3/gateway"
	ajson "github.com/diamondburned/arikawa/v3/utils/json"
	"github.com/diamondburned/arikawa/v3/utils/ws"
)

// arikawa is configured through package variables, not per session: its
// JSON driver (utils/json.Default), the decoders of gateway events
// (gateway.OpUnmarshalers, a map without a lock) and the log of gateway
// connection errors (ws.WSError, the standard logger by default). Halyard
// replaces all three (events.go, decode_frame.go), and does it here, once,
// from the first New, not in an init function: importing this package
// (for its types, its simulator, a test of something else) must not change
// how arikawa behaves for the rest of the process, and the hooks must be in
// place before the first gateway is built and never rewritten while one
// runs, since nothing guards those variables.
var hooksOnce sync.Once

// installArikawaHooks installs Halyard's frame driver, its raw decoders
// for the dispatches it reads itself, and sends arikawa's connection
// errors to slog (the first bot's logger decides the format and level).
func installArikawaHooks(log *slog.Logger) {
	hooksOnce.Do(func() {
		ajson.Default = frameDriver{}
		ws.WSError = func(err error) { log.Warn("discord: gateway connection error", "err", err) }
		gateway.OpUnmarshalers.Add(
			func() ws.Event { return new(rawGuildCreate) },
			func() ws.Event { return new(rawGuildDelete) },
			func() ws.Event { return new(rawMembersChunk) },
			func() ws.Event { return new(rawMemberAdd) },
			func() ws.Event { return new(rawMemberUpdate) },
			func() ws.Event { return new(rawMemberRemove) },
			func() ws.Event { return new(rawPresenceUpdate) },
			func() ws.Event { return new(rawRateLimited) },
		)
	})
}
