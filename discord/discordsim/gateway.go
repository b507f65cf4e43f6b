package discordsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

var upgrader = websocket.Upgrader{
	ReadBufferSize:    4096,
	WriteBufferSize:   32 << 10,
	CheckOrigin:       func(*http.Request) bool { return true },
	EnableCompression: false,
}

// serveHTTP routes REST (/api...) and gateway upgrades on one listener.
func (s *Sim) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.stampDate(w)
	if strings.HasPrefix(r.URL.Path, "/api") {
		s.serveREST(w, r)
		return
	}
	if websocket.IsWebSocketUpgrade(r) {
		s.serveGateway(w, r)
		return
	}
	if s.cfg.Extra != nil {
		s.cfg.Extra.ServeHTTP(w, r)
		return
	}
	writeError(w, http.StatusNotFound, 0, "404: Not Found")
}

// gatewayFrame is a client→server frame.
type gatewayFrame struct {
	Op *int            `json:"op"`
	D  json.RawMessage `json:"d"`
}

func (s *Sim) serveGateway(w http.ResponseWriter, r *http.Request) {
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := newConn(s, ws)
	c.query = r.URL.RawQuery
	c.version = gatewayVersion(r.URL.Query().Get("v"))
	c.touchBeat()
	s.mu.Lock()
	select {
	case <-s.closed:
		s.mu.Unlock()
		_ = ws.Close()
		return
	default:
	}
	s.conns[c] = struct{}{}
	s.wg.Add(3)
	s.mu.Unlock()
	s.connections.Add(1)
	s.active.Add(1)
	s.log.Debug("gateway connect", "query", c.query)

	if c.version == 0 {
		// Discord refuses a version it does not serve (or never served).
		c.closeWith(4012, "Invalid API version")
		s.wg.Done() // no heartbeat watcher
		go func() { defer s.wg.Done(); c.writeLoop() }()
		go func() { defer s.wg.Done(); s.readLoop(c) }()
		return
	}
	c.sendOp(10, `{"heartbeat_interval":`+strconv.FormatInt(s.cfg.HeartbeatInterval.Milliseconds(), 10)+`}`)
	go func() { defer s.wg.Done(); c.writeLoop() }()
	go func() { defer s.wg.Done(); s.watchHeartbeats(c) }()
	go func() { defer s.wg.Done(); s.readLoop(c) }()
}

// heartbeatTimeout is how long a connection may go without a heartbeat:
// 1.5 intervals plus generous slack (arikawa stalls after op 9 true).
func (s *Sim) heartbeatTimeout() time.Duration {
	iv := s.cfg.HeartbeatInterval
	return iv*3/2 + max(10*time.Second, iv)
}

func (s *Sim) watchHeartbeats(c *gwConn) {
	tick := min(s.cfg.HeartbeatInterval/2, time.Second)
	t := time.NewTicker(max(tick, 10*time.Millisecond))
	defer t.Stop()
	limit := s.heartbeatTimeout()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
			if c.sinceBeat() > limit {
				s.log.Debug("gateway heartbeat timeout")
				c.kill()
				return
			}
		}
	}
}

func (s *Sim) readLoop(c *gwConn) {
	serverClose := false
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.detachLocked(c)
		s.mu.Unlock()
		s.active.Add(-1)
		if serverClose {
			time.AfterFunc(2*time.Second, c.kill)
		} else {
			c.kill()
		}
	}()
	c.ws.SetReadLimit(1 << 20)
	for {
		mt, data, err := c.ws.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) && (ce.Code == websocket.CloseNormalClosure || ce.Code == websocket.CloseGoingAway) {
				s.mu.Lock()
				s.invalidateLocked(c)
				s.mu.Unlock()
			}
			return
		}
		code, reason := s.handleFrame(c, mt, data)
		if code != 0 {
			s.log.Debug("gateway close", "code", code, "reason", reason)
			c.closeWith(code, reason)
			serverClose = true
			return
		}
	}
}

