package discordsim

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/snowflake/v2"
	"github.com/gorilla/websocket"
	"github.com/klauspost/compress/zstd"
)

// historyLimit bounds the dispatches a session keeps for RESUME replay.
const historyLimit = 2000

// knownIntents are the intent bits Discord accepts; others close with 4013.
const knownIntents = gateway.Intents(1<<26 - 1)

// FrameRecord is one gateway frame in the transcript.
type FrameRecord struct {
	Time    time.Time
	Out     bool   // true: simulator to client
	Conn    int    // connection number, 1-based in order of connection
	Session string // session id once identified/resumed
	Op      int    // opcode; -1 for a close frame
	Event   string // dispatch name (op 0), or "CLOSE <code>"
	Seq     int    // dispatch sequence number
	Data    string // the JSON payload (trimmed past 64 KiB)
}

type outFrame struct {
	data      []byte
	zlib      bool // zlib-payload compression requested in IDENTIFY
	close     bool
	closeCode int
	closeText string
}

// conn is one websocket connection. A session outlives its connections.
type conn struct {
	s        *Server
	num      int
	ws       *websocket.Conn
	path     string
	compress string
	out      chan outFrame
	done     chan struct{}
	once     sync.Once

	// guarded by s.mu
	sess        *session
	zlibPayload bool
	heartbeats  int // op 1 received on this connection
}

type histEntry struct {
	seq  int
	data []byte
}

// session is a gateway session: created by IDENTIFY, resumable until it
// is invalidated.
type session struct {
	id             string
	intents        gateway.Intents
	shard          [2]int
	largeThreshold int
	seq            int
	history        []histEntry
	conn           *conn // attached connection or nil
	ready          bool  // READY or RESUMED sent on conn
}

func (sess *session) coversGuild(guildID snowflake.ID) bool {
	if guildID == 0 {
		return sess.shard[0] == 0 // DMs go to shard 0
	}
	return int((uint64(guildID)>>22)%uint64(sess.shard[1])) == sess.shard[0]
}

func (c *conn) kill() {
	c.once.Do(func() {
		close(c.done)
		_ = c.ws.Close()
	})
}

var connCounter struct {
	sync.Mutex
	n int
}

func (s *Server) serveGateway(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.log.Warn("gateway upgrade failed", slog.Any("err", err))
		return
	}
	connCounter.Lock()
	connCounter.n++
	num := connCounter.n
	connCounter.Unlock()
	c := &conn{
		s: s, num: num, ws: ws, path: r.URL.Path, compress: q.Get("compress"),
		out: make(chan outFrame, 8192), done: make(chan struct{}),
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ws.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	go c.writeLoop()

	s.mu.Lock()
	switch {
	case q.Get("v") != "10":
		// Discord closes on an unsupported version rather than refusing the upgrade.
		s.closeConnLocked(c, 4012, "Invalid API version.")
	case q.Get("encoding") != "json":
		s.closeConnLocked(c, 4002, "Decode error.")
	case c.compress != "" && c.compress != "zlib-stream" && c.compress != "zstd-stream":
		s.closeConnLocked(c, 4002, "Decode error.")
	default:
		s.sendOpLocked(c, 10, obj{"heartbeat_interval": s.opts.HeartbeatInterval.Milliseconds(), "_trace": []string{`["discordsim",{"micros":0}]`}})
	}
	s.mu.Unlock()
	s.readLoop(c)
}

func (c *conn) writeLoop() {
	var (
		buf bytes.Buffer
		zw  *zlib.Writer
		zs  *zstd.Encoder
	)
	defer func() {
		if zs != nil {
			_ = zs.Close()
		}
	}()
	for {
		select {
		case <-c.done:
			return
		case f := <-c.out:
			if f.close {
				_ = c.ws.WriteControl(websocket.CloseMessage,
					websocket.FormatCloseMessage(f.closeCode, f.closeText), time.Now().Add(time.Second))
				c.kill()
				return
			}
			var err error
			switch c.compress {
			case "zstd-stream":
				// One zstd stream per connection; each message is a flushed
				// block in its own binary frame.
				if zs == nil {
					zs, err = zstd.NewWriter(&buf, zstd.WithEncoderConcurrency(1))
					if err != nil {
						break
					}
				}
				buf.Reset()
				if _, err = zs.Write(f.data); err == nil {
					err = zs.Flush()
				}
				if err == nil {
					err = c.ws.WriteMessage(websocket.BinaryMessage, buf.Bytes())
				}
			case "zlib-stream":
				// One zlib context per connection; each message ends with
				// the Z_SYNC_FLUSH suffix 00 00 ff ff that clients look for.
				if zw == nil {
					zw = zlib.NewWriter(&buf)
				}
				buf.Reset()
				if _, err = zw.Write(f.data); err == nil {
					err = zw.Flush()
				}
				if err == nil {
					err = c.ws.WriteMessage(websocket.BinaryMessage, buf.Bytes())
				}
			default:
				if f.zlib {
					var b bytes.Buffer
					w := zlib.NewWriter(&b)
					_, _ = w.Write(f.data)
					_ = w.Close()
					err = c.ws.WriteMessage(websocket.BinaryMessage, b.Bytes())
				} else {
					err = c.ws.WriteMessage(websocket.TextMessage, f.data)
				}
			}
			if err != nil {
				c.kill()
				return
			}
		}
	}
}

