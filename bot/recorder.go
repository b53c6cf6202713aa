package bot

import (
	"context"
	"errors"
	"log/slog"
	"math/bits"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"rollcall/attendance"
	"rollcall/store"
)

// maxPending bounds the member-chunks kept in memory while the database is
// unreachable: one entry covers a member's whole hour, so 50,000 is a very
// large guild over several events, a few MB.
const maxPending = 50000

// maxBackoff caps the wait between write attempts while the database is down.
const maxBackoff = time.Minute

// Kinds of due work: posts, and the daily purge.
const (
	KindEvent  = "event"
	KindWeekly = "weekly"
	// KindPurge is the day's purge: compaction, attendance past a guild's retention,
	// and guilds the bot left longer ago than their grace period.
	KindPurge = "purge"
	// KindCorrection is a follow-up under an event's report announcing a
	// moderator's correction of it (asked for with announce: true).
	KindCorrection = "correction"
	// KindRoles is an evaluation of a guild's role rules: after each of
	// its events, once a day, and when its rules change.
	KindRoles = "roles"
)

// Due is an automatic post that fell due: one report for some channels.
type Due struct {
	Kind    string // KindEvent, KindWeekly or KindCorrection
	GuildID uint64
	// OccurrenceID is the event's row (KindEvent, filled in by the
	// recorder; KindCorrection).
	OccurrenceID int64
	// CorrectionID is the correction announced (KindCorrection).
	CorrectionID int64
	occ          occKey
	// From and To are the week's span (KindWeekly).
	From, To time.Time
	Channels []uint64
	// At is when it fell due, for "posted late".
	At time.Time
}

// Poster turns due posts into durable jobs, inside the transaction that
// stores the last minutes of their events (package jobs).
type Poster interface {
	EnqueueTx(ctx context.Context, tx pgx.Tx, due []Due) error
}

// Batch is what one tick hands to the recorder.
type Batch struct {
	samples []keyedSample
	cov     []covSample
	occs    []occRef // occurrences the batch refers to, so their rows exist
	due     []Due
	ends    []occRef // native occurrences that ended: store their real end
	drops   []occKey // native occurrences canceled after they began: delete
}

type keyedSample struct {
	key sampleKey
	s   store.Sample
}

type covSample struct {
	key  covKey
	bits uint64
}

type occRef struct {
	key occKey
	occ attendance.Occurrence
}

// Recorder writes what the sampler saw, in the background: at most one
// statement per tick (none when nothing is new), in one transaction with the
// jobs of the posts that fell due. While the database is unreachable, or
// does not answer within WriteTimeout, everything stays in memory and is
// retried with backoff; nothing is lost until db_outage_window.
type Recorder struct {
	Store  *store.Store
	Poster Poster
	Log    *slog.Logger
	// PollInterval starts the backoff; OutageWindow bounds how long samples
	// of ended events are kept; WriteTimeout bounds one write (default 5 s).
	PollInterval, OutageWindow, WriteTimeout time.Duration
	// Stats, when set, counts the member-minutes stored; Observer, when
	// set, is told how long each write took.
	Stats    *Stats
	Observer Observer

	once sync.Once
	kick chan time.Time

	mu      sync.Mutex
	idle    *sync.Cond // broadcast when a write ends
	pending map[sampleKey]store.Sample
	pendCov map[covKey]uint64
	due     []Due
	ends    map[occKey]attendance.Occurrence
	drops   map[occKey]bool
	occs    map[occKey]attendance.Occurrence // occurrences referred to, until written and over
	occIDs  map[occKey]int64
	native  map[uint64]nativeStart // stored starts of Discord Scheduled Events, by id

	failures   int
	retryAt    time.Time
	failingFor time.Time
	kicked     bool // a kick is on its way to the writer
	busy       bool // the writer is writing
	// stored is the latest tick up to which everything the sampler handed
	// over is in the database, for the readiness check.
	stored time.Time
}

type nativeStart struct {
	start   time.Time
	pending bool
}

func (r *Recorder) init() {
	r.once.Do(func() {
		r.kick = make(chan time.Time, 1)
		r.idle = sync.NewCond(&r.mu)
		r.pending = map[sampleKey]store.Sample{}
		r.pendCov = map[covKey]uint64{}
		r.ends = map[occKey]attendance.Occurrence{}
		r.drops = map[occKey]bool{}
		r.occs = map[occKey]attendance.Occurrence{}
		r.occIDs = map[occKey]int64{}
		r.native = map[uint64]nativeStart{}
		if r.WriteTimeout <= 0 {
			r.WriteTimeout = 5 * time.Second
		}
		if r.Log == nil {
			r.Log = slog.Default()
		}
	})
}

