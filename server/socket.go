package server

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"
)

// SocketDialect is a dialect that speaks on the shared /socket
// (docs/compat/cross-dialect.md §2). The endpoint upgrades the
// connection, sends the shared Hello, reads the client's first message and
// hands the connection to the first dialect that claims that message.
type SocketDialect interface {
	// Name names the dialect in logs and metrics ("lanyard").
	Name() string
	// ClaimSocket reports whether the client's first message (and the
	// upgrade request's query) identify this dialect. It must not keep
	// first.Data.
	ClaimSocket(first SocketMessage, query url.Values) bool
	// ServeSocket takes over the connection: it processes c.First as the
	// client's first message and owns c.Socket from then on (it calls
	// c.Socket.SetHandler at once, writes and closes it). It is called
	// from the socket's read turn and must not block. The shared Hello has
	// been sent.
	ServeSocket(c *SocketConn)
}

// SocketMessage is one data message from a WebSocket client.
type SocketMessage struct {
	// Type is websocket.TextMessage or websocket.BinaryMessage.
	Type int
	Data []byte
}

// SocketConn is a /socket connection handed to the dialect that claimed it.
type SocketConn struct {
	Conn   *websocket.Conn
	Socket *Socket
	Query  url.Values
	// First is the client's first message, already read.
	First SocketMessage
}

// Shared /socket constants (docs/compat/cross-dialect.md §2, docs/compat/lanyard.md §5).
const (
	// SocketHello is the shared endpoint's Hello: Lanyard's plus the `t`
	// that Lantern clients need.
	SocketHello = `{"d":{"heartbeat_interval":30000},"op":1,"t":"HELLO"}`
	// SocketReadLimit is the largest client message accepted (close 1009
	// beyond it), Lanyard's limit for a fragmented message.
	SocketReadLimit = 8_000_000
	// SocketInactivity is how long a client may stay silent before the
	// server closes with 1002 (Lanyard's rule, which holds on /socket until
	// the dialect is known).
	SocketInactivity = 60 * time.Second
	// CompressionZlib is the value of ?compression= that selects Lanyard's
	// zlib_json mode.
	CompressionZlib = "zlib_json"

	upgradeFailedBody = `{"success":false,"error":{"code":"upgrade_failed","message":"Request failed to upgrade"}}`
)

// socketUpgrader accepts any origin (browsers connect from every site) and
// never negotiates permessage-deflate. Write buffers are pooled: they are
// held only while a message is written, so idle sockets cost little. The
// read buffer is the engine's (ReadBufferSize 0 makes gorilla take the
// hijacked reader, see hijackWriter).
var socketUpgrader = websocket.Upgrader{
	WriteBufferSize: 4096,
	WriteBufferPool: &sync.Pool{},
	CheckOrigin:     func(*http.Request) bool { return true },
	Error: func(w http.ResponseWriter, _ *http.Request, _ int, _ error) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(upgradeFailedBody))
	},
}

// UpgradeSocket upgrades the request to a WebSocket with Halyard's socket
// policy (any origin, no compression extension) and returns it as an
// engine Socket, not yet reading (Socket.Start). A request that is not a
// valid upgrade is answered 400 upgrade_failed and an error returned.
func UpgradeSocket(c echo.Context) (*Socket, error) {
	hw := &hijackWriter{ResponseWriter: c.Response()}
	ws, err := socketUpgrader.Upgrade(hw, c.Request(), nil)
	if err != nil {
		return nil, err
	}
	c.Response().Status = http.StatusSwitchingProtocols // for the request log
	return newSocket(ws, hw.br), nil
}

// hijackWriter hands gorilla a small bufio.Reader of our own when it
// hijacks the connection, instead of net/http's 4 KiB one: gorilla reads
// frames from it, and the engine looks into it (Buffered, Peek) to run
// read turns without blocking. The writer side is a tiny scratch buffer
// for the handshake response; frames are written through gorilla's pooled
// write buffers.
type hijackWriter struct {
	http.ResponseWriter
	br *bufio.Reader
}

// Hijack implements http.Hijacker.
func (w *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if brw.Reader.Buffered() > 0 {
		return nc, brw, nil // gorilla refuses data sent before the handshake
	}
	w.br = bufio.NewReaderSize(nc, socketReadBuffer)
	return nc, bufio.NewReadWriter(w.br, bufio.NewWriterSize(nc, 16)), nil
}

// IsSocketTimeout reports whether a read or write on a socket failed
// because its deadline passed.
func IsSocketTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// KeepReadDeadline makes every control frame (ping, pong) count as client
// activity: it pushes the read deadline idle into the future and answers
// pings with pongs. Data messages are the caller's to count.
func KeepReadDeadline(ws *websocket.Conn, idle time.Duration) {
	ws.SetPingHandler(func(data string) error {
		_ = ws.SetReadDeadline(time.Now().Add(idle))
		err := ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
		if err == nil || errors.Is(err, websocket.ErrCloseSent) || IsSocketTimeout(err) {
			return nil
		}
		return err
	})
	ws.SetPongHandler(func(string) error {
		_ = ws.SetReadDeadline(time.Now().Add(idle))
		return nil
	})
}

// CloseSocket sends a close frame (code, reason) with a short deadline. It
// does not close the TCP connection.
func CloseSocket(ws *websocket.Conn, code int, reason string) error {
	return ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
}

// LingerClose closes a socket's TCP connection gently once a close frame
// was sent: it half-closes the sending side and discards what the client
// still sends (for at most grace), so the client reads the close frame
// instead of a connection reset. Nothing else may read the connection.
func LingerClose(ws *websocket.Conn, grace time.Duration) {
	nc := ws.NetConn()
	if cw, ok := nc.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
		_ = nc.SetReadDeadline(time.Now().Add(grace))
		_, _ = io.Copy(io.Discard, nc)
	}
	_ = ws.Close()
}
