package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Snapshot runs fn in a read-only REPEATABLE READ transaction: every query
// fn makes sees the database as of one instant, so a report loaded in several
// statements (occurrences, their attendance, members, coverage) can never mix
// states, e.g. attendance of an occurrence created between two reads.
//
// A read that fails because its pooled connection turned out dead (the
// database restarted, or a network cut ended a moment ago) is tried once
// more on a fresh connection: reading twice is harmless, and the first
// command after an outage should not fail for a connection the pool had
// not noticed was gone.
func (s *Store) Snapshot(ctx context.Context, fn func(q *Queries) error) error {
	run := func() error {
		return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
			return fn(&Queries{db: tx})
		})
	}
	err := run()
	if err != nil && IsUnavailable(err) && ctx.Err() == nil {
		err = run()
	}
	if err != nil {
		return fmt.Errorf("read snapshot: %w", err)
	}
	return nil
}

// Tx runs fn in a read-write transaction, committed when fn returns nil.
// tx is handed to fn for work that is not a Queries method (River's
// InsertManyTx), so it commits or rolls back with the rest.
func (s *Store) Tx(ctx context.Context, fn func(q *Queries, tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return fn(&Queries{db: tx}, tx)
	})
}
