package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// LegacyEntry is one validated row of the original bot's table: the minutes
// a member was seen (bit m = minute m of the hour) in the event that started
// at Start.
type LegacyEntry struct {
	UserID  uint64
	Start   time.Time
	Minutes uint64
}

// LegacySource streams entries pull-style, as pgx.Rows does, so a table of
// any size passes through an import without being held in memory.
type LegacySource interface {
	// Next advances to the next entry; false at the end or on error.
	Next() bool
	// Entry is the current entry.
	Entry() LegacyEntry
	// Err is the error that stopped Next, if any.
	Err() error
}

// LegacyTarget says where imported history goes.
type LegacyTarget struct {
	GuildID  uint64
	Schedule string
	// Duration is the length of occurrences created by the import.
	Duration time.Duration
	// Sampled is OR-ed into chunk 0 of each imported occurrence's coverage:
	// the minutes the original bot was sampling. Without it a report on an
	// imported event would say the bot was offline the whole time.
	Sampled uint64
	// DryRun counts what would change and writes nothing.
	DryRun bool
}

// LegacyResult counts what an import wrote or, in a dry run, would write.
type LegacyResult struct {
	Entries     int64 // entries read from the source
	Keys        int64 // distinct (member, occurrence) among them
	Occurrences int64 // distinct occurrences among them
	Members     int64 // distinct members among them
	First, Last time.Time

	NewOccurrences int64
	NewMembers     int64
	// Attendance rows inserted, or whose present mask gained minutes.
	ChangedAttendance int64
	// Coverage rows inserted or widened.
	ChangedCoverage int64
}

