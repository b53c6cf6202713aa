package discordsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// RequestRecord is one REST request in the transcript.
type RequestRecord struct {
	Time        time.Time
	Method      string
	Path        string // URL path below /api/v10, with the query if any
	Route       string // matched route pattern, e.g. "/channels/{channel}/messages"; "" if unknown
	Status      int
	ContentType string
	Body        string            // request body, trimmed past 16 KiB
	Params      map[string]string // the route's parameters by name, e.g. "user" for /guilds/{guild}/members/{user}
	// AuditLogReason is the X-Audit-Log-Reason header, URL-decoded as
	// Discord reads it; "" without one.
	AuditLogReason string
	// Abandoned: the client went away while a Hold held the request. Held
	// before handling, it never took effect (Status 0); held after, it did
	// (Status is what the handler answered) but no answer was delivered.
	Abandoned bool
}

// route is one REST route the simulator serves.
type route struct {
	method  string
	pattern string
	auth    bool   // needs "Authorization: Bot <token>"
	major   string // name of the param that scopes its rate-limit bucket
	handle  func(rc *reqCtx)
	segs    []string
	literal int // count of literal segments, to prefer specific routes
}

// reqCtx carries one request through its handler.
type reqCtx struct {
	s      *Server
	w      http.ResponseWriter
	r      *http.Request
	body   []byte
	params map[string]string
	route  *route
	status int
}

func (rc *reqCtx) param(name string) string { return rc.params[name] }

func (s *Server) routes() []*route {
	rs := []*route{
		{method: "GET", pattern: "/gateway", handle: s.handleGetGateway},
		{method: "GET", pattern: "/gateway/bot", auth: true, handle: s.handleGetGatewayBot},
		{method: "GET", pattern: "/users/@me", auth: true, handle: s.handleGetMe},
		{method: "GET", pattern: "/applications/@me", auth: true, handle: s.handleGetApplication},
		{method: "GET", pattern: "/applications/{app}/commands", auth: true, handle: s.handleListCommands},
		{method: "PUT", pattern: "/applications/{app}/commands", auth: true, handle: s.handlePutCommands},
		{method: "POST", pattern: "/applications/{app}/commands", auth: true, handle: s.handleCreateCommand},
		{method: "GET", pattern: "/applications/{app}/guilds/{guild}/commands", auth: true, major: "guild", handle: s.handleListCommands},
		{method: "PUT", pattern: "/applications/{app}/guilds/{guild}/commands", auth: true, major: "guild", handle: s.handlePutCommands},
		{method: "POST", pattern: "/applications/{app}/guilds/{guild}/commands", auth: true, major: "guild", handle: s.handleCreateCommand},
		{method: "GET", pattern: "/channels/{channel}", auth: true, major: "channel", handle: s.handleGetChannel},
		{method: "POST", pattern: "/channels/{channel}/messages", auth: true, major: "channel", handle: s.handleCreateMessage},
		{method: "GET", pattern: "/channels/{channel}/messages", auth: true, major: "channel", handle: s.handleListMessages},
		{method: "GET", pattern: "/channels/{channel}/messages/{message}", auth: true, major: "channel", handle: s.handleGetMessage},
		{method: "PATCH", pattern: "/channels/{channel}/messages/{message}", auth: true, major: "channel", handle: s.handleEditMessage},
		{method: "DELETE", pattern: "/channels/{channel}/messages/{message}", auth: true, major: "channel", handle: s.handleDeleteMessage},
		{method: "POST", pattern: "/interactions/{interaction}/{token}/callback", major: "interaction", handle: s.handleCallback},
		{method: "GET", pattern: "/webhooks/{app}/{token}/messages/@original", major: "token", handle: s.handleGetOriginal},
		{method: "PATCH", pattern: "/webhooks/{app}/{token}/messages/@original", major: "token", handle: s.handleEditOriginal},
		{method: "DELETE", pattern: "/webhooks/{app}/{token}/messages/@original", major: "token", handle: s.handleDeleteOriginal},
		{method: "POST", pattern: "/webhooks/{app}/{token}", major: "token", handle: s.handleFollowup},
		{method: "GET", pattern: "/webhooks/{app}/{token}/messages/{message}", major: "token", handle: s.handleGetFollowup},
		{method: "PATCH", pattern: "/webhooks/{app}/{token}/messages/{message}", major: "token", handle: s.handleEditFollowup},
		{method: "DELETE", pattern: "/webhooks/{app}/{token}/messages/{message}", major: "token", handle: s.handleDeleteFollowup},
		{method: "GET", pattern: "/guilds/{guild}", auth: true, major: "guild", handle: s.handleGetGuild},
		{method: "GET", pattern: "/guilds/{guild}/channels", auth: true, major: "guild", handle: s.handleGetGuildChannels},
		{method: "GET", pattern: "/guilds/{guild}/members", auth: true, major: "guild", handle: s.handleListMembers},
		{method: "GET", pattern: "/guilds/{guild}/members/{user}", auth: true, major: "guild", handle: s.handleGetMember},
		{method: "PUT", pattern: "/guilds/{guild}/members/{user}/roles/{role}", auth: true, major: "guild", handle: s.handleMemberRole},
		{method: "DELETE", pattern: "/guilds/{guild}/members/{user}/roles/{role}", auth: true, major: "guild", handle: s.handleMemberRole},
		{method: "GET", pattern: "/guilds/{guild}/roles", auth: true, major: "guild", handle: s.handleListRoles},
		{method: "GET", pattern: "/guilds/{guild}/scheduled-events", auth: true, major: "guild", handle: s.handleListEvents},
		{method: "GET", pattern: "/guilds/{guild}/scheduled-events/{event}", auth: true, major: "guild", handle: s.handleGetEvent},
		{method: "GET", pattern: "/guilds/{guild}/scheduled-events/{event}/users", auth: true, major: "guild", handle: s.handleEventUsers},
	}
	for _, r := range rs {
		r.segs = strings.Split(strings.Trim(r.pattern, "/"), "/")
		for _, sg := range r.segs {
			if !strings.HasPrefix(sg, "{") {
				r.literal++
			}
		}
	}
	return rs
}

