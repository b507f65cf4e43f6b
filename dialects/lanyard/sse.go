package lanyard

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/server"
	"github.com/halyardhq/halyard/socket"
)

// SSEOptions tunes the server-sent-events streams (README.md, "Server-Sent
// Events"); zero fields take the defaults. They run on SocketOptions'
// engine and count against its per-address cap.
type SSEOptions struct {
	// Ping is the interval of the ": ping" comment that keeps proxies
	// from closing an idle stream: 25 s.
	Ping time.Duration
	// Retry is the reconnection delay sent to clients (retry:): 3 s.
	Retry time.Duration
	// QueueSize bounds the events waiting to be written to one stream; a
	// client that falls further behind is dropped: 1024.
	QueueSize int
}

func (o SSEOptions) withDefaults() SSEOptions {
	if o.Ping <= 0 {
		o.Ping = 25 * time.Second
	}
	if o.Retry <= 0 {
		o.Retry = 3 * time.Second
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 1024
	}
	return o
}

// MaxStreamIDs is the most users one GET /v1/events may follow, as
// Lantern's bulk route and the widget's shared socket allow.
const MaxStreamIDs = 50

// sseGroup is the registry group (and metrics name) of the streams.
const sseGroup = "lanyard_sse"

// The stream's errors, answered before the stream starts, in Lanyard's
// envelope (docs/compat/lanyard.md §5.9).
var (
	errBadUserID  = apiError{http.StatusBadRequest, "invalid_user_id", "the user id must be a Discord user id (a snowflake)"}
	errBadIDs     = apiError{http.StatusBadRequest, "invalid_ids", "ids must be 1 to 50 Discord user ids separated by commas"}
	errTooMany    = apiError{http.StatusTooManyRequests, "too_many_connections", "too many open streams and sockets from this address"}
	errGoingAway  = apiError{http.StatusServiceUnavailable, "service_unavailable", "the server is shutting down, try again later"}
	errStreamFail = apiError{http.StatusBadRequest, "stream_failed", "the connection cannot carry an event stream"}
)

// streams is the dialect's server-sent-events side.
type streams struct {
	hub   *core.Hub
	opts  SSEOptions
	frame core.RendererID // "event: presence\nid: …\ndata: …\n\n", per snapshot
	group *socket.Group
	ping  []byte
	retry []byte
}

func newStreams(hub *core.Hub, presence core.RendererID, sock *sockets, opts SSEOptions) *streams {
	s := &streams{hub: hub, opts: opts.withDefaults(), group: sock.engine.Group(sseGroup), ping: []byte(": ping\n\n")}
	s.retry = []byte("retry: " + strconv.FormatInt(s.opts.Retry.Milliseconds(), 10) + "\n\n")
	s.frame = hub.RegisterRenderer(func(u *core.User) []byte {
		return presenceEvent(u.ID, hub.Render(presence, u))
	})
	return s
}

// presenceEvent is one event: its type, the user's id as the event id,
// and the presence object as data. The object is compact JSON; were a
// newline ever in it (whitespace between tokens of a raw Discord object),
// each line becomes a data line, which clients join back with "\n".
func presenceEvent(id string, presence []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(presence) + len(id) + 40)
	b.WriteString("event: presence\nid: ")
	b.WriteString(id)
	b.WriteByte('\n')
	for _, line := range bytes.Split(bytes.ReplaceAll(presence, []byte("\r"), nil), []byte("\n")) {
		b.WriteString("data: ")
		b.Write(line)
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	return b.Bytes()
}

func (d *Dialect) registerStreams(e *echo.Echo) {
	e.GET("/v1/users/:id/events", d.streamUser)
	e.GET("/v1/users/:id/events/", d.streamUser)
	e.GET("/v1/events", d.streamUsers)
	e.GET("/v1/events/", d.streamUsers)
}

// streamUser serves GET /v1/users/:id/events: a monitored user's
// presence, now and at every change. Unknown users are 404 before the
// stream starts, as GET /v1/users/:id answers.
func (d *Dialect) streamUser(c echo.Context) error {
	id := c.Param("id")
	if !server.IsSnowflake(id) {
		return errBadUserID.write(c)
	}
	if _, ok := d.opts.Hub.Get(id); !ok {
		return errNotMonitored.write(c)
	}
	return d.openStream(c, []string{id})
}

// streamUsers serves GET /v1/events?ids=a,b,c: up to 50 users, ids
// deduplicated; ids not monitored now are skipped, as Lanyard's
// subscribe_to_ids does, and streamed once they appear.
func (d *Dialect) streamUsers(c echo.Context) error {
	ids, ok := parseStreamIDs(c.QueryParams()["ids"])
	if !ok {
		return errBadIDs.write(c)
	}
	return d.openStream(c, ids)
}

// parseStreamIDs reads ?ids= (once, comma-separated; empty entries are
// refused): 1 to MaxStreamIDs snowflakes, duplicates dropped, order kept.
func parseStreamIDs(values []string) ([]string, bool) {
	if len(values) != 1 || values[0] == "" || len(values[0]) > MaxStreamIDs*21 {
		return nil, false
	}
	parts := strings.Split(values[0], ",")
	ids := make([]string, 0, len(parts))
	seen := make(map[string]struct{}, len(parts))
	for _, p := range parts {
		if !server.IsSnowflake(p) {
			return nil, false
		}
		if _, dup := seen[p]; dup {
			continue
		}
		seen[p] = struct{}{}
		ids = append(ids, p)
	}
	return ids, len(ids) <= MaxStreamIDs
}

// openStream starts the stream: the engine takes the connection over, the
// stream follows ids and its actor writes the initial state.
func (d *Dialect) openStream(c echo.Context, ids []string) error {
	s := d.streams
	st := &sseStream{s: s}
	header := http.Header{
		"Content-Type":      {"text/event-stream; charset=utf-8"},
		"Cache-Control":     {"no-cache"},
		"X-Accel-Buffering": {"no"}, // nginx: pass each event on at once
	}
	stream, err := d.sockets.engine.OpenStream(c, socket.StreamOptions{Group: s.group, Conns: d.sockets.opts.Conns,
		Header: header, WriteTimeout: d.sockets.opts.WriteTimeout, Run: st.run})
	switch {
	case errors.Is(err, socket.ErrTooManyConnections):
		return errTooMany.write(c)
	case errors.Is(err, socket.ErrClosing):
		return errGoingAway.write(c)
	case err != nil && !c.Response().Committed:
		return errStreamFail.write(c)
	case err != nil:
		return nil // the connection is gone
	}
	st.stream = stream
	st.sub = s.hub.SubscribeNotify(s.opts.QueueSize, stream.Actor.Wake)
	st.initial = st.sub.Follow(ids...)
	st.pingTimer = time.AfterFunc(s.opts.Ping, st.pingDue)
	if !stream.Start() { // the server is closing: the stream ended empty
		st.pingTimer.Stop()
		st.sub.Close()
		return nil
	}
	// Wake-ups before this one (an event, the engine closing) found the
	// actor not ready; run checks every condition, so this one catches up.
	st.ready.Store(true)
	stream.Actor.Wake() // the initial state
	return nil
}

// StreamStats returns the server-sent-events streams' counters, for
// /metrics.
func (d *Dialect) StreamStats() socket.Stats { return d.streams.group.Stats() }
