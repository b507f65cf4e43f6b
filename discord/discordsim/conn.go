package discordsim

import (
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// outFrame is one queued server→client frame. Dispatches keep t/s/d
// separate so the replay buffer shares d between sessions.
type outFrame struct {
	op        int
	s         int64
	t         string
	d         []byte // raw JSON of "d"
	closeCode int    // >0: send a close frame with this code, then close
	reason    string
	onWritten func()
}

// gwConn is one gateway WebSocket connection with its own writer goroutine.
type gwConn struct {
	sim *Sim
	ws  *websocket.Conn

	qmu    sync.Mutex
	queue  []outFrame
	signal chan struct{}
	done   chan struct{}
	once   sync.Once

	// Guarded by Sim.mu.
	sess *session

	// Owned by the read loop.
	recent    []time.Time // non-heartbeat frames in the last 60 s
	query     string
	version   int // from the URL's v; 0 = unsupported
	beatMu    sync.Mutex
	lastBeatT time.Time
}

const (
	maxQueued     = 1 << 20 // frames; a client this far behind is cut off
	maxClientSize = 4096
	sendLimit     = 120
	sendWindow    = 60 * time.Second
)

func newConn(s *Sim, ws *websocket.Conn) *gwConn {
	return &gwConn{sim: s, ws: ws, signal: make(chan struct{}, 1), done: make(chan struct{})}
}

// enqueue queues frames for the writer. Safe to call with Sim.mu held.
func (c *gwConn) enqueue(fs ...outFrame) {
	c.qmu.Lock()
	if len(c.queue) > maxQueued {
		c.qmu.Unlock()
		go c.kill()
		return
	}
	c.queue = append(c.queue, fs...)
	c.qmu.Unlock()
	select {
	case c.signal <- struct{}{}:
	default:
	}
}

func (c *gwConn) sendOp(op int, d string) { c.enqueue(outFrame{op: op, d: []byte(d)}) }

func (c *gwConn) closeWith(code int, reason string) {
	c.enqueue(outFrame{closeCode: code, reason: reason})
}

// kill drops the TCP connection without a close frame.
func (c *gwConn) kill() {
	c.once.Do(func() { close(c.done) })
	_ = c.ws.UnderlyingConn().Close()
}

func (c *gwConn) touchBeat() {
	c.beatMu.Lock()
	c.lastBeatT = time.Now()
	c.beatMu.Unlock()
}

func (c *gwConn) sinceBeat() time.Duration {
	c.beatMu.Lock()
	defer c.beatMu.Unlock()
	return time.Since(c.lastBeatT)
}

// writeLoop writes queued frames in order until the connection ends. All
// frames queued since the last wake-up go out in one write: under a flood
// a write (a system call) per frame was most of the simulator's cost.
func (c *gwConn) writeLoop() {
	var batch []outFrame
	var out []byte
	for {
		select {
		case <-c.done:
			return
		case <-c.signal:
		}
		c.qmu.Lock()
		batch, c.queue = c.queue, batch[:0]
		c.qmu.Unlock()
		written := 0 // frames of batch already on the wire
		flush := func(upTo int) bool {
			if len(out) > 0 {
				if err := c.writeRaw(out); err != nil {
					c.kill()
					return false
				}
				out = out[:0]
			}
			for ; written < upTo; written++ {
				if f := &batch[written]; f.onWritten != nil {
					f.onWritten()
				}
			}
			return true
		}
		for i := range batch {
			f := &batch[i]
			if f.closeCode > 0 {
				if !flush(i) {
					return
				}
				msg := websocket.FormatCloseMessage(f.closeCode, f.reason)
				_ = c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
				c.kill()
				return
			}
			if len(f.d) >= bigFrame {
				// A large dispatch (a member chunk, a big GUILD_CREATE)
				// goes out from its own bytes with the frames before
				// it in one writev, instead of being copied into out.
				out = appendFrameHead(out, f)
				if err := c.writeBuffers(net.Buffers{out, f.d, frameTail}); err != nil {
					c.kill()
					return
				}
				out = out[:0]
				if !flush(i + 1) {
					return
				}
				continue
			}
			out = appendFrame(out, f)
			if len(out) >= maxWriteBatch && !flush(i+1) {
				return
			}
		}
		if !flush(len(batch)) {
			return
		}
		clear(batch)
		if cap(out) > 4*maxWriteBatch {
			out = nil // after a GUILD_CREATE of a large guild
		}
	}
}

// maxWriteBatch is the most bytes written at once.
const maxWriteBatch = 256 << 10

// bigFrame is the payload size from which a frame is written from its
// own bytes rather than copied into the batch.
const bigFrame = 64 << 10

// frameTail closes a dispatch's envelope after its "d".
var frameTail = []byte{'}'}

// writeRaw writes complete WebSocket frames to the connection. Frames go
// out whole in one write each, so they never interleave with gorilla's
// own control frames (written whole too, under the same socket lock).
func (c *gwConn) writeRaw(b []byte) error {
	conn := c.ws.NetConn()
	_ = conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
	_, err := conn.Write(b)
	return err
}

// writeBuffers writes complete WebSocket frames held in several slices
// with one writev, under the same socket lock as writeRaw's write.
func (c *gwConn) writeBuffers(bufs net.Buffers) error {
	conn := c.ws.NetConn()
	_ = conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
	_, err := bufs.WriteTo(conn)
	return err
}

// appendFrame appends f as one unmasked, unfragmented text frame (a
// server's frame, RFC 6455 §5.2).
func appendFrame(b []byte, f *outFrame) []byte {
	b = appendFrameHead(b, f)
	b = append(b, frameDataOf(f)...)
	return append(b, frameTail...)
}

func frameDataOf(f *outFrame) []byte {
	if len(f.d) == 0 {
		return []byte("null")
	}
	return f.d
}

// appendFrameHead appends the WebSocket header and the envelope up to
// "d": of f's frame; the frame continues with f's data and frameTail.
func appendFrameHead(b []byte, f *outFrame) []byte {
	var head [96]byte
	env := append(head[:0], `{"op":`...)
	env = strconv.AppendInt(env, int64(f.op), 10)
	if f.op == 0 {
		env = append(env, `,"s":`...)
		env = strconv.AppendInt(env, f.s, 10)
		env = append(env, `,"t":"`...)
		env = append(env, f.t...)
		env = append(env, '"')
	} else {
		env = append(env, `,"s":null,"t":null`...)
	}
	env = append(env, `,"d":`...)
	n := len(env) + len(frameDataOf(f)) + len(frameTail)
	b = append(b, 0x81) // FIN, text
	switch {
	case n < 126:
		b = append(b, byte(n))
	case n <= 0xFFFF:
		b = append(b, 126, byte(n>>8), byte(n))
	default:
		b = append(b, 127, 0, 0, 0, 0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, env...)
}
