package server

import "github.com/halyardhq/halyard/socket"

// SocketStats is a snapshot of one dialect's WebSocket counters, as the
// socket engine's registry keeps them.
type SocketStats = socket.Stats

// SocketInit is one kind of socket subscription (socket.Init).
type SocketInit = socket.Init

// RegisterSocket mounts the shared /socket (cross-dialect "One /socket")
// of the engine's for the given dialects and returns it; Lanyard first,
// as it takes the messages no dialect claims (socket.Engine.Shared).
// Sockets on it are the engine's: Engine.Close closes them, not Shutdown.
func (s *Server) RegisterSocket(e *socket.Engine, dialects ...socket.Dialect) *socket.Shared {
	sh := e.Shared(dialects...)
	s.echo.GET("/socket", sh.Serve)
	return sh
}
