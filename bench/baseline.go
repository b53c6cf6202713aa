package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// The baseline is the original bot's design, re-implemented faithfully from
// its paper (Krapivin et al., 2022, figures 3 and 7): one row per member,
// date and hour holding the minutes seen as an integer[], and on every
// 5-second poll, per present member, a SELECT of that row and then an
// UPDATE appending the minute (when it is not there yet) or an INSERT.
//
// Two choices favour the baseline, so the ratios are if anything too kind
// to it: it runs in Go with pgx (prepared statements, binary protocol)
// rather than Python with psycopg2, and its table gets an index on
// (player_id, data_bzs, hour) that the paper does not show; without one
// every SELECT scans the whole table. Each tick is one transaction, the
// cheaper of the two ways the original could commit (postgres.md measured
// a commit per statement at 4x the cost on a new minute).
const baselineSchema = `
CREATE TABLE bzs_stats (
    id       serial  PRIMARY KEY,
    player_id bigint  NOT NULL,
    score    integer[] NOT NULL,
    data_bzs date    NOT NULL,
    hour     integer NOT NULL
);
CREATE INDEX bzs_stats_lookup ON bzs_stats (player_id, data_bzs, hour);`

type baseline struct {
	conn *pgx.Conn
	loc  *time.Location
}

func openBaseline(ctx context.Context, url string, loc *time.Location) (*baseline, error) {
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("baseline: connect: %w", err)
	}
	if _, err := c.Exec(ctx, baselineSchema); err != nil {
		c.Close(ctx)
		return nil, fmt.Errorf("baseline: create table: %w", err)
	}
	return &baseline{conn: c, loc: loc}, nil
}

func (b *baseline) close() { _ = b.conn.Close(context.Background()) }

// localHour is the original's key: the local date and hour, and the
// minute within it.
func (b *baseline) localHour(t time.Time) (day time.Time, hour, minute int) {
	l := t.In(b.loc)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC), l.Hour(), l.Minute()
}

// tick is one poll of the original bot with users present at now. It
// returns the number of statements sent (each a round trip).
func (b *baseline) tick(ctx context.Context, now time.Time, users []int64) (int, error) {
	day, hour, minute := b.localHour(now)
	stmts := 0
	tx, err := b.conn.Begin(ctx)
	stmts++
	if err != nil {
		return stmts, err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	for _, u := range users {
		var id int32
		var score []int32
		err := tx.QueryRow(ctx, `SELECT id, score FROM bzs_stats WHERE player_id = $1 AND data_bzs = $2 AND hour = $3`,
			u, day, hour).Scan(&id, &score)
		stmts++
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			_, err = tx.Exec(ctx, `INSERT INTO bzs_stats (player_id, score, data_bzs, hour) VALUES ($1, ARRAY[$2::integer], $3, $4)`,
				u, minute, day, hour)
			stmts++
		case err != nil:
		case !slices.Contains(score, int32(minute)):
			_, err = tx.Exec(ctx, `UPDATE bzs_stats SET score = array_append(score, $1::integer) WHERE id = $2`, minute, id)
			stmts++
		}
		if err != nil {
			return stmts, fmt.Errorf("baseline tick: %w", err)
		}
	}
	err = tx.Commit(ctx)
	stmts++
	return stmts, err
}
