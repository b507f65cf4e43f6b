// Package core holds Halyard's domain: the presence model, the store-wide
// key/value and token rules, the Hub that owns live presence and fans events
// out to subscribers, the bot command model, and the interfaces that the
// adapters (storage, discord, dialects) implement or consume.
//
// core imports no HTTP, Discord or database library: adapters depend on it,
// never the other way round.
package core