// match finds the most specific route for path; methodOK reports whether
// some route matched the path with another method.
func matchRoute(routes []*route, method, path string) (best *route, params map[string]string, pathKnown bool) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for _, r := range routes {
		if len(r.segs) != len(segs) {
			continue
		}
		p := map[string]string{}
		ok := true
		for i, sg := range r.segs {
			if strings.HasPrefix(sg, "{") {
				if segs[i] == "" {
					ok = false
					break
				}
				p[strings.Trim(sg, "{}")] = segs[i]
			} else if sg != segs[i] {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		pathKnown = true
		if r.method != method {
			continue
		}
		if best == nil || r.literal > best.literal {
			best, params = r, p
		}
	}
	return best, params, pathKnown
}

// samePattern compares route patterns ignoring parameter names, so a test
// may write "/channels/{id}/messages" for "/channels/{channel}/messages".
func samePattern(a, b string) bool {
	as := strings.Split(strings.Trim(a, "/"), "/")
	bs := strings.Split(strings.Trim(b, "/"), "/")
	if len(as) != len(bs) {
		return false
	}
	for i := range as {
		ap, bp := strings.HasPrefix(as[i], "{"), strings.HasPrefix(bs[i], "{")
		if ap != bp || (!ap && as[i] != bs[i]) {
			return false
		}
	}
	return true
}

// statusWriter remembers the status for the transcript, and the body when
// Options.CheckResponse wants to see it.
type statusWriter struct {
	http.ResponseWriter
	status int
	body   *bytes.Buffer // nil unless capturing
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.body != nil {
		w.body.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

func (s *Server) serveREST(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/attachments/") {
		s.serveAttachment(w, r)
		return
	}
	sw := &statusWriter{ResponseWriter: w}
	// Discord's edge always answers with this header; disgo treats a 429
	// without it as a Cloudflare ban and applies it globally.
	sw.Header().Set("Via", "1.1 google")
	body, _ := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	rec := RequestRecord{Time: time.Now(), Method: r.Method, ContentType: r.Header.Get("Content-Type"), Body: trim(body, 16<<10)}
	defer func() {
		if rec.Status == 0 {
			rec.Status = sw.status
		}
		s.mu.Lock()
		s.requests = append(s.requests, rec)
		s.notifyLocked()
		s.mu.Unlock()
	}()

	const prefix = "/api/v10"
	path := strings.TrimPrefix(r.URL.Path, prefix)
	rec.Path = path
	if r.URL.RawQuery != "" {
		rec.Path += "?" + r.URL.RawQuery
	}
	if !strings.HasPrefix(r.URL.Path, prefix+"/") {
		s.unknownRoute(sw, r.Method+" "+r.URL.Path, http.StatusNotFound)
		return
	}
	rt, params, known := matchRoute(s.routeTable(), r.Method, path)
	if rt == nil {
		status := http.StatusNotFound
		if known {
			status = http.StatusMethodNotAllowed
		}
		s.unknownRoute(sw, r.Method+" "+path, status)
		return
	}
	rec.Route = rt.pattern
	rec.Params = params
	rec.AuditLogReason = auditReason(r)
	if rt.auth && r.Header.Get("Authorization") != "Bot "+s.Token() {
		writeJSON(sw, http.StatusUnauthorized, apiError(0, "401: Unauthorized"))
		return
	}
	if s.opts.CheckRequest != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err := s.opts.CheckRequest(r, body); err != nil {
			s.mu.Lock()
			s.conformance = append(s.conformance, fmt.Sprintf("%s %s: %v", r.Method, path, err))
			s.mu.Unlock()
			writeJSON(sw, http.StatusBadRequest, formError(obj{"_conformance": fieldError("CONFORMANCE", err.Error())}))
			return
		}
	}
	hold := s.takeHold(r.Method, rt)
	if hold != nil && hold.when == HoldBefore && !hold.wait(r.Context()) {
		rec.Abandoned = true // the client gave up first: the request never took effect
		return
	}
	if hold != nil && hold.when == HoldAfter {
		// Handled now, answered once the hold is released.
		answer := &heldAnswer{header: sw.Header().Clone()}
		inner := &statusWriter{ResponseWriter: answer}
		s.handleRoute(inner, r, rt, params, body)
		if !hold.wait(r.Context()) {
			rec.Status, rec.Abandoned = inner.status, true
			return
		}
		answer.replay(sw)
		return
	}
	s.handleRoute(sw, r, rt, params, body)
}

// handleRoute answers a request that passed the checks: an injected fault,
// the rate limit, or the route's handler.
func (s *Server) handleRoute(sw *statusWriter, r *http.Request, rt *route, params map[string]string, body []byte) {
	rule := s.takeFault(r.Method, rt)
	if rule != nil && !rule.after {
		s.writeFault(sw, rule, rt, params)
		return
	}
	if !s.applyRateLimit(sw, r.Method, rt, params) {
		return
	}
	if rule != nil {
		// The request takes effect, but the answer is lost: what a bot sees
		// when Discord (or the network) fails after committing a write.
		rt.handle(&reqCtx{s: s, w: discardWriter{header: http.Header{}}, r: r, body: body, params: params, route: rt})
		s.writeFault(sw, rule, rt, params)
		return
	}
	if s.opts.CheckResponse != nil {
		sw.body = &bytes.Buffer{}
	}
	rt.handle(&reqCtx{s: s, w: sw, r: r, body: body, params: params, route: rt})
	if s.opts.CheckResponse != nil {
		s.checkResponse(r, sw)
	}
}

// checkResponse runs Options.CheckResponse on what a handler answered, in
// the background: the client already has its answer, and the first check of
// an operation may compile schemas for a while. Close waits for the checks.
func (s *Server) checkResponse(r *http.Request, sw *statusWriter) {
	status := sw.status
	if status == 0 {
		status = http.StatusOK
	}
	header := sw.Header().Clone()
	body := sw.body.Bytes()
	req := r.Clone(context.WithoutCancel(r.Context()))
	s.checks.Add(1)
	go func() {
		defer s.checks.Done()
		if err := s.opts.CheckResponse(req, status, header, body); err != nil {
			s.mu.Lock()
			s.badResponses = append(s.badResponses, fmt.Sprintf("%s %s -> %d: %v", req.Method, req.URL.Path, status, err))
			s.notifyLocked()
			s.mu.Unlock()
		}
	}()
}

// discardWriter swallows a handler's answer.
type discardWriter struct{ header http.Header }

func (d discardWriter) Header() http.Header         { return d.header }
func (d discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d discardWriter) WriteHeader(int)             {}

func (s *Server) routeTable() []*route {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.routeCache == nil {
		s.routeCache = s.routes()
	}
	return s.routeCache
}

func (s *Server) unknownRoute(w http.ResponseWriter, what string, status int) {
	s.mu.Lock()
	s.unknown = append(s.unknown, what)
	s.mu.Unlock()
	if status == http.StatusMethodNotAllowed {
		writeJSON(w, status, apiError(0, "405: Method Not Allowed"))
		return
	}
	writeJSON(w, status, apiError(0, "404: Not Found"))
}

func trim(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("discordsim: marshal response: %v", err))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

// apiError is Discord's plain error body.
func apiError(code int, message string) obj {
	return obj{"message": message, "code": code}
}

// formError is Discord's 50035 body; errors mirrors the request's shape.
func formError(errors obj) obj {
	return obj{"code": 50035, "message": "Invalid Form Body", "errors": errors}
}

func fieldError(code, message string) obj {
	return obj{"_errors": []obj{{"code": code, "message": message}}}
}

// Routes lists the REST routes the simulator serves, as "METHOD /pattern"
// (e.g. "POST /channels/{channel}/messages"), in the order they are matched.
func (s *Server) Routes() []string {
	var out []string
	for _, rt := range s.routeTable() {
		out = append(out, rt.method+" "+rt.pattern)
	}
	return out
}

// Requests returns the REST transcript so far.
func (s *Server) Requests() []RequestRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]RequestRecord(nil), s.requests...)
}

