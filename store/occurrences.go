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
	Schedule string
	Start    time.Time
	End      time.Time
}

// EnsureOccurrence returns the id of the occurrence (guild, schedule, start),
// creating it if needed. Safe to call from two processes at once.
func (s *Store) EnsureOccurrence(ctx context.Context, guildID uint64, schedule string, start, end time.Time) (int64, error) {
	var id int64
	// DO UPDATE (a no-op write) rather than DO NOTHING so RETURNING always
	// yields the row, whether this call created it or not.
	err := s.pool.QueryRow(ctx, `
		INSERT INTO occurrences (guild_id, schedule, starts_at, ends_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (guild_id, schedule, starts_at) DO UPDATE SET ends_at = occurrences.ends_at
		RETURNING id`, int64(guildID), schedule, start, end).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("ensure occurrence %s at %s: %w", schedule, start.Format(time.RFC3339), err)
	}
	return id, nil
}

// GetOccurrence loads one occurrence by id.
func (s *Store) GetOccurrence(ctx context.Context, id int64) (Occurrence, error) {
	var o Occurrence
	var gid int64
	err := s.pool.QueryRow(ctx, `SELECT id, guild_id, schedule, starts_at, ends_at FROM occurrences WHERE id = $1`, id).
		Scan(&o.ID, &gid, &o.Schedule, &o.Start, &o.End)
	if errors.Is(err, pgx.ErrNoRows) {
		return o, ErrNotFound
	}
	if err != nil {
		return o, fmt.Errorf("get occurrence %d: %w", id, err)
	}
	o.GuildID = uint64(gid)
	return o, nil
}

// Occurrences lists a guild's occurrences that start in [from, to), oldest first.
func (s *Store) Occurrences(ctx context.Context, guildID uint64, from, to time.Time) ([]Occurrence, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, schedule, starts_at, ends_at FROM occurrences
		WHERE guild_id = $1 AND starts_at >= $2 AND starts_at < $3 ORDER BY starts_at, schedule`,
		int64(guildID), from, to)
	if err != nil {
		return nil, fmt.Errorf("list occurrences: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Occurrence, error) {
		o := Occurrence{GuildID: guildID}
		err := r.Scan(&o.ID, &o.Schedule, &o.Start, &o.End)
		return o, err
	})
}
