package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"rollcall/report"
	"rollcall/store"
)

// QueryRow is figure 3 for one command: the database reads and the
// judging behind it, without Discord and without the chart.
type QueryRow struct {
	Command string `json:"command"`
	What    string `json:"what"`
	Dist    Dist   `json:"dist"`
	Rows    int    `json:"result_rows"` // rows, totals or names the command shows
	// DBP50 is the median time spent in the store's statements (History,
	// Members, CoverageOf); the rest is judging in Go.
	DBP50 float64 `json:"db_p50_ms"`
}

// timedSource is the store, timing its calls: what report.Build reads.
type timedSource struct {
	st *store.Store
	db time.Duration
}

func (t *timedSource) History(ctx context.Context, guildID uint64, from, to time.Time, userID uint64) ([]store.OccurrenceRecord, error) {
	t0 := time.Now()
	defer func() { t.db += time.Since(t0) }()
	return t.st.History(ctx, guildID, from, to, userID)
}

func (t *timedSource) Members(ctx context.Context, guildID uint64) ([]store.Member, error) {
	t0 := time.Now()
	defer func() { t.db += time.Since(t0) }()
	return t.st.Members(ctx, guildID)
}

func (t *timedSource) CoverageOf(ctx context.Context, id int64) error {
	t0 := time.Now()
	defer func() { t.db += time.Since(t0) }()
	_, err := t.st.CoverageOf(ctx, id)
	return err
}

// runQueries times what each slash command runs on the simulated year,
// round-robin so that a noisy moment hits every command alike.
func runQueries(ctx context.Context, cfg Config, res *Results, y *yearDB) error {
	if len(y.occs) == 0 {
		return fmt.Errorf("the simulated year has no events")
	}
	g := y.guild
	occ := y.occs[len(y.occs)-5] // a recent one, as /event's default is
	end := y.last
	member := y.members[len(y.members)/2+1]
	src := &timedSource{st: y.st}
	type query struct {
		name, what string
		run        func() (int, error)
	}
	qs := []query{
		{"/event", "store.History of one occurrence, Members, report.BuildEvent, CoverageOf", func() (int, error) {
			recs, err := src.History(ctx, uint64(g.ID), occ.Start, occ.Start.Add(time.Second), 0)
			if err != nil {
				return 0, err
			}
			ms, err := src.Members(ctx, uint64(g.ID))
			if err != nil {
				return 0, err
			}
			byID := make(map[uint64]store.Member, len(ms))
			for _, m := range ms {
				byID[m.UserID] = m
			}
			if len(recs) != 1 {
				return 0, fmt.Errorf("/event: %d occurrences at %s", len(recs), occ.Start)
			}
			ev := report.BuildEvent(g, recs[0], byID)
			if err := src.CoverageOf(ctx, occ.ID); err != nil {
				return 0, err
			}
			return len(ev.Rows), nil
		}},
		{"/week", "report.Build over the last 7 days (leaderboard and never-attended)", func() (int, error) {
			p, err := report.Build(ctx, src, g, end.AddDate(0, 0, -7), end, 0)
			if err != nil {
				return 0, err
			}
			return len(p.Totals), nil
		}},
		{"/member", "report.Build for one member over 365 days", func() (int, error) {
			p, err := report.Build(ctx, src, g, end.AddDate(-1, 0, 0), end, member)
			if err != nil {
				return 0, err
			}
			return p.TotalFor(member).Attended, nil
		}},
		{"/absent", "report.Build over 30 days, the Never list", func() (int, error) {
			p, err := report.Build(ctx, src, g, end.AddDate(0, 0, -30), end, 0)
			if err != nil {
				return 0, err
			}
			return len(p.Never), nil
		}},
	}
	times := make([][]time.Duration, len(qs))
	dbTimes := make([][]time.Duration, len(qs))
	rows := make([]int, len(qs))
	const warmup = 3
	for i := -warmup; i < cfg.QueryIters; i++ {
		for j, q := range qs {
			src.db = 0
			t0 := time.Now()
			n, err := q.run()
			d := time.Since(t0)
			if err != nil {
				return fmt.Errorf("%s: %w", q.name, err)
			}
			if i >= 0 {
				times[j] = append(times[j], d)
				dbTimes[j] = append(dbTimes[j], src.db)
			}
			rows[j] = n
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	for j, q := range qs {
		r := QueryRow{Command: q.name, What: q.what, Dist: distOf(times[j]), Rows: rows[j], DBP50: distOf(dbTimes[j]).P50}
		res.Queries = append(res.Queries, r)
		cfg.Log.Info("query", slog.String("command", q.name), slog.Float64("p50_ms", r.Dist.P50), slog.Float64("p95_ms", r.Dist.P95), slog.Float64("db_p50_ms", r.DBP50), slog.Int("rows", r.Rows))
	}
	return nil
}
