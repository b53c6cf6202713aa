package bot

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"rollcall/store"
)

// maxQueued bounds the member changes waiting for the database; past it the
// oldest updates are dropped (names are refreshed on the next start anyway).
const maxQueued = 100000

type memberKey struct{ guild, user uint64 }

type interestOp struct {
	guild, event, user uint64
	add                bool
}

// worker does the database work that gateway events ask for, off disgo's
// dispatch goroutine: a slow database must never delay the next gateway
// event or an interaction's acknowledgement. Member updates are coalesced
// per member and written in one statement per guild.
type worker struct {
	store *store.Store
	log   *slog.Logger

	mu       sync.Mutex
	upserts  map[memberKey]store.Member
	leaves   map[memberKey]time.Time
	interest []interestOp
	busy     bool
	signal   chan struct{}
}

func newWorker(st *store.Store, log *slog.Logger) *worker {
	return &worker{store: st, log: log, upserts: map[memberKey]store.Member{}, leaves: map[memberKey]time.Time{}, signal: make(chan struct{}, 1)}
}

func (w *worker) wake() {
	select {
	case w.signal <- struct{}{}:
	default:
	}
}

func (w *worker) upsert(m store.Member) {
	w.mu.Lock()
	k := memberKey{m.GuildID, m.UserID}
	delete(w.leaves, k)
	if len(w.upserts) < maxQueued {
		w.upserts[k] = m
	}
	w.mu.Unlock()
	w.wake()
}

func (w *worker) left(guild, user uint64, at time.Time) {
	w.mu.Lock()
	k := memberKey{guild, user}
	delete(w.upserts, k)
	if len(w.leaves) < maxQueued {
		w.leaves[k] = at
	}
	w.mu.Unlock()
	w.wake()
}

func (w *worker) interested(op interestOp) {
	w.mu.Lock()
	if len(w.interest) < maxQueued {
		w.interest = append(w.interest, op)
	}
	w.mu.Unlock()
	w.wake()
}

func (w *worker) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.signal:
			w.drain(ctx)
		}
	}
}

// flush writes what is queued, at shutdown.
func (w *worker) flush() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	w.drain(ctx)
}

func (w *worker) settled() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return !w.busy && len(w.upserts) == 0 && len(w.leaves) == 0 && len(w.interest) == 0
}

func (w *worker) drain(ctx context.Context) {
	w.mu.Lock()
	ups, leaves, ops := w.upserts, w.leaves, w.interest
	w.upserts, w.leaves, w.interest = map[memberKey]store.Member{}, map[memberKey]time.Time{}, nil
	w.busy = true
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		w.busy = false
		w.mu.Unlock()
	}()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	byGuild := map[uint64][]store.Member{}
	for _, m := range ups {
		byGuild[m.GuildID] = append(byGuild[m.GuildID], m)
	}
	for g, ms := range byGuild {
		if err := w.store.UpsertMembers(ctx, g, ms); err != nil {
			w.log.Error("store members", slog.Uint64("guild_id", g), slog.Int("members", len(ms)), slog.Any("error", err))
		}
	}
	for k, at := range leaves {
		if err := w.store.MarkLeft(ctx, k.guild, k.user, at); err != nil {
			w.log.Error("store member left", slog.Uint64("user_id", k.user), slog.Any("error", err))
		}
	}
	for _, op := range ops {
		var err error
		if op.add {
			err = w.store.AddInterested(ctx, op.guild, op.event, op.user)
		} else {
			err = w.store.RemoveInterested(ctx, op.event, op.user)
		}
		if err != nil {
			w.log.Error("store interested user", slog.Uint64("event_id", op.event), slog.Any("error", err))
		}
	}
}