// ImportLegacy merges entries into the target schedule's history in one
// transaction: occurrences are created where missing, members unknown to
// rollcall are created with empty names (never overwriting a name already
// stored), and each member's minutes are OR-ed into their attendance, so
// importing the same entries twice changes nothing.
//
// Entries are streamed into a temporary table with COPY and merged with a few
// set-based statements: one round trip per statement rather than per row,
// which is what makes a million rows take seconds.
func (s *Store) ImportLegacy(ctx context.Context, t LegacyTarget, src LegacySource) (LegacyResult, error) {
	var res LegacyResult
	if t.Duration <= 0 {
		return res, fmt.Errorf("import legacy: duration %v is not positive", t.Duration)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return res, fmt.Errorf("import legacy: begin: %w", err)
	}
	// Rollback after Commit is a no-op; in a dry run it is the whole point.
	defer func() { _ = tx.Rollback(ctx) }()

	exec := func(what string, n *int64, sql string, args ...any) error {
		tag, err := tx.Exec(ctx, sql, args...)
		if err != nil {
			return fmt.Errorf("import legacy: %s: %w", what, err)
		}
		if n != nil {
			*n = tag.RowsAffected()
		}
		return nil
	}
	count := func(what string, n *int64, sql string, args ...any) error {
		if err := tx.QueryRow(ctx, sql, args...).Scan(n); err != nil {
			return fmt.Errorf("import legacy: %s: %w", what, err)
		}
		return nil
	}
	// legacy_entries: the source as read; legacy_keys: one row per member
	// and event; legacy_occurrences: the target's occurrences of those
	// events; legacy_rows: legacy_keys with the occurrence's id (NULL in a
	// dry run for an occurrence not created yet).
	setup := []string{
		// The GROUP BY hashes up to one entry per source row; the default
		// 4MB work_mem would spill a large import to disk.
		`SET LOCAL work_mem = '64MB'`,
		`CREATE TEMP TABLE legacy_entries (user_id bigint NOT NULL, starts_at timestamptz NOT NULL, present bigint NOT NULL) ON COMMIT DROP`,
		`CREATE TEMP TABLE legacy_keys (user_id bigint NOT NULL, starts_at timestamptz NOT NULL, present bigint NOT NULL) ON COMMIT DROP`,
		`CREATE TEMP TABLE legacy_occurrences (starts_at timestamptz PRIMARY KEY, id bigint NOT NULL) ON COMMIT DROP`,
		`CREATE TEMP TABLE legacy_rows (occurrence_id bigint, user_id bigint NOT NULL, present bigint NOT NULL) ON COMMIT DROP`,
	}
	if t.DryRun {
		// From here Postgres itself refuses any write but to the temporary
		// tables: a dry run cannot write by mistake.
		setup = append(setup, `SET TRANSACTION READ ONLY`)
	}
	for _, q := range setup {
		if err := exec("prepare", nil, q); err != nil {
			return res, err
		}
	}

	n, err := tx.CopyFrom(ctx, pgx.Identifier{"legacy_entries"}, []string{"user_id", "starts_at", "present"}, copySource{src})
	if err != nil {
		return res, fmt.Errorf("import legacy: copy entries: %w", err)
	}
	if err := src.Err(); err != nil {
		return res, fmt.Errorf("import legacy: read entries: %w", err)
	}
	res.Entries = n

	// One row per (member, event): the original bot could write the same
	// member and hour in several rows. Temporary tables get no statistics
	// unless asked, and the joins below are planned from them.
	if err := exec("merge entries", nil, `
		INSERT INTO legacy_keys (user_id, starts_at, present)
		SELECT user_id, starts_at, bit_or(present) FROM legacy_entries GROUP BY user_id, starts_at`); err != nil {
		return res, err
	}
	if err := exec("merge entries", nil, `ANALYZE legacy_keys`); err != nil {
		return res, err
	}
	var first, last *time.Time
	if err := tx.QueryRow(ctx, `
		SELECT count(*), count(DISTINCT user_id), count(DISTINCT starts_at), min(starts_at), max(starts_at) FROM legacy_keys`).
		Scan(&res.Keys, &res.Members, &res.Occurrences, &first, &last); err != nil {
		return res, fmt.Errorf("import legacy: count entries: %w", err)
	}
	if first != nil {
		res.First, res.Last = *first, *last
	}

	gid, sched, dur, sampled := int64(t.GuildID), t.Schedule, t.Duration.Seconds(), int64(t.Sampled)
	// Occurrences of the schedule, not Discord Scheduled Events that happen
	// to carry its name.
	const scheduled = `o.native_event_id IS NULL`
	if !t.DryRun {
		// NOT EXISTS first: ON CONFLICT alone would still draw an id from
		// the sequence for every existing occurrence on each re-import. ON
		// CONFLICT stays for the bot creating the same occurrence meanwhile;
		// it names no index because the unique index on (guild, schedule,
		// start) becomes partial in migration 2.
		if err := exec("create occurrences", &res.NewOccurrences, `
			INSERT INTO occurrences (guild_id, schedule, starts_at, ends_at)
			SELECT $1, $2, k.starts_at, k.starts_at + make_interval(secs => $3::float8)
			FROM (SELECT DISTINCT starts_at FROM legacy_keys) k
			WHERE NOT EXISTS (SELECT 1 FROM occurrences o WHERE o.guild_id = $1 AND o.schedule = $2 AND o.starts_at = k.starts_at AND `+scheduled+`)
			ORDER BY k.starts_at
			ON CONFLICT DO NOTHING`, gid, sched, dur); err != nil {
			return res, err
		}
		// DO NOTHING: a name the bot already stored is never overwritten;
		// the bot fills in the names of new rows when it next sees them.
		if err := exec("create members", &res.NewMembers, `
			INSERT INTO members (guild_id, user_id)
			SELECT DISTINCT $1::bigint, user_id FROM legacy_keys
			ON CONFLICT (guild_id, user_id) DO NOTHING`, gid); err != nil {
			return res, err
		}
	}
	// A small table of ids, then legacy_rows materialised with fresh
	// statistics: the planner's figures for occurrences predate the rows
	// just created, and a join planned from them probed attendance's index a
	// million times.
	if err := exec("find occurrences", nil, `
		INSERT INTO legacy_occurrences (starts_at, id)
		SELECT o.starts_at, o.id FROM occurrences o
		WHERE o.guild_id = $1 AND o.schedule = $2 AND `+scheduled+`
		  AND o.starts_at IN (SELECT DISTINCT starts_at FROM legacy_keys)`, gid, sched); err != nil {
		return res, err
	}
	if err := exec("find occurrences", nil, `
		INSERT INTO legacy_rows (occurrence_id, user_id, present)
		SELECT o.id, k.user_id, k.present FROM legacy_keys k LEFT JOIN legacy_occurrences o USING (starts_at)`); err != nil {
		return res, err
	}
	if err := exec("find occurrences", nil, `ANALYZE legacy_rows`); err != nil {
		return res, err
	}

	if t.DryRun {
		err := count("count changes", &res.NewOccurrences, `
			SELECT $1::bigint - count(*) FROM legacy_occurrences`, res.Occurrences)
		if err == nil {
			err = count("count changes", &res.NewMembers, `
				SELECT count(*) FROM (SELECT DISTINCT user_id FROM legacy_keys) k
				WHERE NOT EXISTS (SELECT 1 FROM members m WHERE m.guild_id = $1 AND m.user_id = k.user_id)`, gid)
		}
		if err == nil {
			err = count("count changes", &res.ChangedAttendance, `
				SELECT count(*) FROM legacy_rows r
				LEFT JOIN attendance a ON a.occurrence_id = r.occurrence_id AND a.user_id = r.user_id AND a.chunk = 0
				WHERE a.present IS NULL OR a.present | r.present <> a.present`)
		}
		if err == nil {
			err = count("count changes", &res.ChangedCoverage, `
				SELECT $1::bigint - count(*) FROM legacy_occurrences o
				JOIN coverage c ON c.occurrence_id = o.id AND c.chunk = 0
				WHERE c.sampled | $2 = c.sampled`, res.Occurrences, sampled)
		}
		return res, err // rolled back by the deferred Rollback
	}

	if res.ChangedAttendance, err = mergeLegacyAttendance(ctx, tx); err != nil {
		return res, err
	}
	if err := exec("merge coverage", &res.ChangedCoverage, `
		INSERT INTO coverage AS c (occurrence_id, chunk, sampled)
		SELECT id, 0, $1 FROM legacy_occurrences
		ON CONFLICT (occurrence_id, chunk) DO UPDATE SET sampled = c.sampled | EXCLUDED.sampled
		WHERE c.sampled | EXCLUDED.sampled <> c.sampled`, sampled); err != nil {
		return res, err
	}
	if err := tx.Commit(ctx); err != nil {
		return res, fmt.Errorf("import legacy: commit: %w", err)
	}
	return res, nil
}

