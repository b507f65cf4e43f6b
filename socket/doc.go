// Package socket is the one home of Halyard's long-lived client
// connections: the WebSocket engine and the registry every transport
// shares. The dialects (Lanyard, Lantern) keep only their protocol —
// parsing client messages, rendering frames, running ops — and hand the
// rest to an Engine:
//
//   - reading: Engine.Upgrade returns a Socket whose reads are driven by
//     readiness (an epoll set per engine on Linux, a waiter goroutine
//     elsewhere) and run as short read turns on the engine's worker pool,
//     so an idle socket holds no goroutine;
//   - writing: each connection's Actor runs its writes and state changes
//     on the same pool, one at a time; PreparedFrames frames a payload
//     that many sockets send alike once;
//   - caps: CapsConfig (message rate, subscriptions per socket) and
//     ConnLimiter (sockets per client address);
//   - deadlines: an idle rule (Socket.SetIdle) or a protocol's deadline
//     (Engine.NewDeadline) sits in the engine's one wheel of coarse
//     deadlines, not in a timer per socket;
//   - memory after a storm of upgrades: once it is over and the sockets
//     are quiet, the engine returns the upgrades' garbage to the OS
//     (storm.go);
//   - ending: Socket.End sends the close frame and closes the connection
//     once the client answered or the grace period passed;
//   - one lifecycle: a dialect's connection embeds Conn — open and join
//     its group (refused with 1001 once closing), subscribe to the hub,
//     write (counted, shared payloads framed once), End (close frame,
//     grace, then the subscription and the registry let go) — and keeps
//     only its protocol;
//   - the registry: each endpoint is a Group of Members with counters
//     (Stats, exported as halyard_socket_*); Engine.Close tells every
//     member of every group to go (1001 Going Away for WebSockets) and
//     waits for each;
//   - the shared /socket (Engine.Shared): one Hello for both dialects, the
//     first client message picks the dialect.
//
// # Server-sent events
//
// Engine.OpenStream takes an HTTP request's connection over for a long
// answer the server only writes to: a Stream, watched for the client
// closing in the same epoll set, written from its Actor, counted against
// the same ConnLimiter (Reserve) and ended by Engine.Close like a socket
// (the body's last chunk, then the connection closed).
//
// # Plugging in another transport
//
// A transport that is neither (a cluster link) joins the same registry
// without the WebSocket parts: it takes a
// Group of its own from Engine.Group, gives each connection a Lease
// (Group.NewLease, then Lease.Join; false means the engine is closing),
// counts traffic with Lease.In and Lease.Out, and calls Lease.Done with a
// close label when the connection ends. Its GoingAway (the Member
// interface) must not block: it starts the transport's own goodbye and
// Done follows. Engine.Close then waits for it like for any socket, and
// /metrics shows it under the group's name. Work that must not hold a
// goroutine per connection can run on the engine's pool through
// Engine.NewActor.
package socket
