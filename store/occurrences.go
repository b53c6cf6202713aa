package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Occurrence is one stored event occurrence.
type Occurrence struct {
	ID       int64
	GuildID  uint64
	Schedule string // the schedule's name, or a native event's title
	Start    time.Time
	End      time.Time
	// NativeEventID is the Discord Scheduled Event this occurrence records;
	// 0 for occurrences of configured schedules.
	NativeEventID uint64
}

// Native reports whether the occurrence is a Discord Scheduled Event.
func (o Occurrence) Native() bool { return o.NativeEventID != 0 }

// EnsureNativeOccurrence returns the id of the occurrence recording Discord
// Scheduled Event eventID, creating it if needed. An existing row keeps its
// start (recording has begun) but takes the new title and end.
func (q *Queries) EnsureNativeOccurrence(ctx context.Context, guildID, eventID uint64, title string, start, end time.Time) (int64, error) {
	var id int64
	err := q.db.QueryRow(ctx, `
		INSERT INTO occurrences (guild_id, schedule, starts_at, ends_at, native_event_id) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (guild_id, native_event_id) WHERE native_event_id IS NOT NULL
		DO UPDATE SET schedule = EXCLUDED.schedule, ends_at = EXCLUDED.ends_at
		RETURNING id`, int64(guildID), title, start, end, int64(eventID)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("ensure occurrence of scheduled event %d: %w", eventID, err)
	}
	return id, nil
}

// SetOccurrenceEnd records when an occurrence really ended (a native event
// completed early or late).
func (q *Queries) SetOccurrenceEnd(ctx context.Context, id int64, end time.Time) error {
	if _, err := q.db.Exec(ctx, `UPDATE occurrences SET ends_at = $2 WHERE id = $1 AND starts_at < $2`, id, end); err != nil {
		return fmt.Errorf("set end of occurrence %d: %w", id, err)
	}
	return nil
}

// EnsureOccurrence returns the id of the occurrence (guild, schedule, start),
// creating it if needed. Safe to call from two processes at once.
func (q *Queries) EnsureOccurrence(ctx context.Context, guildID uint64, schedule string, start, end time.Time) (int64, error) {
	var id int64
	// DO UPDATE (a no-op write) rather than DO NOTHING so RETURNING always
	// yields the row, whether this call created it or not.
	err := q.db.QueryRow(ctx, `
		INSERT INTO occurrences (guild_id, schedule, starts_at, ends_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (guild_id, schedule, starts_at) WHERE native_event_id IS NULL DO UPDATE SET ends_at = occurrences.ends_at
		RETURNING id`, int64(guildID), schedule, start, end).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("ensure occurrence %s at %s: %w", schedule, start.Format(time.RFC3339), err)
	}
	return id, nil
}

// GetOccurrence loads one occurrence by id.
func (q *Queries) GetOccurrence(ctx context.Context, id int64) (Occurrence, error) {
	var o Occurrence
	var gid int64
	var native *int64
	err := q.db.QueryRow(ctx, `SELECT id, guild_id, schedule, starts_at, ends_at, native_event_id FROM occurrences WHERE id = $1`, id).
		Scan(&o.ID, &gid, &o.Schedule, &o.Start, &o.End, &native)
	if errors.Is(err, pgx.ErrNoRows) {
		return o, ErrNotFound
	}
	if err != nil {
		return o, fmt.Errorf("get occurrence %d: %w", id, err)
	}
	o.GuildID = uint64(gid)
	if native != nil {
		o.NativeEventID = uint64(*native)
	}
	return o, nil
}

// Occurrences lists a guild's occurrences that start in [from, to), oldest first.
func (q *Queries) Occurrences(ctx context.Context, guildID uint64, from, to time.Time) ([]Occurrence, error) {
	rows, err := q.db.Query(ctx, `
		SELECT id, schedule, starts_at, ends_at, coalesce(native_event_id, 0) FROM occurrences
		WHERE guild_id = $1 AND starts_at >= $2 AND starts_at < $3 ORDER BY starts_at, schedule`,
		int64(guildID), from, to)
	if err != nil {
		return nil, fmt.Errorf("list occurrences: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Occurrence, error) {
		o := Occurrence{GuildID: guildID}
		var native int64
		err := r.Scan(&o.ID, &o.Schedule, &o.Start, &o.End, &native)
		o.NativeEventID = uint64(native)
		return o, err
	})
}

// NativeOccurrence returns the occurrence recording a Discord Scheduled
// Event, if there is one (the bot restarted while it ran).
func (q *Queries) NativeOccurrence(ctx context.Context, guildID, eventID uint64) (Occurrence, error) {
	o := Occurrence{GuildID: guildID, NativeEventID: eventID}
	err := q.db.QueryRow(ctx, `SELECT id, schedule, starts_at, ends_at FROM occurrences WHERE guild_id = $1 AND native_event_id = $2`,
		int64(guildID), int64(eventID)).Scan(&o.ID, &o.Schedule, &o.Start, &o.End)
	if errors.Is(err, pgx.ErrNoRows) {
		return o, ErrNotFound
	}
	if err != nil {
		return o, fmt.Errorf("find occurrence of scheduled event %d: %w", eventID, err)
	}
	return o, nil
}

// DeleteOccurrence removes an occurrence and its attendance (a native event
// canceled after recording began on its own).
func (q *Queries) DeleteOccurrence(ctx context.Context, id int64) error {
	if _, err := q.db.Exec(ctx, `DELETE FROM occurrences WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete occurrence %d: %w", id, err)
	}
	return nil
}

// CountOccurrences counts a configured schedule's stored occurrences.
func (q *Queries) CountOccurrences(ctx context.Context, guildID uint64, schedule string) (int, error) {
	var n int
	err := q.db.QueryRow(ctx, `SELECT count(*) FROM occurrences WHERE guild_id = $1 AND schedule = $2 AND native_event_id IS NULL`,
		int64(guildID), schedule).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count occurrences of %s: %w", schedule, err)
	}
	return n, nil
}

// DeleteScheduleHistory deletes a configured schedule's occurrences and
// everything recorded in them (a moderator asked, and confirmed), and logs
// it. It returns how many occurrences went.
func (s *Store) DeleteScheduleHistory(ctx context.Context, guildID uint64, schedule string, at time.Time, authorID uint64, authorName string) (int64, error) {
	var n int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM occurrences WHERE guild_id = $1 AND schedule = $2 AND native_event_id IS NULL`, int64(guildID), schedule)
		if err != nil {
			return fmt.Errorf("delete the history of %s: %w", schedule, err)
		}
		n = tag.RowsAffected()
		return logChanges(ctx, tx, guildID, at, []Change{{AuthorID: authorID, AuthorName: authorName, Action: "schedule delete history",
			Key: "history[" + schedule + "]", Old: fmt.Sprintf("%d events", n)}})
	})
	return n, err
}
