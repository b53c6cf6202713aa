package discordsim

import (
	"encoding/base64"
	"fmt"
	"time"
)

// Discord's limits on starting gateway sessions (the Gateway docs'
// "Identifying" and "Session Start Limit"): at most max_concurrency
// IDENTIFYs per 5 seconds, one per rate-limit key (shard_id %
// max_concurrency), across every connection of the bot, answered op 9
// Invalid Session when exceeded; and a daily total (1000 for most bots),
// after which Discord terminates every session and resets the bot's token.

// identifyInterval is the window of max_concurrency.
const identifyInterval = 5 * time.Second

// sessionStartWindow is how long session starts count against the total.
const sessionStartWindow = 24 * time.Hour

// IdentifyRecord is one IDENTIFY with a valid token the gateway received.
type IdentifyRecord struct {
	Time     time.Time // wall clock, as the 5-second limit runs on it
	Conn     int       // connection number, as in FrameRecord
	Shard    [2]int    // [shard_id, num_shards]
	Key      int       // rate-limit key: shard_id % max_concurrency
	Accepted bool      // a session started (READY)
	// Refused says why not: "max_concurrency" (op 9 Invalid Session) or
	// "session start limit" (every session terminated, the token reset).
	Refused string
}

// IdentifyAttempts returns every IDENTIFY with a valid token, in order.
func (s *Server) IdentifyAttempts() []IdentifyRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]IdentifyRecord(nil), s.identifyLog...)
}

// sessionStartLimitLocked is GET /gateway/bot's session_start_limit.
func (s *Server) sessionStartLimitLocked() obj {
	s.resetSessionStartsLocked()
	resetAfter := sessionStartWindow
	if s.sessionStarts > 0 {
		resetAfter = s.startsSince.Add(sessionStartWindow).Sub(s.opts.Now())
	}
	return obj{
		"total":           s.opts.SessionStartLimit,
		"remaining":       max(0, s.opts.SessionStartLimit-s.sessionStarts),
		"reset_after":     resetAfter.Milliseconds(),
		"max_concurrency": s.opts.MaxConcurrency,
	}
}

// resetSessionStartsLocked starts a new daily window once the last one is
// over (on Options.Now, so a test can move its clock past it).
func (s *Server) resetSessionStartsLocked() {
	if s.sessionStarts > 0 && !s.opts.Now().Before(s.startsSince.Add(sessionStartWindow)) {
		s.sessionStarts = 0
	}
}

// admitIdentifyLocked applies the session start limits to an IDENTIFY on c
// for shard; false means it was refused and answered.
func (s *Server) admitIdentifyLocked(c *conn, shard [2]int) bool {
	now := time.Now()
	rec := IdentifyRecord{Time: now, Conn: c.num, Shard: shard, Key: shard[0] % s.opts.MaxConcurrency}
	if last, ok := s.lastIdentify[rec.Key]; ok && now.Sub(last) < identifyInterval {
		rec.Refused = "max_concurrency"
		s.identifyLog = append(s.identifyLog, rec)
		s.sendOpLocked(c, 9, false)
		s.notifyLocked()
		return false
	}
	s.resetSessionStartsLocked()
	if s.sessionStarts >= s.opts.SessionStartLimit {
		rec.Refused = "session start limit"
		s.identifyLog = append(s.identifyLog, rec)
		s.conformance = append(s.conformance, fmt.Sprintf(
			"gateway: IDENTIFY beyond the %d session starts a day: Discord terminates every session and resets the token", s.opts.SessionStartLimit))
		s.resetTokenLocked()
		return false
	}
	if s.sessionStarts == 0 {
		s.startsSince = s.opts.Now()
	}
	s.sessionStarts++
	s.lastIdentify[rec.Key] = now
	rec.Accepted = true
	s.identifyLog = append(s.identifyLog, rec)
	return true
}

// resetTokenLocked does what Discord does when the daily session starts
// run out: every session ends (its connection closed with 4004, since its
// token no longer authenticates) and the bot gets a new token, which
// Token returns from then on; REST requests with the old one answer 401.
func (s *Server) resetTokenLocked() {
	for c := range s.conns {
		s.closeConnLocked(c, 4004, "Authentication failed.")
	}
	for id := range s.sessions {
		delete(s.sessions, id)
	}
	s.token = base64.RawStdEncoding.EncodeToString([]byte(s.appID.String())) + "." +
		randomToken(4) + "." + randomToken(20)
	s.notifyLocked()
}