// mergeLegacyAttendance ORs legacy_rows into attendance and returns the
// number of rows inserted or given new minutes.
//
// An UPDATE of existing rows and a plain INSERT of the missing ones, rather
// than one INSERT ... ON CONFLICT: speculative insertion made a million-row
// import a third slower. A plain INSERT fails, though, if a compaction
// creates one of these rows meanwhile (the daily job, or a member deleted,
// folding an event's log into attendance); then the work is redone, under
// a savepoint, the slow and safe way.
func mergeLegacyAttendance(ctx context.Context, tx pgx.Tx) (int64, error) {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("import legacy: merge attendance: %w", err)
	}
	// The WHERE skips rows that would not gain a minute, so a second import
	// writes no row versions at all.
	upd, err := sp.Exec(ctx, `
		UPDATE attendance a SET present = a.present | r.present
		FROM legacy_rows r
		WHERE a.occurrence_id = r.occurrence_id AND a.user_id = r.user_id AND a.chunk = 0
		  AND a.present | r.present <> a.present`)
	var ins pgconn.CommandTag
	if err == nil {
		ins, err = sp.Exec(ctx, `
			INSERT INTO attendance (occurrence_id, user_id, chunk, present)
			SELECT r.occurrence_id, r.user_id, 0, r.present FROM legacy_rows r
			WHERE NOT EXISTS (SELECT 1 FROM attendance a WHERE a.occurrence_id = r.occurrence_id AND a.user_id = r.user_id AND a.chunk = 0)`)
	}
	if err == nil {
		if err := sp.Commit(ctx); err != nil {
			return 0, fmt.Errorf("import legacy: merge attendance: %w", err)
		}
		return upd.RowsAffected() + ins.RowsAffected(), nil
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "23505" { // unique_violation
		return 0, fmt.Errorf("import legacy: merge attendance: %w", err)
	}
	if err := sp.Rollback(ctx); err != nil {
		return 0, fmt.Errorf("import legacy: merge attendance: %w", err)
	}
	tag, err := tx.Exec(ctx, `
		INSERT INTO attendance AS a (occurrence_id, user_id, chunk, present)
		SELECT r.occurrence_id, r.user_id, 0, r.present FROM legacy_rows r
		ON CONFLICT (occurrence_id, user_id, chunk) DO UPDATE SET present = a.present | EXCLUDED.present
		WHERE a.present | EXCLUDED.present <> a.present`)
	if err != nil {
		return 0, fmt.Errorf("import legacy: merge attendance: %w", err)
	}
	return tag.RowsAffected(), nil
}

// copySource adapts a LegacySource to pgx.CopyFromSource.
type copySource struct{ src LegacySource }

func (c copySource) Next() bool { return c.src.Next() }
func (c copySource) Err() error { return c.src.Err() }
func (c copySource) Values() ([]any, error) {
	e := c.src.Entry()
	// Masks travel as bigint; the bit pattern is what matters.
	return []any{int64(e.UserID), e.Start, int64(e.Minutes)}, nil
}
