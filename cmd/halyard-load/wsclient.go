package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// wsConn is a minimal client WebSocket: the handshake, masked text frames
// out, and frames in. An idle subscriber keeps only the net.Conn (no
// reader goroutine, no buffer), so 100,000 of them are cheap for the tool
// and the figures measure the server, not the client.
type wsConn struct {
	conn    net.Conn
	br      *bufio.Reader // nil once the connection is parked
	dialect string
	wmu     sync.Mutex // heartbeats and pongs may come from two goroutines
}

// dialWS connects from local (nil: any) to the server's path and completes
// the WebSocket handshake.
func dialWS(addr, path string, local net.Addr, timeout time.Duration) (*wsConn, error) {
	d := net.Dialer{Timeout: timeout, LocalAddr: local}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	var key [16]byte
	_, _ = rand.Read(key[:])
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(key[:]) + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
	_ = conn.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(conn, req); err != nil {
		conn.Close()
		return nil, err
	}
	br := bufio.NewReaderSize(conn, 2048)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		conn.Close()
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		conn.Close()
		return nil, fmt.Errorf("handshake: %s", resp.Status)
	}
	return &wsConn{conn: conn, br: br}, nil
}

// writeText sends one masked text frame (clients must mask, RFC 6455 §5.3).
func (c *wsConn) writeText(payload []byte) error { return c.writeFrame(0x1, payload) }

func (c *wsConn) writeFrame(opcode byte, payload []byte) error {
	var hdr [14]byte
	hdr[0] = 0x80 | opcode
	n := 2
	switch l := len(payload); {
	case l < 126:
		hdr[1] = 0x80 | byte(l)
	case l < 1<<16:
		hdr[1] = 0x80 | 126
		binary.BigEndian.PutUint16(hdr[2:], uint16(l))
		n = 4
	default:
		hdr[1] = 0x80 | 127
		binary.BigEndian.PutUint64(hdr[2:], uint64(l))
		n = 10
	}
	var mask [4]byte
	_, _ = rand.Read(mask[:])
	copy(hdr[n:], mask[:])
	n += 4
	buf := make([]byte, n+len(payload))
	copy(buf, hdr[:n])
	for i, b := range payload {
		buf[n+i] = b ^ mask[i&3]
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.conn.Write(buf)
	return err
}

// errClosed is a close frame from the server.
var errClosed = errors.New("the server closed the WebSocket")

// readMessage returns the next data message, answering pings on the way.
func (c *wsConn) readMessage() ([]byte, error) {
	var msg []byte
	for {
		var h [2]byte
		if _, err := io.ReadFull(c.br, h[:]); err != nil {
			return nil, err
		}
		fin, opcode := h[0]&0x80 != 0, h[0]&0x0f
		l := uint64(h[1] & 0x7f)
		switch l {
		case 126:
			var b [2]byte
			if _, err := io.ReadFull(c.br, b[:]); err != nil {
				return nil, err
			}
			l = uint64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			if _, err := io.ReadFull(c.br, b[:]); err != nil {
				return nil, err
			}
			l = binary.BigEndian.Uint64(b[:])
		}
		if l > 16<<20 {
			return nil, fmt.Errorf("frame of %d bytes", l)
		}
		payload := make([]byte, l)
		if _, err := io.ReadFull(c.br, payload); err != nil {
			return nil, err
		}
		switch opcode {
		case 0x8:
			return nil, errClosed
		case 0x9:
			if err := c.writeFrame(0xA, payload); err != nil {
				return nil, err
			}
			continue
		case 0xA:
			continue
		}
		msg = append(msg, payload...)
		if fin {
			return msg, nil
		}
	}
}

// readUntil reads messages until one contains want.
func (c *wsConn) readUntil(want []byte) ([]byte, error) {
	for {
		m, err := c.readMessage()
		if err != nil {
			return nil, err
		}
		if bytes.Contains(m, want) {
			return m, nil
		}
	}
}

// subscribe dials one subscriber of userID in dialect ("lanyard" or
// "lantern") and waits for the subscription's first state.
func subscribe(addr, dialect, userID string, local net.Addr, timeout time.Duration) (*wsConn, error) {
	path, init, ack := "/lanyard/socket", `{"op":2,"d":{"subscribe_to_id":"`+userID+`"}}`, []byte(`"INIT_STATE"`)
	if dialect == "lantern" {
		path, init, ack = "/lantern/socket", `{"op":2,"d":{"user_id":"`+userID+`"}}`, []byte(`"INIT_ACK"`)
	}
	c, err := dialWS(addr, path, local, timeout)
	if err != nil {
		return nil, err
	}
	c.dialect = dialect
	if _, err := c.readUntil([]byte(`"op":1`)); err != nil { // HELLO
		c.Close()
		return nil, fmt.Errorf("%s hello: %w", dialect, err)
	}
	if err := c.writeText([]byte(init)); err != nil {
		c.Close()
		return nil, err
	}
	if _, err := c.readUntil(ack); err != nil {
		c.Close()
		return nil, fmt.Errorf("%s init: %w", dialect, err)
	}
	_ = c.conn.SetDeadline(time.Time{})
	return c, nil
}

// heartbeat sends the dialect's heartbeat: Lanyard op 3, Lantern op 4.
func (c *wsConn) heartbeat() error {
	_ = c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if c.dialect == "lantern" {
		return c.writeText([]byte(`{"op":4}`))
	}
	return c.writeText([]byte(`{"op":3}`))
}

// park drops the read buffer: an idle subscriber keeps only its socket.
func (c *wsConn) park() { c.br = nil }

// Close closes the connection.
func (c *wsConn) Close() error { return c.conn.Close() }
