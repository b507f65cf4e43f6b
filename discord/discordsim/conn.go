package discordsim

import (
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

// writeLoop writes queued frames in order until the connection ends.
func (c *gwConn) writeLoop() {
	var batch []outFrame
	for {
		select {
		case <-c.done:
			return
		case <-c.signal:
		}
		c.qmu.Lock()
		batch, c.queue = c.queue, batch[:0]
		c.qmu.Unlock()
		for i := range batch {
			f := &batch[i]
			if f.closeCode > 0 {
				msg := websocket.FormatCloseMessage(f.closeCode, f.reason)
				_ = c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
				c.kill()
				return
			}
			if err := c.writeFrame(f); err != nil {
				c.kill()
				return
			}
			if f.onWritten != nil {
				f.onWritten()
			}
		}
		clear(batch)
	}
}

func (c *gwConn) writeFrame(f *outFrame) error {
	_ = c.ws.SetWriteDeadline(time.Now().Add(30 * time.Second))
	w, err := c.ws.NextWriter(websocket.TextMessage)
	if err != nil {
		return err
	}
	var head [96]byte
	b := append(head[:0], `{"op":`...)
	b = strconv.AppendInt(b, int64(f.op), 10)
	if f.op == 0 {
		b = append(b, `,"s":`...)
		b = strconv.AppendInt(b, f.s, 10)
		b = append(b, `,"t":"`...)
		b = append(b, f.t...)
		b = append(b, '"')
	} else {
		b = append(b, `,"s":null,"t":null`...)
	}
	b = append(b, `,"d":`...)
	if _, err := w.Write(b); err != nil {
		return err
	}
	d := f.d
	if len(d) == 0 {
		d = []byte("null")
	}
	if _, err := w.Write(d); err != nil {
		return err
	}
	if _, err := w.Write([]byte{'}'}); err != nil {
		return err
	}
	return w.Close()
}