// CountRequests counts the requests to a route, as method and pattern (e.g.
// "PUT", "/guilds/{g}/members/{u}/roles/{r}"; parameter names do not
// matter), whose parameters equal those in where, named as in pattern (e.g.
// {"u": alice.String()}; nil counts them all). Answers of every status count.
func (s *Server) CountRequests(method, pattern string, where map[string]string) int {
	names := strings.Split(strings.Trim(pattern, "/"), "/")
	n := 0
	for _, r := range s.Requests() {
		if r.Method != method || r.Route == "" || !samePattern(pattern, r.Route) {
			continue
		}
		path, _, _ := strings.Cut(r.Path, "?")
		segs := strings.Split(strings.Trim(path, "/"), "/")
		ok := true
		for i, name := range names {
			if want, set := where[strings.Trim(name, "{}")]; set && strings.HasPrefix(name, "{") && segs[i] != want {
				ok = false
			}
		}
		if ok {
			n++
		}
	}
	return n
}

// UnknownRoutes lists "METHOD /path" of every request no route served
// (404, or 405 for a known path with another method).
func (s *Server) UnknownRoutes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.unknown...)
}

// ResponseConformanceErrors lists the simulator's own answers that
// Options.CheckResponse rejected: places where it does not answer as
// Discord's spec says Discord does. Call it after Close, which waits for the
// checks still running.
func (s *Server) ResponseConformanceErrors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.badResponses...)
}

// ConformanceErrors lists errors from Options.CheckRequest and protocol
// misuse the simulator noticed.
func (s *Server) ConformanceErrors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.conformance...)
}
