package bot

import (
	"sync/atomic"
	"time"
)

// Stats count what the bot did since it started, for the metrics endpoint.
// Safe to read at any time.
type Stats struct {
	// SamplesWritten counts the member-minutes stored: a member seen in a
	// minute of an event is one, however many polls saw them.
	SamplesWritten atomic.Int64
	// Sessions counts gateway sessions begun (READY): the first one, and a
	// new one each time Discord did not let the bot resume.
	Sessions atomic.Int64
	// Resumes counts gateway sessions resumed after a disconnect (RESUMED).
	Resumes atomic.Int64
}

// Reconnects is how many times the gateway connection came back after the
// first session began: resumed, or as a new session.
func (s *Stats) Reconnects() int64 { return max(s.Sessions.Load()-1, 0) + s.Resumes.Load() }

// Observer is told how long the bot's work takes, in real time (not the
// bot's clock), for the metrics endpoint. Its methods are called on the
// tick and writer goroutines: they must be quick and safe for concurrent use.
type Observer interface {
	// Tick is one poll: reading the voice cache and handing the new
	// minutes to the recorder (no I/O).
	Tick(took time.Duration)
	// Write is one write of samples to the database, err nil when it was
	// stored.
	Write(took time.Duration, err error)
}