// handleFrame processes one client frame; a non-zero code closes the connection.
func (s *Sim) handleFrame(c *gwConn, mt int, data []byte) (int, string) {
	if mt != websocket.TextMessage {
		return 4002, "Error while decoding payload."
	}
	if len(data) > maxClientSize {
		return 4002, "Error while decoding payload."
	}
	var f gatewayFrame
	if err := json.Unmarshal(data, &f); err != nil || f.Op == nil {
		return 4002, "Error while decoding payload."
	}
	op := *f.Op
	if op == 1 {
		c.touchBeat()
		if len(f.D) > 0 && !bytes.Equal(f.D, []byte("null")) {
			if _, err := strconv.ParseInt(string(f.D), 10, 64); err != nil {
				return 4002, "Error while decoding payload."
			}
		}
		if s.ack.Load() {
			c.sendOp(11, "null")
		}
		return 0, ""
	}
	now := time.Now()
	n := 0
	for _, t := range c.recent {
		if now.Sub(t) < sendWindow {
			c.recent[n] = t
			n++
		}
	}
	c.recent = append(c.recent[:n], now)
	if len(c.recent) > sendLimit {
		return 4008, "Rate limited."
	}
	s.mu.Lock()
	authed := c.sess != nil
	s.mu.Unlock()
	switch op {
	case 2:
		return s.handleIdentify(c, f.D)
	case 6:
		if authed {
			return 4005, "Already authenticated."
		}
		return s.handleResume(c, f.D)
	case 3, 4, 8:
		if !authed {
			return 4003, "Not authenticated."
		}
		if op == 8 {
			return s.handleRequestMembers(c, f.D)
		}
		return 0, ""
	default:
		if !authed {
			return 4003, "Not authenticated."
		}
		return 4001, "Unknown opcode."
	}
}

type identifyData struct {
	Token          string          `json:"token"`
	Intents        json.RawMessage `json:"intents"`
	Shard          json.RawMessage `json:"shard"`
	LargeThreshold int             `json:"large_threshold"`
}

func (s *Sim) checkToken(tok string) bool {
	return strings.TrimPrefix(tok, "Bot ") == s.cfg.Token
}

func (s *Sim) handleIdentify(c *gwConn, raw json.RawMessage) (int, string) {
	var d identifyData
	if err := json.Unmarshal(raw, &d); err != nil {
		return 4002, "Error while decoding payload."
	}
	s.mu.Lock()
	already := c.sess != nil
	s.mu.Unlock()
	if already {
		return 4005, "Already authenticated."
	}
	if !s.checkToken(d.Token) {
		return 4004, "Authentication failed."
	}
	intents, err := strconv.ParseUint(string(d.Intents), 10, 64)
	if err != nil || intents&^knownIntents != 0 {
		return 4013, "Invalid intent(s)."
	}
	if intents&PrivilegedIntents&^s.allowed.Load() != 0 {
		return 4014, "Disallowed intent(s)."
	}
	shardID, shardCount, ok := parseShard(d.Shard)
	if !ok {
		return 4010, "Invalid shard."
	}
	if len(s.pop.guilds) > shardCount*s.cfg.GuildsPerShard {
		return 4011, "Sharding required."
	}
	lt := d.LargeThreshold
	if lt == 0 {
		lt = 50
	}
	lt = min(max(lt, 50), 250)
	ss := &session{id: newSessionID(), version: c.version, intents: intents, shardID: shardID, shardCount: shardCount, largeThreshold: lt}

	s.mu.Lock()
	defer s.mu.Unlock()
	if code, op9 := s.admitIdentifyLocked(shardID); code != 0 {
		return code, "Authentication failed."
	} else if op9 {
		c.sendOp(9, "false") // over max_concurrency: identify again later
		return 0, ""
	}
	s.sessions[ss.id] = ss
	ss.conn, c.sess = c, ss
	s.identifies.Add(1)
	var owned []*guild
	for _, g := range s.pop.guilds {
		if ss.ownsGuild(g.id) {
			owned = append(owned, g)
		}
	}
	send := intents&IntentGuilds != 0 && len(owned) > 0
	var onReady func()
	if !send {
		onReady = s.markReady
	}
	s.dispatchLocked(ss, "READY", s.readyPayload(ss, owned), onReady)
	if send {
		for i, g := range owned {
			var done func()
			if i == len(owned)-1 {
				done = s.markReady
			}
			s.dispatchLocked(ss, "GUILD_CREATE", s.guildCreatePayload(ss, g), done)
		}
	}
	return 0, ""
}