func (s *Server) readLoop(c *conn) {
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			s.connClosed(c, err)
			return
		}
		var m struct {
			Op *int            `json:"op"`
			D  json.RawMessage `json:"d"`
		}
		s.mu.Lock()
		if jerr := json.Unmarshal(data, &m); jerr != nil || m.Op == nil {
			s.recordFrameLocked(c, false, -2, "", 0, data)
			s.closeConnLocked(c, 4002, "Decode error.")
			s.mu.Unlock()
			continue
		}
		s.recordFrameLocked(c, false, *m.Op, "", 0, data)
		s.handleOpLocked(c, *m.Op, m.D)
		s.mu.Unlock()
	}
}

func (s *Server) connClosed(c *conn, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	if sess := c.sess; sess != nil && sess.conn == c {
		sess.conn = nil
		sess.ready = false
		// Discord invalidates a session whose client closed with 1000 or
		// 1001; any other close (or a dropped TCP connection) is resumable.
		var ce *websocket.CloseError
		if errors.As(err, &ce) && (ce.Code == websocket.CloseNormalClosure || ce.Code == websocket.CloseGoingAway) {
			delete(s.sessions, sess.id)
		}
	}
	c.kill()
	s.notifyLocked()
}

func (s *Server) recordFrameLocked(c *conn, out bool, op int, event string, seq int, data []byte) {
	const max = 64 << 10
	d := data
	if len(d) > max {
		d = d[:max]
	}
	sid := ""
	if c.sess != nil {
		sid = c.sess.id
	}
	s.frames = append(s.frames, FrameRecord{Time: time.Now(), Out: out, Conn: c.num, Session: sid,
		Op: op, Event: event, Seq: seq, Data: string(d)})
}

func (s *Server) enqueueLocked(c *conn, f outFrame) {
	select {
	case c.out <- f:
	case <-c.done:
	default:
		// A client this far behind is dead; Discord would drop it too.
		s.log.Warn("gateway send queue full, dropping connection", slog.Int("conn", c.num))
		c.kill()
	}
}

// sendOpLocked sends a non-dispatch opcode, with t and s null as Discord does.
func (s *Server) sendOpLocked(c *conn, op int, d any) {
	data, _ := json.Marshal(obj{"op": op, "d": d, "s": nil, "t": nil})
	s.recordFrameLocked(c, true, op, "", 0, data)
	s.enqueueLocked(c, outFrame{data: data, zlib: c.zlibPayload})
}

// closeConnLocked sends a close frame with code and detaches the connection
// from its session at once, so anything dispatched afterwards counts as
// missed (and is replayed on RESUME).
func (s *Server) closeConnLocked(c *conn, code int, text string) {
	s.recordFrameLocked(c, true, -1, fmt.Sprintf("CLOSE %d", code), 0, []byte(text))
	if sess := c.sess; sess != nil && sess.conn == c {
		sess.conn = nil
		sess.ready = false
		switch code {
		case 4004, 4007, 4009, 4010, 4011, 4012, 4013, 4014:
			// Closes after which Discord will not accept a RESUME.
			delete(s.sessions, sess.id)
		}
	}
	s.enqueueLocked(c, outFrame{close: true, closeCode: code, closeText: text})
	s.notifyLocked()
}

// sendDispatchLocked sends one dispatch on sess (or only records it for
// replay when sess has no live connection).
func (s *Server) sendDispatchLocked(sess *session, event string, d any) {
	sess.seq++
	data, err := json.Marshal(obj{"op": 0, "s": sess.seq, "t": event, "d": d})
	if err != nil {
		panic(fmt.Sprintf("discordsim: marshal %s: %v", event, err))
	}
	sess.history = append(sess.history, histEntry{seq: sess.seq, data: data})
	if len(sess.history) > historyLimit {
		sess.history = append([]histEntry(nil), sess.history[len(sess.history)-historyLimit:]...)
	}
	if c := sess.conn; c != nil && sess.ready {
		s.recordFrameLocked(c, true, 0, event, sess.seq, data)
		s.enqueueLocked(c, outFrame{data: data, zlib: c.zlibPayload})
	}
}

