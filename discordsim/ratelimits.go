package discordsim

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Rate-limit buckets and injected faults, for tests of a bot's handling
// of 429s and lost answers.

type routeLimit struct {
	limit  int
	window time.Duration
}

type bucket struct {
	remaining int
	reset     time.Time
	limit     routeLimit
}

type failRule struct {
	method, pattern string
	n               int
	status          int
	retryAfter      time.Duration
	after           bool // handle the request, then answer status
}

// defaultRouteLimit is 5 requests per 2 s, close to what Discord gives the
// message routes.
var defaultRouteLimit = routeLimit{limit: 5, window: 2 * time.Second}

// SetRateLimits turns per-route bucket rate limiting on or off. When on,
// every response carries X-RateLimit-* headers and a request beyond a
// bucket's limit answers 429.
func (s *Server) SetRateLimits(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateLimits = on
	s.buckets = map[string]*bucket{}
}

// SetRouteLimit sets the bucket size and window of one route (pattern as in
// FailNext) for rate-limit mode.
func (s *Server) SetRouteLimit(method, pathPattern string, limit int, window time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.routeLimits[method+" "+pathPattern] = routeLimit{limit: limit, window: window}
}

// FailNext makes the next n requests matching method and pathPattern (e.g.
// "/channels/{id}/messages"; parameter names do not matter) answer status.
// A 429 carries Retry-After (whole seconds, rounded up from retryAfter) and
// Discord's rate-limit JSON; other statuses carry a Discord error body.
func (s *Server) FailNext(method, pathPattern string, n int, status int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failRules = append(s.failRules, &failRule{method: method, pattern: pathPattern, n: n, status: status, retryAfter: retryAfter})
}

// FailNextAfterHandling makes the next n requests matching method and
// pathPattern take effect (a message is created, say) and then answer
// status instead of the real answer, as when a response is lost.
func (s *Server) FailNextAfterHandling(method, pathPattern string, n int, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failRules = append(s.failRules, &failRule{method: method, pattern: pathPattern, n: n, status: status, after: true})
}

// ClearFaults drops every fault FailNext and FailNextAfterHandling still
// had to inject: Discord is well again.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failRules = nil
}

func (s *Server) takeFault(method string, rt *route) *failRule {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.failRules {
		if f.n > 0 && f.method == method && samePattern(f.pattern, rt.pattern) {
			f.n--
			return f
		}
	}
	return nil
}

func (s *Server) writeFault(w http.ResponseWriter, rule *failRule, rt *route, params map[string]string) {
	if rule.status == http.StatusTooManyRequests {
		ra := rule.retryAfter
		if ra <= 0 {
			ra = time.Second
		}
		write429(w, s.bucketID(rt, params), ra, false)
		return
	}
	msg := fmt.Sprintf("%d: %s", rule.status, http.StatusText(rule.status))
	writeJSON(w, rule.status, apiError(0, msg))
}

func (s *Server) bucketID(rt *route, params map[string]string) string {
	return fmt.Sprintf("%x", hash(rt.method+" "+rt.pattern))
}

func hash(s string) uint64 {
	var h uint64 = 14695981039346656037
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func write429(w http.ResponseWriter, bucketID string, retryAfter time.Duration, global bool) {
	secs := retryAfter.Seconds()
	h := w.Header()
	// Retry-After is whole seconds, rounded up; the body has the float.
	h.Set("Retry-After", strconv.Itoa(int(math.Ceil(secs))))
	h.Set("X-RateLimit-Limit", "5")
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Reset", fmt.Sprintf("%.3f", float64(time.Now().Add(retryAfter).UnixMilli())/1000))
	h.Set("X-RateLimit-Reset-After", fmt.Sprintf("%.3f", secs))
	h.Set("X-RateLimit-Bucket", bucketID)
	h.Set("X-RateLimit-Scope", "user")
	if global {
		h.Set("X-RateLimit-Global", "true")
	}
	writeJSON(w, http.StatusTooManyRequests, obj{
		"message":     "You are being rate limited.",
		"retry_after": math.Round(secs*1000) / 1000,
		"global":      global,
	})
}

// applyRateLimit enforces and advertises the route's bucket; false means a
// 429 was written.
func (s *Server) applyRateLimit(w http.ResponseWriter, method string, rt *route, params map[string]string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.rateLimits {
		return true
	}
	lim := defaultRouteLimit
	for k, l := range s.routeLimits {
		m, p, _ := strings.Cut(k, " ")
		if m == method && samePattern(p, rt.pattern) {
			lim = l
		}
	}
	key := method + " " + rt.pattern + " " + params[rt.major]
	now := time.Now()
	b := s.buckets[key]
	if b == nil || !now.Before(b.reset) {
		b = &bucket{remaining: lim.limit, reset: now.Add(lim.window), limit: lim}
		s.buckets[key] = b
	}
	id := s.bucketID(rt, params)
	if b.remaining <= 0 {
		write429(w, id, b.reset.Sub(now), false)
		return false
	}
	b.remaining--
	h := w.Header()
	resetAfter := b.reset.Sub(now).Seconds()
	h.Set("X-RateLimit-Limit", strconv.Itoa(lim.limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(b.remaining))
	h.Set("X-RateLimit-Reset", fmt.Sprintf("%.3f", float64(b.reset.UnixMilli())/1000))
	h.Set("X-RateLimit-Reset-After", fmt.Sprintf("%.3f", resetAfter))
	h.Set("X-RateLimit-Bucket", id)
	return true
}
