package simtest

import (
	"strings"
	"sync"
	"testing"

	"rollcall/discordsim"
)

// Every end-to-end test checks at cleanup that no credential the simulator
// handed out reached the bot's log: the bot token (sent in IDENTIFY and on
// every REST call) and every interaction token (a 15-minute credential in
// webhook URLs and INTERACTION_CREATE frames). The logs are captured at
// debug level, so disgo's frame and request logging is covered too.
//
// A capture made with NewLogCapture and a simulator started with Start for
// the same test are checked against each other without further ado;
// WatchLog pairs them explicitly (e.g. when they belong to different
// subtests).

var leaks = struct {
	sync.Mutex
	sims map[testing.TB][]*discordsim.Server
	caps map[testing.TB][]*LogCapture
}{sims: map[testing.TB][]*discordsim.Server{}, caps: map[testing.TB][]*LogCapture{}}

func watchSim(t testing.TB, s *discordsim.Server) {
	leaks.Lock()
	leaks.sims[t] = append(leaks.sims[t], s)
	leaks.Unlock()
}

// simDone checks the captures of t made before s (the others check
// themselves when they end, while s is still registered) and forgets s.
func simDone(t testing.TB, s *discordsim.Server) {
	leaks.Lock()
	caps := append([]*LogCapture(nil), leaks.caps[t]...)
	sims := leaks.sims[t]
	for i, x := range sims {
		if x == s {
			leaks.sims[t] = append(sims[:i:i], sims[i+1:]...)
			break
		}
	}
	if len(leaks.sims[t]) == 0 {
		delete(leaks.sims, t)
	}
	leaks.Unlock()
	for _, c := range caps {
		c.checkLeaks(t, s)
	}
}

func watchCapture(t testing.TB, c *LogCapture) {
	leaks.Lock()
	leaks.caps[t] = append(leaks.caps[t], c)
	leaks.Unlock()
	t.Cleanup(func() {
		leaks.Lock()
		sims := append([]*discordsim.Server(nil), leaks.sims[t]...)
		cs := leaks.caps[t]
		for i, x := range cs {
			if x == c {
				leaks.caps[t] = append(cs[:i:i], cs[i+1:]...)
				break
			}
		}
		if len(leaks.caps[t]) == 0 {
			delete(leaks.caps, t)
		}
		leaks.Unlock()
		for _, s := range sims {
			c.checkLeaks(t, s)
		}
	})
}

// WatchLog fails t at cleanup if the bot token of s, or any interaction
// token s issued, appears anywhere in c (message or attributes, any level).
func WatchLog(t testing.TB, s *discordsim.Server, c *LogCapture) {
	t.Cleanup(func() { c.checkLeaks(t, s) })
}

// checkLeaks greps c for s's credentials, once per pair.
func (c *LogCapture) checkLeaks(t testing.TB, s *discordsim.Server) {
	st := c.root
	st.mu.Lock()
	if st.checked == nil {
		st.checked = map[*discordsim.Server]bool{}
	}
	done := st.checked[s]
	st.checked[s] = true
	st.mu.Unlock()
	if done {
		return
	}
	secrets := map[string]string{s.Token(): "the bot token"}
	for _, tok := range s.InteractionTokens() {
		secrets[tok] = "an interaction token (a credential for 15 minutes)"
	}
	for _, line := range c.Lines() {
		for secret, what := range secrets {
			if secret != "" && strings.Contains(line, secret) {
				t.Errorf("%s appears in the log: %s", what, clip(strings.ReplaceAll(line, secret, "<"+what+">")))
			}
		}
	}
}

func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}