// dispatchGuildLocked sends event to every session whose shard covers
// guildID (0 = not guild-bound: shard 0) and whose intents include intent
// (0 = needs none). build renders the payload per session.
func (s *Server) dispatchGuildLocked(guildID snowflake.ID, intent gateway.Intents, event string, build func(*session) any) {
	if guildID != 0 && !s.botInLocked(s.guilds[guildID]) {
		// Discord sends a bot nothing about a guild it is not in.
		return
	}
	for _, sess := range s.sortedSessionsLocked() {
		if !sess.coversGuild(guildID) {
			continue
		}
		if intent != 0 && !sess.intents.Has(intent) {
			continue
		}
		s.sendDispatchLocked(sess, event, build(sess))
	}
}

func (s *Server) sortedSessionsLocked() []*session {
	out := make([]*session, 0, len(s.sessions))
	for _, sess := range s.sessions {
		out = append(out, sess)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

func (s *Server) dispatchGuildCreateLocked(g *guild) {
	s.dispatchGuildLocked(g.id, gateway.IntentGuilds, "GUILD_CREATE", func(sess *session) any {
		return s.guildCreateJSONLocked(g, sess)
	})
}

func (s *Server) dispatchGuildUpdateLocked(g *guild) {
	s.dispatchGuildLocked(g.id, gateway.IntentGuilds, "GUILD_UPDATE", func(*session) any {
		return s.guildJSONLocked(g)
	})
}

func (s *Server) handleOpLocked(c *conn, op int, d json.RawMessage) {
	switch op {
	case 1: // heartbeat
		c.heartbeats++
		s.sendOpLocked(c, 11, nil)
		s.notifyLocked()
	case 2:
		s.identifyLocked(c, d)
	case 6:
		s.resumeLocked(c, d)
	case 3, 4: // presence update, voice state update: accepted, not simulated
		if c.sess == nil {
			s.closeConnLocked(c, 4003, "Not authenticated.")
		}
	case 8:
		if c.sess == nil {
			s.closeConnLocked(c, 4003, "Not authenticated.")
			return
		}
		s.requestMembersLocked(c, d)
	default:
		s.closeConnLocked(c, 4001, "Unknown opcode.")
	}
}

func (s *Server) identifyLocked(c *conn, raw json.RawMessage) {
	var d struct {
		Token          string           `json:"token"`
		Intents        *gateway.Intents `json:"intents"`
		Shard          *[2]int          `json:"shard"`
		LargeThreshold int              `json:"large_threshold"`
		Compress       bool             `json:"compress"`
		Properties     *struct {
			OS      string `json:"os"`
			Browser string `json:"browser"`
			Device  string `json:"device"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(raw, &d); err != nil || d.Properties == nil {
		s.closeConnLocked(c, 4002, "Decode error.")
		return
	}
	if c.sess != nil {
		s.closeConnLocked(c, 4005, "Already authenticated.")
		return
	}
	if d.Token != s.token {
		s.closeConnLocked(c, 4004, "Authentication failed.")
		return
	}
	if d.Intents == nil || *d.Intents&^knownIntents != 0 {
		s.closeConnLocked(c, 4013, "Invalid intent(s).")
		return
	}
	shard := [2]int{0, 1}
	if d.Shard != nil {
		shard = *d.Shard
	}
	if shard[1] < 1 || shard[0] < 0 || shard[0] >= shard[1] {
		s.closeConnLocked(c, 4010, "Invalid shard.")
		return
	}
	lt := d.LargeThreshold
	if lt == 0 {
		lt = 50
	}
	lt = max(50, min(lt, 250))
	sess := &session{id: randomHex(16), intents: *d.Intents, shard: shard, largeThreshold: lt}
	var guilds []*guild
	for _, gid := range s.guildOrder {
		if sess.coversGuild(gid) && s.botInLocked(s.guilds[gid]) {
			guilds = append(guilds, s.guilds[gid])
		}
	}
	if len(guilds) > 2500 {
		s.closeConnLocked(c, 4011, "Sharding required.")
		return
	}
	if !s.admitIdentifyLocked(c, shard) {
		return
	}
	s.sessions[sess.id] = sess
	c.sess = sess
	c.zlibPayload = d.Compress && c.compress == ""
	sess.conn = c
	sess.ready = true
	s.identifies++

	stubs := make([]any, 0, len(guilds))
	for _, g := range guilds {
		stubs = append(stubs, obj{"id": g.id.String(), "unavailable": true})
	}
	self := userJSON(s.users[s.botID])
	self["verified"] = true
	self["mfa_enabled"] = false
	self["email"] = nil
	s.sendDispatchLocked(sess, "READY", obj{
		"v":                       10,
		"user":                    self,
		"user_settings":           obj{},
		"guilds":                  stubs,
		"guild_join_requests":     []any{},
		"relationships":           []any{},
		"private_channels":        []any{},
		"presences":               []any{},
		"sessions":                []any{},
		"session_id":              sess.id,
		"session_type":            "normal",
		"resume_gateway_url":      s.resumeURL(),
		"shard":                   []int{shard[0], shard[1]},
		"auth":                    obj{},
		"current_location":        []string{"CLIENT"},
		"application":             obj{"id": s.appID.String(), "flags": appFlags},
		"geo_ordered_rtc_regions": []string{"rotterdam", "frankfurt", "madrid", "milan", "stockholm"},
		"_trace":                  []string{`["discordsim",{"micros":0}]`},
	})
	for _, g := range guilds {
		if sess.intents.Has(gateway.IntentGuilds) {
			s.sendDispatchLocked(sess, "GUILD_CREATE", s.guildCreateJSONLocked(g, sess))
		}
	}
	s.notifyLocked()
}

func (s *Server) resumeLocked(c *conn, raw json.RawMessage) {
	var d struct {
		Token     string `json:"token"`
		SessionID string `json:"session_id"`
		Seq       int    `json:"seq"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		s.closeConnLocked(c, 4002, "Decode error.")
		return
	}
	if c.sess != nil {
		s.closeConnLocked(c, 4005, "Already authenticated.")
		return
	}
	if d.Token != s.token {
		s.closeConnLocked(c, 4004, "Authentication failed.")
		return
	}
	sess := s.sessions[d.SessionID]
	if sess == nil {
		s.sendOpLocked(c, 9, false)
		return
	}
	if d.Seq > sess.seq {
		s.closeConnLocked(c, 4007, "Invalid seq.")
		return
	}
	if len(sess.history) > 0 && sess.history[0].seq > d.Seq+1 {
		// What the client missed is no longer buffered.
		delete(s.sessions, sess.id)
		s.sendOpLocked(c, 9, false)
		return
	}
	if old := sess.conn; old != nil && old != c {
		// The new connection takes the session over; Discord drops the old one.
		sess.conn = nil
		s.enqueueLocked(old, outFrame{close: true, closeCode: 4000, closeText: "Session resumed elsewhere."})
	}
	c.sess = sess
	sess.conn = c
	sess.ready = true
	s.resumes++
	// Replay what the client has not processed, then RESUMED, in that
	// order, as Discord documents.
	for _, h := range sess.history {
		if h.seq > d.Seq {
			s.recordFrameLocked(c, true, 0, "(replay)", h.seq, h.data)
			s.enqueueLocked(c, outFrame{data: h.data, zlib: c.zlibPayload})
		}
	}
	s.sendDispatchLocked(sess, "RESUMED", obj{"_trace": []string{`["discordsim",{"micros":0}]`}})
	s.notifyLocked()
}

// requestMembersLocked answers op 8 with GUILD_MEMBERS_CHUNK events of up to
// 1000 members.
func (s *Server) requestMembersLocked(c *conn, raw json.RawMessage) {
	var d struct {
		GuildID json.RawMessage `json:"guild_id"`
		Query   *string         `json:"query"`
		Limit   int             `json:"limit"`
		UserIDs json.RawMessage `json:"user_ids"`
		Nonce   string          `json:"nonce"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		s.closeConnLocked(c, 4002, "Decode error.")
		return
	}
	gids := snowflakeList(d.GuildID)
	uids := snowflakeList(d.UserIDs)
	sess := c.sess
	for _, gid := range gids {
		g := s.guilds[gid]
		if g == nil || !sess.coversGuild(gid) || !s.botInLocked(g) {
			continue
		}
		var members []any
		var notFound []string
		switch {
		case len(uids) > 0:
			for _, uid := range uids {
				if m := g.members[uid]; m != nil {
					members = append(members, s.memberJSONLocked(g, m))
				} else {
					notFound = append(notFound, uid.String())
				}
			}
		case d.Query != nil:
			if *d.Query == "" && !sess.intents.Has(gateway.IntentGuildMembers) {
				// Discord requires GUILD_MEMBERS to list a whole guild.
				s.conformance = append(s.conformance, "gateway: REQUEST_GUILD_MEMBERS for the whole guild without the GUILD_MEMBERS intent")
				continue
			}
			for _, uid := range g.memberOrder {
				m := g.members[uid]
				u := s.users[uid]
				if *d.Query == "" || hasPrefixFold(u.username, *d.Query) || hasPrefixFold(m.nick, *d.Query) {
					members = append(members, s.memberJSONLocked(g, m))
					if d.Limit > 0 && len(members) >= d.Limit {
						break
					}
				}
			}
		}
		chunks := (len(members) + 999) / 1000
		if chunks == 0 {
			chunks = 1
		}
		for i := 0; i < chunks; i++ {
			part := members[min(i*1000, len(members)):min((i+1)*1000, len(members))]
			ev := obj{"guild_id": gid.String(), "members": append([]any{}, part...),
				"chunk_index": i, "chunk_count": chunks}
			if i == 0 && notFound != nil {
				ev["not_found"] = notFound
			}
			if d.Nonce != "" {
				ev["nonce"] = d.Nonce
			}
			s.sendDispatchLocked(sess, "GUILD_MEMBERS_CHUNK", ev)
		}
	}
}

// snowflakeList decodes a snowflake or an array of snowflakes.
func snowflakeList(raw json.RawMessage) []snowflake.ID {
	if len(raw) == 0 {
		return nil
	}
	var one snowflake.ID
	if json.Unmarshal(raw, &one) == nil {
		return []snowflake.ID{one}
	}
	var many []snowflake.ID
	_ = json.Unmarshal(raw, &many)
	return many
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && bytes.EqualFold([]byte(s[:len(prefix)]), []byte(prefix))
}

// Sessions counts sessions with a live, identified (or resumed) connection.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.liveSessionsLocked()
}

func (s *Server) liveSessionsLocked() int {
	n := 0
	for _, sess := range s.sessions {
		if sess.conn != nil && sess.ready {
			n++
		}
	}
	return n
}

// WaitSessions waits until at least n sessions are live.
func (s *Server) WaitSessions(ctx context.Context, n int) error {
	return s.waitFor(ctx, func() bool { return s.liveSessionsLocked() >= n })
}

// WaitHeartbeat waits until every live session's connection has sent at
// least one heartbeat. Tests run with -race need it: disgo v0.19.6's
// heartbeat goroutine stores its cancel func without synchronisation and
// only synchronises (connMu, its debug log) when it first beats, so closing
// or reconnecting a client before that beat is reported as a data race
// inside disgo. See Traps in doc.go.
func (s *Server) WaitHeartbeat(ctx context.Context) error {
	return s.waitFor(ctx, func() bool {
		for _, sess := range s.sessions {
			if sess.conn != nil && sess.ready && sess.conn.heartbeats == 0 {
				return false
			}
		}
		return true
	})
}

// Identifies counts IDENTIFYs accepted (fresh sessions).
func (s *Server) Identifies() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.identifies
}

// Resumes counts RESUMEs accepted.
func (s *Server) Resumes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.resumes
}

// WaitIdentifies waits until at least n IDENTIFYs were accepted.
func (s *Server) WaitIdentifies(ctx context.Context, n int) error {
	return s.waitFor(ctx, func() bool { return s.identifies >= n })
}

// WaitResumes waits until at least n RESUMEs were accepted.
func (s *Server) WaitResumes(ctx context.Context, n int) error {
	return s.waitFor(ctx, func() bool { return s.resumes >= n })
}

// Disconnect force-closes every gateway connection with code. Sessions stay
// resumable unless code is one after which Discord refuses a RESUME
// (4004, 4007, 4009, 4010-4014). Dispatches made after Disconnect returns
// are missed by the client and replayed on RESUME.
func (s *Server) Disconnect(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		s.closeConnLocked(c, code, "discordsim: forced disconnect")
	}
}

// RequestReconnect sends op 7 (Reconnect) on every identified connection.
func (s *Server) RequestReconnect() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.sess != nil && c.sess.conn == c {
			s.sendOpLocked(c, 7, nil)
		}
	}
}

// InvalidateSession sends op 9 on every identified connection. With
// resumable false the sessions are dropped, so the client must IDENTIFY anew.
func (s *Server) InvalidateSession(resumable bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		sess := c.sess
		if sess == nil || sess.conn != c {
			continue
		}
		s.sendOpLocked(c, 9, resumable)
		if !resumable {
			delete(s.sessions, sess.id)
		}
	}
	s.notifyLocked()
}

// Frames returns the gateway transcript so far.
func (s *Server) Frames() []FrameRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]FrameRecord(nil), s.frames...)
}