// Add takes a tick's batch. It never blocks on I/O.
func (r *Recorder) Add(b Batch) {
	r.init()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, o := range b.occs {
		r.occs[o.key] = o.occ
	}
	for _, o := range b.ends {
		r.occs[o.key] = o.occ
		r.ends[o.key] = o.occ
	}
	dropped := 0
	for _, x := range b.samples {
		if _, queued := r.pending[x.key]; !queued && len(r.pending) >= maxPending {
			dropped++
			continue
		}
		r.pending[x.key] = merge(r.pending[x.key], x.s)
	}
	if dropped > 0 {
		r.Log.Error("database unreachable for too long: the in-memory buffer is full, dropping samples",
			slog.Int("dropped", dropped), slog.Int("buffered", len(r.pending)))
	}
	for _, c := range b.cov {
		r.pendCov[c.key] |= c.bits
	}
	r.due = append(r.due, b.due...)
	for _, k := range b.drops {
		for sk := range r.pending {
			if sk.occ == k {
				delete(r.pending, sk)
			}
		}
		for ck := range r.pendCov {
			if ck.occ == k {
				delete(r.pendCov, ck)
			}
		}
		delete(r.ends, k)
		r.due = deleteDue(r.due, k)
		if _, known := r.occIDs[k]; known {
			r.drops[k] = true
		} else {
			delete(r.occs, k)
		}
	}
}

func deleteDue(ds []Due, k occKey) []Due {
	out := ds[:0]
	for _, d := range ds {
		if d.occ != k || d.Kind != KindEvent {
			out = append(out, d)
		}
	}
	return out
}

func (r *Recorder) hasWorkLocked() bool {
	return len(r.pending) > 0 || len(r.pendCov) > 0 || len(r.due) > 0 || len(r.ends) > 0 || len(r.drops) > 0
}

// Kick asks the writer to write what is pending, unless it is backing off
// after a failure (until then the samples wait in memory) or busy.
func (r *Recorder) Kick(now time.Time) {
	r.init()
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.hasWorkLocked() && !r.busy && !r.kicked {
		r.markStoredLocked(now) // nothing new since the last write
	}
	if !r.hasWorkLocked() || now.Before(r.retryAt) || r.busy || r.kicked {
		return
	}
	r.kicked = true
	r.kick <- now
}

// Run writes on every kick until ctx ends.
func (r *Recorder) Run(ctx context.Context) {
	r.init()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-r.kick:
			r.flush(ctx, now, false)
		}
	}
}

// Flush writes what is pending now, ignoring the backoff: at shutdown. It
// reports how many member-chunks could not be stored.
func (r *Recorder) Flush(ctx context.Context, now time.Time) int {
	r.init()
	r.mu.Lock()
	for r.busy || r.kicked {
		if !r.busy {
			// Take the kick ourselves: the writer may be gone already.
			select {
			case <-r.kick:
				r.kicked = false
				continue
			default:
			}
		}
		r.idle.Wait()
	}
	r.mu.Unlock()
	r.flush(ctx, now, true)
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pending)
}

// WaitWritten waits until no write is in progress or asked for (a write
// itself is bounded by WriteTimeout). The writer must be running.
func (r *Recorder) WaitWritten() {
	r.init()
	r.mu.Lock()
	defer r.mu.Unlock()
	for r.busy || r.kicked {
		r.idle.Wait()
	}
}

// Settled reports whether the recorder has nothing to do at now: no write
// in progress or asked for, and nothing pending that a kick at now would
// write. Tests wait for it after each tick.
func (r *Recorder) Settled(now time.Time) bool {
	r.init()
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.busy && !r.kicked && (!r.hasWorkLocked() || now.Before(r.retryAt))
}

// batch is what one write takes out of pending.
type batch struct {
	samples map[sampleKey]store.Sample
	cov     map[covKey]uint64
	due     []Due
	ends    map[occKey]attendance.Occurrence
	drops   map[occKey]bool
}

