// Package simtest is the glue every end-to-end test of the bot uses around the
// Discord simulator: Start runs a simulator that fails the test on requests real
// Discord would reject, and LogCapture collects the logs of disgo and the bot so
// a test can fail on payloads disgo could not decode and can search the logs.
package simtest

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"testing"

	"rollcall/discordsim"
	"rollcall/discordsim/conformance"
)

// unsetOnce makes the "not checked" notice appear once per test process, not
// once per test.
var unsetOnce sync.Once

// unsetNotice is printed when DISCORD_OPENAPI_SPEC is unset.
const unsetNotice = conformance.EnvSpec + " not set: requests are not checked against Discord's OpenAPI spec"

// Start starts a simulator for t with the conformance checker from
// DISCORD_OPENAPI_SPEC (it logs once per process "DISCORD_OPENAPI_SPEC not set:
// requests are not checked against Discord's OpenAPI spec" when unset), and
// registers a cleanup that closes it and fails t if any request did not conform,
// any answer of the simulator did not conform to the spec's response schemas,
// any request hit an unknown route, or any interaction was not acknowledged
// properly; and it fails t if the bot token or an interaction token appears
// in a log captured with NewLogCapture for t (see WatchLog). Response checking builds its validator on the first answer, once
// per test process (about 0.2 s; see package conformance).
//
// A CheckRequest or CheckResponse already in opts runs as well, before the
// spec check. Without a
// Logger in opts, the simulator's logs go to t.Log when testing.Verbose(). A
// test that provokes one of these failures on purpose should use
// discordsim.New directly.
func Start(t testing.TB, opts discordsim.Options) *discordsim.Server {
	t.Helper()
	checker, err := conformance.FromEnv()
	if err != nil {
		t.Fatalf("simtest: load Discord's OpenAPI spec: %v", err)
	}
	if checker == nil {
		unsetOnce.Do(func() {
			// Stderr as well as t.Log: t.Log of a passing test is hidden without -v,
			// and a run that silently checks nothing should say so.
			fmt.Fprintln(os.Stderr, "simtest: "+unsetNotice)
			t.Log(unsetNotice)
		})
	} else {
		opts.CheckRequest = chainChecks(opts.CheckRequest, checker.Check)
		opts.CheckResponse = chainResponseChecks(opts.CheckResponse, checker.CheckResponse)
	}
	if opts.Logger == nil {
		opts.Logger, _ = newLogCapture(t) // the simulator's own log: not the bot's
	}

	s, err := discordsim.New(opts)
	if err != nil {
		t.Fatalf("simtest: start simulator: %v", err)
	}
	watchSim(t, s)
	t.Cleanup(func() {
		defer simDone(t, s)
		// Close first, so that requests still in flight are recorded.
		if err := s.Close(); err != nil {
			t.Errorf("simtest: close simulator: %v", err)
		}
		for _, e := range s.ConformanceErrors() {
			t.Errorf("request Discord would reject: %s", e)
		}
		for _, e := range s.ResponseConformanceErrors() {
			t.Errorf("simulator answer unlike Discord's (a simulator bug): %s", e)
		}
		for _, r := range s.UnknownRoutes() {
			t.Errorf("request to a route the simulator does not know: %s", r)
		}
		for _, f := range s.FailedInteractions() {
			t.Errorf("interaction not acknowledged properly: %s", f)
		}
	})
	return s
}

// chainResponseChecks runs first (if any) and then second, and joins their errors.
func chainResponseChecks(first, second func(*http.Request, int, http.Header, []byte) error) func(*http.Request, int, http.Header, []byte) error {
	if first == nil {
		return second
	}
	return func(r *http.Request, status int, h http.Header, body []byte) error {
		return errors.Join(first(r, status, h, body), second(r, status, h, body))
	}
}

// chainChecks runs first (if any) and then second, and joins their errors.
func chainChecks(first, second func(*http.Request, []byte) error) func(*http.Request, []byte) error {
	if first == nil {
		return second
	}
	return func(r *http.Request, body []byte) error {
		return errors.Join(first(r, body), second(r, body))
	}
}
