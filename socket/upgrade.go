package socket

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/internal/httpconn"
)

// Limits every socket shares.
const (
	// ReadLimit is the largest client message accepted by default (close
	// 1009 beyond it), Lanyard's limit for a fragmented message.
	ReadLimit = 8_000_000
	// Inactivity is how long a client may stay silent before the server
	// closes with 1002 (Lanyard's rule, which holds on /socket until the
	// dialect is known).
	Inactivity = 60 * time.Second
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

// Upgrade upgrades the request to a WebSocket with Halyard's socket
// policy (any origin, no compression extension) and returns it as one of
// the engine's Sockets, not yet reading (Socket.Start). A request that is
// not a valid upgrade is answered 400 upgrade_failed and an error
// returned.
func (e *Engine) Upgrade(c echo.Context) (*Socket, error) {
	hw := &hijackWriter{ResponseWriter: c.Response()}
	ws, err := socketUpgrader.Upgrade(hw, c.Request(), nil)
	if err != nil {
		return nil, err
	}
	c.Response().Status = http.StatusSwitchingProtocols // for the request log
	e.storm.upgraded()
	return e.newSocket(ws, hw.br, hw.lent), nil
}

// hijackWriter hands gorilla a small bufio.Reader of our own when it
// hijacks the connection, instead of net/http's 4 KiB one: gorilla reads
// frames from it, and the engine looks into it (Buffered, Peek) to run
// read turns without blocking, and lends it a buffer only for those
// (readbuf.go). The writer side is a tiny scratch buffer
// for the handshake response; frames are written through gorilla's pooled
// write buffers.
type hijackWriter struct {
	http.ResponseWriter
	br, lent *bufio.Reader // see Socket
}

// Hijack implements http.Hijacker.
func (w *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	nc = unwrapConn(nc)
	if brw.Reader.Buffered() > 0 {
		return nc, brw, nil // gorilla refuses data sent before the handshake
	}
	w.br = new(bufio.Reader)
	w.lent = lendReadBuffer(w.br, nc) // gorilla takes br only if it has a buffer
	return nc, bufio.NewReadWriter(w.br, bufio.NewWriterSize(nc, 16)), nil
}

// IsTimeout reports whether a read or write on a socket failed because
// its deadline passed.
func IsTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// SendClose sends a close frame (code, reason) with a short deadline. It
// does not close the TCP connection.
func SendClose(ws *websocket.Conn, code int, reason string) error {
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

// unwrapConn returns the TCP connection beneath the HTTP server's own
// (httpconn.Conn, whose write deadline the server arms for plain answers):
// a socket sets its own deadlines, and the engine polls the descriptor of
// a *net.TCPConn (netpoll_linux.go).
func unwrapConn(nc net.Conn) net.Conn {
	if hc, ok := nc.(*httpconn.Conn); ok {
		return hc.TCPConn
	}
	return nc
}