func (r *Recorder) flush(ctx context.Context, now time.Time, shutdown bool) {
	r.mu.Lock()
	r.kicked = false
	if !r.hasWorkLocked() {
		r.idle.Broadcast()
		r.mu.Unlock()
		return
	}
	r.busy = true
	w := batch{samples: r.pending, cov: r.pendCov, due: r.due, ends: r.ends, drops: r.drops}
	r.pending, r.pendCov, r.due = map[sampleKey]store.Sample{}, map[covKey]uint64{}, nil
	r.ends, r.drops = map[occKey]attendance.Occurrence{}, map[occKey]bool{}
	r.mu.Unlock()

	wctx, cancel := context.WithTimeout(ctx, r.WriteTimeout)
	t0 := time.Now() // how long the database takes: real time
	err := r.write(wctx, w)
	cancel()
	if r.Observer != nil {
		r.Observer.Write(time.Since(t0), err)
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	r.busy = false
	defer r.idle.Broadcast()
	if err == nil {
		if r.failures > 0 {
			r.Log.Info("database reachable again: buffered attendance stored", slog.Duration("outage", now.Sub(r.failingFor)))
		}
		r.failures, r.retryAt, r.failingFor = 0, time.Time{}, time.Time{}
		r.forgetWrittenLocked(now, w)
		// Everything queued by the tick at now was in w.
		r.markStoredLocked(now)
		if r.Stats != nil {
			r.Stats.SamplesWritten.Add(minutesOf(w.samples))
		}
		return
	}
	// Put it all back, merged with what arrived meanwhile.
	for k, s := range w.samples {
		r.pending[k] = merge(r.pending[k], s)
	}
	for k, bits := range w.cov {
		r.pendCov[k] |= bits
	}
	r.due = append(w.due, r.due...)
	for k, o := range w.ends {
		r.ends[k] = o
	}
	for k := range w.drops {
		r.drops[k] = true
	}
	if r.failures == 0 {
		r.failingFor = now
	}
	r.failures++
	wait := min(r.PollInterval<<min(r.failures, 10), maxBackoff)
	r.retryAt = now.Add(wait)
	msg := "record attendance failed; keeping it in memory and retrying"
	if shutdown {
		msg = "record attendance at shutdown failed"
	}
	r.Log.Error(msg, slog.Int("buffered", len(r.pending)), slog.Int("posts_due", len(r.due)),
		slog.Duration("retry_in", wait), slog.Duration("failing_for", now.Sub(r.failingFor)), slog.Any("error", err))
	if window := r.OutageWindow; window > 0 && now.Sub(r.failingFor) > window {
		r.dropExpiredLocked(now.Add(-window))
	}
}

// write stores one batch: the occurrence rows it needs first, then the
// minutes, and, when posts fell due or native events ended, all of it in one
// transaction with their jobs.
func (r *Recorder) write(ctx context.Context, w batch) error {
	samples := make([]store.Sample, 0, len(w.samples))
	var lastKey occKey
	var lastID int64
	for k, s := range w.samples {
		if lastID == 0 || k.occ != lastKey {
			id, err := r.occurrenceID(ctx, k.occ)
			if err != nil {
				return err
			}
			lastKey, lastID = k.occ, id
		}
		s.OccurrenceID = lastID
		samples = append(samples, s)
	}
	cov := make([]store.Coverage, 0, len(w.cov))
	for k, bits := range w.cov {
		id, err := r.occurrenceID(ctx, k.occ)
		if err != nil {
			return err
		}
		cov = append(cov, store.Coverage{OccurrenceID: id, Chunk: k.chunk, Sampled: bits})
	}
	for i := range w.due {
		if w.due[i].Kind != KindEvent {
			continue
		}
		id, err := r.occurrenceID(ctx, w.due[i].occ)
		if err != nil {
			return err
		}
		w.due[i].OccurrenceID = id
	}
	ends := map[int64]time.Time{}
	for k, o := range w.ends {
		id, err := r.occurrenceID(ctx, k)
		if err != nil {
			return err
		}
		ends[id] = o.End
	}
	if len(w.due) == 0 && len(ends) == 0 && len(w.drops) == 0 {
		return r.Store.Record(ctx, samples, cov)
	}
	return r.Store.Tx(ctx, func(q *store.Queries, tx pgx.Tx) error {
		if err := q.Record(ctx, samples, cov); err != nil {
			return err
		}
		for id, end := range ends {
			if err := q.SetOccurrenceEnd(ctx, id, end); err != nil {
				return err
			}
		}
		for k := range w.drops {
			r.mu.Lock()
			id := r.occIDs[k]
			r.mu.Unlock()
			if err := q.DeleteOccurrence(ctx, id); err != nil {
				return err
			}
		}
		if len(w.due) == 0 || r.Poster == nil {
			return nil
		}
		return r.Poster.EnqueueTx(ctx, tx, w.due)
	})
}

// occurrenceID returns the row id of an occurrence, creating the row if
// needed (so an event nobody attends still exists and is reported).
func (r *Recorder) occurrenceID(ctx context.Context, k occKey) (int64, error) {
	r.mu.Lock()
	id, ok := r.occIDs[k]
	occ := r.occs[k]
	r.mu.Unlock()
	if ok {
		return id, nil
	}
	if occ.Start.IsZero() {
		return 0, errors.New("recorder: occurrence not known")
	}
	var err error
	if k.native != 0 {
		id, err = r.Store.EnsureNativeOccurrence(ctx, k.guild, k.native, occ.Schedule, occ.Start, occ.End)
	} else {
		id, err = r.Store.EnsureOccurrence(ctx, k.guild, occ.Schedule, occ.Start, occ.End)
	}
	if err != nil {
		return 0, err
	}
	r.mu.Lock()
	r.occIDs[k] = id
	r.mu.Unlock()
	return id, nil
}

// forgetWrittenLocked drops what the recorder remembers of occurrences that
// are over and fully written, an hour after they end (a late tick of the
// sampler may still refer to them).
func (r *Recorder) forgetWrittenLocked(now time.Time, w batch) {
	for k := range w.drops {
		delete(r.occIDs, k)
		delete(r.occs, k)
	}
	busy := map[occKey]bool{}
	for k := range r.pending {
		busy[k.occ] = true
	}
	for k := range r.pendCov {
		busy[k.occ] = true
	}
	for _, d := range r.due {
		busy[d.occ] = true
	}
	for k, o := range r.occs {
		if !busy[k] && o.End.Before(now.Add(-time.Hour)) {
			delete(r.occs, k)
			delete(r.occIDs, k)
		}
	}
}

// dropExpiredLocked gives up on buffered samples of occurrences that ended
// before t: the outage has lasted longer than db_outage_window. Due posts
// are kept: their events are stored as far as they are.
func (r *Recorder) dropExpiredLocked(t time.Time) {
	dropped := 0
	for k := range r.pending {
		if o, ok := r.occs[k.occ]; !ok || o.End.Before(t) {
			delete(r.pending, k)
			dropped++
		}
	}
	for k := range r.pendCov {
		if o, ok := r.occs[k.occ]; !ok || o.End.Before(t) {
			delete(r.pendCov, k)
		}
	}
	if dropped > 0 {
		r.Log.Error("database unreachable for longer than db_outage_window: dropped buffered attendance", slog.Int("member_chunks", dropped))
	}
}

func (r *Recorder) markStoredLocked(now time.Time) {
	if now.After(r.stored) {
		r.stored = now
	}
}

// StoredThrough is the latest tick up to which every sample is in the
// database (zero before the first tick): while the database is down, or
// the writer or the ticks stall, it falls behind the clock.
func (r *Recorder) StoredThrough() time.Time {
	r.init()
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stored
}

func minutesOf(samples map[sampleKey]store.Sample) int64 {
	var n int64
	for _, s := range samples {
		n += int64(bits.OnesCount64(s.Present))
	}
	return n
}

// Buffered is how many member-chunks wait to be written.
func (r *Recorder) Buffered() int {
	r.init()
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pending)
}