// gatewayVersion reads the gateway URL's v: the gateway versions Discord
// serves (8 deprecated, 9, 10), 9 when the client names none, 0 for any
// other (refused with close 4012).
func gatewayVersion(v string) int {
	if v == "" {
		return 9
	}
	switch n, _ := strconv.Atoi(v); n {
	case 8, 9, 10:
		return n
	}
	return 0
}

func (s *Sim) readyPayload(ss *session, owned []*guild) []byte {
	stubs := make([]map[string]any, len(owned))
	for i, g := range owned {
		stubs[i] = map[string]any{"id": fmtID(g.id), "unavailable": true}
	}
	b, _ := json.Marshal(map[string]any{
		"v":                       ss.version,
		"user":                    s.pop.botUser(),
		"guilds":                  stubs,
		"session_id":              ss.id,
		"resume_gateway_url":      s.GatewayURL(),
		"shard":                   []int{ss.shardID, ss.shardCount},
		"application":             map[string]any{"id": fmtID(s.pop.botID), "flags": 8429568},
		"private_channels":        []any{},
		"relationships":           []any{},
		"presences":               []any{},
		"guild_join_requests":     []any{},
		"geo_ordered_rtc_regions": []string{"rotterdam", "frankfurt"},
		"session_type":            "normal",
		"user_settings":           map[string]any{},
		"_trace":                  []string{`["discordsim",{"micros":1}]`},
	})
	return b
}

type resumeData struct {
	Token     string `json:"token"`
	SessionID string `json:"session_id"`
	Seq       int64  `json:"seq"`
}

func (s *Sim) handleResume(c *gwConn, raw json.RawMessage) (int, string) {
	var d resumeData
	if err := json.Unmarshal(raw, &d); err != nil {
		return 4002, "Error while decoding payload."
	}
	if !s.checkToken(d.Token) {
		return 4004, "Authentication failed."
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.sessions[d.SessionID]
	if !ok {
		c.sendOp(9, "false")
		return 0, ""
	}
	if d.Seq > ss.seq {
		delete(s.sessions, ss.id)
		return 4007, "Invalid seq."
	}
	if len(ss.buf) > 0 && d.Seq < ss.buf[0].s-1 {
		// Gap: what the client missed is no longer buffered.
		delete(s.sessions, ss.id)
		c.sendOp(9, "false")
		return 0, ""
	}
	if old := ss.conn; old != nil {
		old.sess = nil
		go old.kill()
	}
	ss.conn, c.sess = c, ss
	// Chunks queued before are replayed below; the count starts afresh
	// (a RESUME may come on the very connection that was detached).
	ss.chunksQueued = 0
	ss.attached++
	s.resumes.Add(1)
	var replay []outFrame
	for _, f := range ss.buf {
		if f.s > d.Seq {
			replay = append(replay, f)
		}
	}
	c.enqueue(replay...)
	s.dispatchLocked(ss, "RESUMED", []byte(`{"_trace":["discordsim"]}`), nil)
	// RESUMED itself is never replayed.
	ss.bufBytes -= len(ss.buf[len(ss.buf)-1].d)
	ss.buf = ss.buf[:len(ss.buf)-1]
	s.fillChunksLocked(ss) // op 8 answers the old connection left unfinished
	return 0, ""
}
