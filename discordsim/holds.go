package discordsim

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"sync"
)

// Held requests: a Discord that is slow at one exact point of a request,
// so that a test can stop (or kill) the bot there.

// HoldPoint is where a held request waits.
type HoldPoint int

const (
	// HoldBefore holds a request before Discord handles it: while it is held
	// it has no effect. A client that gives up meanwhile (its connection
	// closes: a timeout, a killed process) never has its request handled,
	// as when a slow front end drops a request it had not passed on.
	HoldBefore HoldPoint = iota
	// HoldAfter handles the request at once (a message is created, say) and
	// holds its answer: what a bot sees when Discord commits a write and
	// then stalls. A client that gives up meanwhile never gets the answer.
	HoldAfter
)

func (p HoldPoint) String() string {
	if p == HoldAfter {
		return "after"
	}
	return "before"
}

// Hold holds REST requests where its HoldPoint says, until Release.
type Hold struct {
	s               *Server
	method, pattern string // "" matches any
	when            HoldPoint
	all             bool // every matching request until Release, not just the next one

	mu        sync.Mutex
	taken     int           // requests this hold has taken
	held      int           // requests waiting now
	abandoned int           // requests whose client gave up while held
	arrived   chan struct{} // closed when the first request is held
	released  chan struct{} // closed by Release
}

// HoldNext holds the next REST request matching method and pathPattern
// (e.g. "POST", "/channels/{id}/messages"; parameter names do not matter)
// at when, until Release. Wait tells when it has arrived. Holds are taken
// in the order they were made, so two HoldNext calls hold the next two
// requests.
func (s *Server) HoldNext(method, pathPattern string, when HoldPoint) *Hold {
	return s.addHold(&Hold{method: method, pattern: pathPattern, when: when})
}

// HoldAll holds every REST request matching method and pathPattern ("" for
// either matches everything) at when, until Release: a Discord whose HTTP
// API hangs while its gateway goes on.
func (s *Server) HoldAll(method, pathPattern string, when HoldPoint) *Hold {
	return s.addHold(&Hold{method: method, pattern: pathPattern, when: when, all: true})
}

func (s *Server) addHold(h *Hold) *Hold {
	h.s, h.arrived, h.released = s, make(chan struct{}), make(chan struct{})
	s.mu.Lock()
	defer s.mu.Unlock()
	s.holds = append(s.holds, h)
	return h
}

// Wait waits until the hold holds a request (or ctx ends).
func (h *Hold) Wait(ctx context.Context) error {
	select {
	case <-h.arrived:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Held is how many requests the hold has taken so far.
func (h *Hold) Held() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.taken
}

// Waiting is how many requests wait in the hold now.
func (h *Hold) Waiting() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.held
}

// Abandoned is how many held requests' clients gave up while held (a
// timeout, a killed process). Such a request, held before handling, never
// takes effect; a test that kills a client should wait for this to count
// it before Release, or the request may be handled after all.
func (h *Hold) Abandoned() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.abandoned
}

// Release lets every held request go on (and the hold takes no more). A
// request whose client gave up is not handled (HoldBefore) or not answered
// (HoldAfter); its RequestRecord says Abandoned.
func (h *Hold) Release() {
	h.s.mu.Lock()
	h.s.holds = slices.DeleteFunc(h.s.holds, func(x *Hold) bool { return x == h })
	h.s.mu.Unlock()
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-h.released:
	default:
		close(h.released)
	}
}

// takeHold returns the first hold that takes this request, if any.
func (s *Server) takeHold(method string, rt *route) *Hold {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, h := range s.holds {
		if (h.method != "" && h.method != method) || (h.pattern != "" && !samePattern(h.pattern, rt.pattern)) {
			continue
		}
		if !h.all {
			s.holds = slices.Delete(s.holds, i, i+1)
		}
		h.mu.Lock()
		h.taken++
		h.held++
		if h.taken == 1 {
			close(h.arrived)
		}
		h.mu.Unlock()
		s.notifyLocked()
		return h
	}
	return nil
}

// wait blocks until Release, and reports false if the client went away
// first (its request's context ended) or the server closed.
func (h *Hold) wait(ctx context.Context) bool {
	ok := false
	select {
	case <-h.released:
		ok = ctx.Err() == nil
	case <-ctx.Done():
	case <-h.s.closedSignal:
	}
	h.mu.Lock()
	h.held--
	if !ok {
		h.abandoned++
	}
	h.mu.Unlock()
	h.s.mu.Lock()
	h.s.notifyLocked()
	h.s.mu.Unlock()
	return ok
}

// heldAnswer keeps a handler's answer while HoldAfter holds it.
type heldAnswer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (a *heldAnswer) Header() http.Header { return a.header }
func (a *heldAnswer) WriteHeader(code int) {
	if a.status == 0 {
		a.status = code
	}
}
func (a *heldAnswer) Write(b []byte) (int, error) {
	if a.status == 0 {
		a.status = http.StatusOK
	}
	return a.body.Write(b)
}

// replay sends the kept answer to the client.
func (a *heldAnswer) replay(w http.ResponseWriter) {
	for k, v := range a.header {
		w.Header()[k] = v
	}
	if a.status == 0 {
		a.status = http.StatusOK
	}
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body.Bytes())
}
