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
	// Sessions counts gateway sessions begun (READY): each shard's first
	// one, and a new one each time Discord did not let it resume.
	Sessions atomic.Int64
	// NewSessions counts the sessions begun by a connection (a shard) that
	// had one before: Discord did not let it resume.
	NewSessions atomic.Int64
	// Resumes counts gateway sessions resumed after a disconnect (RESUMED).
	Resumes atomic.Int64
	// LeaseRenewals and LeaseFailures count rounds of claiming and
	// renewing shard leases in PostgreSQL (sharding by lease only).
	LeaseRenewals, LeaseFailures atomic.Int64
	// ShardsTaken and ShardsHandedOver count shards this process began
	// and stopped running: at start, from a process that died, to one
	// that started.
	ShardsTaken, ShardsHandedOver atomic.Int64
}

// Reconnects is how many times a gateway connection came back after its
// first session began: resumed, or as a new session.
func (s *Stats) Reconnects() int64 { return s.NewSessions.Load() + s.Resumes.Load() }

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
