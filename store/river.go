package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// MigrateRiver creates or upgrades River's tables (the durable job queue
// the posts run on), as part of rollcall's own migrate step. River keeps its
// own version in river_migration. rollcall's migration lock is held (on
// a connection of its own, outside the pool) while River migrates: River's steps do not
// serialise two processes starting at once on an empty database, and the
// second would fail creating a type the first just made. River needs a
// transaction per step (a new enum value cannot be used in the one that
// added it), so the lock is a session's, not a transaction's.
func (s *Store) MigrateRiver(ctx context.Context) error {
	m, err := rivermigrate.New(riverpgxv5.New(s.pool), nil)
	if err != nil {
		return fmt.Errorf("migrate the job queue: %w", err)
	}
	// A connection of its own, not the pool's: River takes the pool's,
	// and a pool of one connection (pool_max_conns=1) would wait forever.
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("migrate the job queue: %w", err)
	}
	// Closing the connection releases the lock.
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrateLock); err != nil {
		return fmt.Errorf("migrate the job queue: %w", err)
	}
	if _, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrate the job queue: %w", err)
	}
	return nil
}

// Process is one running rollcall process, as its heartbeat records it.
type Process struct {
	ID     string
	Host   string
	PID    int
	SeenAt time.Time
}

// Heartbeat records that process p is alive now (the database's clock).
func (q *Queries) Heartbeat(ctx context.Context, p Process) error {
	_, err := q.db.Exec(ctx, `
		INSERT INTO processes (id, host, pid) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET seen_at = now()`, p.ID, p.Host, p.PID)
	if err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	return nil
}

// Processes lists the processes that sent a heartbeat within maxAge, and
// forgets those silent for a day.
func (q *Queries) Processes(ctx context.Context, maxAge time.Duration) ([]Process, error) {
	if _, err := q.db.Exec(ctx, `DELETE FROM processes WHERE seen_at < now() - interval '1 day'`); err != nil {
		return nil, fmt.Errorf("forget old processes: %w", err)
	}
	rows, err := q.db.Query(ctx, `SELECT id, host, pid, seen_at FROM processes WHERE seen_at > now() - $1::interval ORDER BY id`, maxAge)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	defer rows.Close()
	var out []Process
	for rows.Next() {
		var p Process
		if err := rows.Scan(&p.ID, &p.Host, &p.PID, &p.SeenAt); err != nil {
			return nil, fmt.Errorf("scan process: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// ForgetProcess removes a process's heartbeat (it stopped cleanly).
func (q *Queries) ForgetProcess(ctx context.Context, id string) error {
	if _, err := q.db.Exec(ctx, `DELETE FROM processes WHERE id = $1`, id); err != nil {
		return fmt.Errorf("forget process: %w", err)
	}
	return nil
}

// RescueJobs makes the running jobs of the given kinds available again when
// the process working them is not among live: it died (a SIGKILL, a power
// cut) and will never finish them. River itself rescues a stuck job only
// after RescueStuckJobsAfter, which must exceed the longest job; rollcall
// knows sooner, from the heartbeats, that the worker is gone. This is the one
// statement outside River's API that touches its table (river_job, schema as
// of the pinned River version).
func (q *Queries) RescueJobs(ctx context.Context, kinds []string, live []string) (int64, error) {
	tag, err := q.db.Exec(ctx, `
		UPDATE river_job SET state = 'available', scheduled_at = now()
		WHERE state = 'running' AND kind = ANY($1::text[])
		  AND NOT (coalesce(attempted_by[cardinality(attempted_by)], '') = ANY($2::text[]))`, kinds, live)
	if err != nil {
		return 0, fmt.Errorf("rescue the jobs of processes that died: %w", err)
	}
	return tag.RowsAffected(), nil
}

// PendingJobs counts the jobs that are running or would run within soon:
// tests wait for it to reach zero before asserting what was posted.
func (q *Queries) PendingJobs(ctx context.Context, soon time.Duration) (int, error) {
	var n int
	err := q.db.QueryRow(ctx, `
		SELECT count(*) FROM river_job
		WHERE state IN ('available', 'running', 'pending')
		   OR (state IN ('retryable', 'scheduled') AND scheduled_at <= now() + $1::interval)`, soon).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count pending jobs: %w", err)
	}
	return n, nil
}