// NativeStart returns the stored start of a Discord Scheduled Event that
// begins recording now, or computed when it has no row yet. The lookup runs
// in the background: until it is done, known is false. When the database
// cannot answer, computed is used.
func (r *Recorder) NativeStart(guild, event uint64, computed time.Time) (start time.Time, known bool) {
	r.init()
	r.mu.Lock()
	defer r.mu.Unlock()
	if ns, ok := r.native[event]; ok {
		return ns.start, !ns.pending
	}
	r.native[event] = nativeStart{start: computed, pending: true}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		start := computed
		o, err := r.Store.NativeOccurrence(ctx, guild, event)
		switch {
		case err == nil:
			start = o.Start
		case !errors.Is(err, store.ErrNotFound):
			r.Log.Warn("look up a running Discord event; recording from its scheduled start", slog.Uint64("event_id", event), slog.Any("error", err))
		}
		r.mu.Lock()
		r.native[event] = nativeStart{start: start}
		r.mu.Unlock()
	}()
	return computed, false
}

// seed tells the recorder an occurrence's row id (found by the catch-up).
func (r *Recorder) seed(k occKey, id int64, occ attendance.Occurrence) {
	r.init()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.occIDs[k] = id
	r.occs[k] = occ
}

// ForgetMember drops every sample of a member in a guild that is not
// written yet: they paused recording or deleted their data.
func (r *Recorder) ForgetMember(guild, user uint64) {
	r.init()
	r.mu.Lock()
	defer r.mu.Unlock()
	for k := range r.pending {
		if k.occ.guild == guild && k.user == user {
			delete(r.pending, k)
		}
	}
}
