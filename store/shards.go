package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// shardLock serialises lease changes across processes (an advisory lock
// key of rollcall's own).
const shardLock = 0x726f6c6c // "roll"

// ClaimShards is one round of a process's leases on the shards of a shard
// count: it says it lives, renews the leases it keeps, gives up those
// beyond its share (the shard count divided among the live processes as
// evenly as it goes), and claims free or expired ones up to its share. It returns
// the shards it holds now. Times are the database's, so processes on
// several machines agree whatever their clocks say.
func (s *Store) ClaimShards(ctx context.Context, holder string, count int, lease time.Duration) ([]int, error) {
	var held []int
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(shardLock)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO shard_members (holder, shard_count, seen_at) VALUES ($1, $2, now())
			ON CONFLICT (holder) DO UPDATE SET shard_count = EXCLUDED.shard_count, seen_at = now()`, holder, count); err != nil {
			return err
		}
		// Shares as even as can be: count/live each, one more for the first
		// count%live of the live processes in holder order.
		var live, rank int
		if err := tx.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE holder < $3) FROM shard_members
			WHERE shard_count = $1 AND seen_at > now() - $2::interval`, count, lease, holder).Scan(&live, &rank); err != nil {
			return err
		}
		live = max(live, 1)
		share := count / live
		if rank < count%live {
			share++
		}
		if _, err := tx.Exec(ctx, `INSERT INTO shard_leases (shard_count, shard_id) SELECT $1, g FROM generate_series(0, $1 - 1) g
			ON CONFLICT DO NOTHING`, count); err != nil {
			return err
		}
		mine, err := collectInts(ctx, tx, `SELECT shard_id FROM shard_leases WHERE shard_count = $1 AND holder = $2 AND expires_at > now()
			ORDER BY shard_id`, count, holder)
		if err != nil {
			return err
		}
		if len(mine) > share {
			// Beyond its share: another process started; hand the last ones over.
			if _, err := tx.Exec(ctx, `UPDATE shard_leases SET holder = NULL, expires_at = '-infinity'
				WHERE shard_count = $1 AND shard_id = ANY($2::int[])`, count, mine[share:]); err != nil {
				return err
			}
			mine = mine[:share]
		}
		if _, err := tx.Exec(ctx, `UPDATE shard_leases SET expires_at = now() + $3::interval
			WHERE shard_count = $1 AND shard_id = ANY($2::int[])`, count, mine, lease); err != nil {
			return err
		}
		if n := share - len(mine); n > 0 {
			got, err := collectInts(ctx, tx, `UPDATE shard_leases SET holder = $2, expires_at = now() + $4::interval
				WHERE shard_count = $1 AND shard_id IN (
					SELECT shard_id FROM shard_leases WHERE shard_count = $1 AND (holder IS NULL OR expires_at <= now())
					ORDER BY shard_id LIMIT $3)
				RETURNING shard_id`, count, holder, n, lease)
			if err != nil {
				return err
			}
			mine = append(mine, got...)
			slices.Sort(mine)
		}
		held = mine
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim shards: %w", err)
	}
	return held, nil
}

// ReleaseShards gives up a process's leases at once (a clean stop), so
// the others take its shards at their next round instead of after the lease.
func (s *Store) ReleaseShards(ctx context.Context, holder string) error {
	for _, sql := range []string{
		`UPDATE shard_leases SET holder = NULL, expires_at = '-infinity' WHERE holder = $1`,
		`DELETE FROM shard_members WHERE holder = $1`,
	} {
		if _, err := s.pool.Exec(ctx, sql, holder); err != nil {
			return fmt.Errorf("release shards: %w", err)
		}
	}
	return nil
}

// TakeIdentifySlot takes bucket's IDENTIFY slot if the last one is at least
// interval old, else says how long to wait. One slot per bucket per
// interval across every process on this database.
func (s *Store) TakeIdentifySlot(ctx context.Context, bucket int, interval time.Duration) (time.Duration, error) {
	var wait time.Duration
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, int32(shardLock), int32(bucket)); err != nil {
			return err
		}
		var secs float64
		err := tx.QueryRow(ctx, `SELECT extract(epoch FROM now() - at)::float8 FROM identify_slots WHERE bucket = $1`, bucket).Scan(&secs)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return err
		case time.Duration(secs*float64(time.Second)) < interval:
			wait = interval - time.Duration(secs*float64(time.Second))
			return nil
		}
		_, err = tx.Exec(ctx, `INSERT INTO identify_slots (bucket, at) VALUES ($1, now()) ON CONFLICT (bucket) DO UPDATE SET at = now()`, bucket)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("take an identify slot: %w", err)
	}
	return wait, nil
}

// SetGuildLocale records a guild's preferred locale.
func (q *Queries) SetGuildLocale(ctx context.Context, guildID uint64, locale string) error {
	_, err := q.db.Exec(ctx, `UPDATE guilds SET locale = $2 WHERE guild_id = $1 AND locale IS DISTINCT FROM $2`, int64(guildID), locale)
	if err != nil {
		return fmt.Errorf("record guild %d's locale: %w", guildID, err)
	}
	return nil
}

// GuildLocale returns a guild's recorded preferred locale ("" if none).
func (q *Queries) GuildLocale(ctx context.Context, guildID uint64) (string, error) {
	var l *string
	err := q.db.QueryRow(ctx, `SELECT locale FROM guilds WHERE guild_id = $1`, int64(guildID)).Scan(&l)
	if errors.Is(err, pgx.ErrNoRows) || l == nil {
		return "", nil
	}
	return *l, err
}

func collectInts(ctx context.Context, db DBTX, sql string, args ...any) ([]int, error) {
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int])
}
