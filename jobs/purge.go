package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/riverqueue/river"

	"rollcall/clock"
	"rollcall/settings"
	"rollcall/store"
)

// PurgeArgs is one day's purge, unique by the day: the compaction of the
// attendance of events that are over, attendance older than each guild's
// retention, and the data of guilds the bot left longer ago
// than their grace period (or that left the configuration).
type PurgeArgs struct {
	Day time.Time `json:"day" river:"unique"`
}

// Kind is River's name for the job type.
func (PurgeArgs) Kind() string { return "rollcall_purge" }

// InsertOpts make the day's purge unique.
func (PurgeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queuePosts, MaxAttempts: maxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// purgeBatch is how many occurrences one purge transaction deletes: small
// enough that recording, which writes to the same tables, never waits long.
const purgeBatch = 100

// PurgeWorker runs the daily purge.
type PurgeWorker struct {
	river.WorkerDefaults[PurgeArgs]
	Store    *store.Store
	Settings *settings.Registry
	Clock    clock.Clock
	Log      *slog.Logger
}

// Timeout: a first purge of years of history may take a while.
func (w *PurgeWorker) Timeout(*river.Job[PurgeArgs]) time.Duration { return 30 * time.Minute }

// Work purges. Deleting is idempotent, so a retry or a second process's run
// does no harm.
func (w *PurgeWorker) Work(ctx context.Context, job *river.Job[PurgeArgs]) error {
	now := w.Clock.Now()
	if err := w.compact(ctx, now); err != nil {
		return err
	}
	for _, g := range w.Settings.All() {
		if g.Retention <= 0 {
			continue
		}
		counts, err := w.Store.PurgeBefore(ctx, g.ID, now.Add(-g.Retention), purgeBatch)
		if err != nil {
			return err
		}
		if counts.Total() > 0 {
			w.Log.Info("purged attendance past the retention", slog.Uint64("guild_id", g.ID),
				slog.Int64("events", counts["occurrences"]), slog.Int64("attendance_rows", counts["attendance"]))
		}
	}
	return w.purgeDeparted(ctx, now)
}

// compact folds the attendance log of the events that are over into
// attendance (see schema.sql), a batch of events per statement.
func (w *PurgeWorker) compact(ctx context.Context, now time.Time) error {
	ids, err := w.Store.EndedUncompacted(ctx, now)
	if err != nil {
		return err
	}
	var rows int64
	for batch := range slices.Chunk(ids, purgeBatch) {
		n, err := w.Store.Compact(ctx, batch)
		if err != nil {
			return err
		}
		rows += n
	}
	if len(ids) > 0 {
		w.Log.Info("compacted the attendance of events that are over", slog.Int("events", len(ids)), slog.Int64("attendance_rows", rows))
	}
	return nil
}

// purgeDeparted deletes the guilds the bot left more than their grace
// period ago. A guild with data but no settings any more (removed from
// the configuration) counts as departed from the first purge that sees it.
func (w *PurgeWorker) purgeDeparted(ctx context.Context, now time.Time) error {
	var withData []uint64
	var departed []store.DepartedGuild
	if err := w.Store.Snapshot(ctx, func(q *store.Queries) (err error) {
		if withData, err = q.GuildsWithData(ctx); err != nil {
			return err
		}
		departed, err = q.DepartedGuilds(ctx)
		return err
	}); err != nil {
		return err
	}
	for _, gid := range withData {
		if _, ok := w.Settings.Get(gid); !ok {
			if err := w.Store.GuildDeparted(ctx, gid, now); err != nil {
				return err
			}
		}
	}
	for _, d := range departed {
		grace := settings.DefaultDepartedRetention
		if g, ok := w.Settings.Get(d.GuildID); ok {
			grace = g.DepartedRetention
		}
		if now.Sub(d.DepartedAt) < grace {
			continue
		}
		counts, err := w.Store.PurgeGuild(ctx, d.GuildID, false)
		if err != nil {
			return fmt.Errorf("purge departed guild %d: %w", d.GuildID, err)
		}
		w.Log.Info("deleted the data of a guild the bot left", slog.Uint64("guild_id", d.GuildID),
			slog.Time("departed_at", d.DepartedAt), slog.Int64("rows", counts.Total()))
	}
	return nil
}
