package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"rollcall/report"
	"rollcall/settings"
	"rollcall/store"
)

// QueryRow is figure 3 for one command: the database reads and the
// judging behind it, without Discord and without the chart.
type QueryRow struct {
	Command string `json:"command"`
	What    string `json:"what"`
	Dist    Dist   `json:"dist"`
	Rows    int    `json:"result_rows"` // rows, totals or names the command shows
	// DBP50 is the median time spent in the store's statements (the
	// reads timedSource times); the rest is judging in Go.
	DBP50 float64 `json:"db_p50_ms"`
}

// timedSource is the store inside a snapshot, timing its calls: what
// report.Build reads.
type timedSource struct {
	q  *store.Queries
	db time.Duration
}

func (t *timedSource) EachOccurrence(ctx context.Context, guildID uint64, from, to time.Time, userID uint64, fn func(store.OccurrenceRecord) error) error {
	return t.stream(fn, func(timed func(store.OccurrenceRecord) error) error {
		return t.q.EachOccurrence(ctx, guildID, from, to, userID, timed)
	})
}

func (t *timedSource) EachOccurrenceAmong(ctx context.Context, guildID uint64, from, to time.Time, among func() []uint64, fn func(store.OccurrenceRecord) error) error {
	return t.stream(fn, func(timed func(store.OccurrenceRecord) error) error {
		return t.q.EachOccurrenceAmong(ctx, guildID, from, to, among, timed)
	})
}

// stream times read, a streaming read calling fn, less the time fn takes:
// that is judging, not the database.
func (t *timedSource) stream(fn func(store.OccurrenceRecord) error, read func(func(store.OccurrenceRecord) error) error) error {
	t0 := time.Now()
	var judging time.Duration
	err := read(func(r store.OccurrenceRecord) error {
		j0 := time.Now()
		defer func() { judging += time.Since(j0) }()
		return fn(r)
	})
	t.db += time.Since(t0) - judging
	return err
}

func (t *timedSource) Members(ctx context.Context, guildID uint64) ([]store.Member, error) {
	t0 := time.Now()
	defer func() { t.db += time.Since(t0) }()
	return t.q.Members(ctx, guildID)
}

func (t *timedSource) Member(ctx context.Context, guildID, userID uint64) (store.Member, error) {
	t0 := time.Now()
	defer func() { t.db += time.Since(t0) }()
	return t.q.Member(ctx, guildID, userID)
}

// build runs report.Build in a snapshot, as the commands do.
func (t *timedSource) build(ctx context.Context, st *store.Store, g *settings.Guild, from, to time.Time, user uint64) (*report.Period, error) {
	var p *report.Period
	err := st.Snapshot(ctx, func(q *store.Queries) error {
		t.q = q
		var err error
		p, err = report.Build(ctx, t, g, from, to, user)
		return err
	})
	return p, err
}

// absent runs report.BuildAbsent in a snapshot, as /absent does.
func (t *timedSource) absent(ctx context.Context, st *store.Store, g *settings.Guild, from, to time.Time) (*report.Period, error) {
	var p *report.Period
	err := st.Snapshot(ctx, func(q *store.Queries) error {
		t.q = q
		var err error
		p, err = report.BuildAbsent(ctx, t, g, from, to)
		return err
	})
	return p, err
}

// query is what one command runs, returning the rows it would show.
type query struct {
	name, what string
	run        func() (int, error)
}

// commandQueries are what /event (of occ), /week, /member (of member) and
// /absent run on a guild's history ending at end, timed into src.
func commandQueries(ctx context.Context, st *store.Store, g *settings.Guild, occ store.Occurrence, end time.Time, member uint64, src *timedSource) []query {
	return []query{
		{"/event", "one occurrence, Members and CoverageOf in a snapshot, report.BuildEvent", func() (int, error) {
			var ev report.Event
			err := st.Snapshot(ctx, func(q *store.Queries) error {
				t0 := time.Now()
				rec, err := q.OccurrenceRecord(ctx, occ.ID)
				if err != nil {
					return err
				}
				ms, err := q.Members(ctx, g.ID)
				if err != nil {
					return err
				}
				if _, err := q.CoverageOf(ctx, occ.ID); err != nil {
					return err
				}
				src.db += time.Since(t0)
				byID := make(map[uint64]store.Member, len(ms))
				for _, m := range ms {
					byID[m.UserID] = m
				}
				ev = report.BuildEvent(g, rec, byID)
				return nil
			})
			return len(ev.Rows), err
		}},
		{"/week", "report.Build over the last 7 days (leaderboard and never-attended)", func() (int, error) {
			p, err := src.build(ctx, st, g, end.AddDate(0, 0, -7), end, 0)
			if err != nil {
				return 0, err
			}
			return len(p.Totals), nil
		}},
		{"/member", "report.Build for one member over 365 days", func() (int, error) {
			p, err := src.build(ctx, st, g, end.AddDate(-1, 0, 0), end, member)
			if err != nil {
				return 0, err
			}
			return p.TotalFor(member).Attended, nil
		}},
		{"/absent", "report.BuildAbsent over 30 days, the Never list", func() (int, error) {
			p, err := src.absent(ctx, st, g, end.AddDate(0, 0, -30), end)
			if err != nil {
				return 0, err
			}
			return len(p.Never), nil
		}},
	}
}

// allTimeQueries are /absent period:all and /member period:all over a
// history from from to end.
func allTimeQueries(ctx context.Context, st *store.Store, g *settings.Guild, from, end time.Time, member uint64, src *timedSource) []query {
	return []query{
		{"/absent period:all", "report.BuildAbsent over the whole history, the Never list", func() (int, error) {
			p, err := src.absent(ctx, st, g, from, end)
			if err != nil {
				return 0, err
			}
			return len(p.Never), nil
		}},
		{"/member period:all", "report.Build for one member over the whole history", func() (int, error) {
			p, err := src.build(ctx, st, g, from, end, member)
			if err != nil {
				return 0, err
			}
			return p.TotalFor(member).Attended, nil
		}},
	}
}

// runQueries times what each slash command runs on the simulated year.
func runQueries(ctx context.Context, cfg Config, res *Results, y *yearDB) error {
	if len(y.occs) == 0 {
		return fmt.Errorf("the simulated year has no events")
	}
	occ := y.occs[len(y.occs)-5] // a recent one, as /event's default is
	member := y.members[len(y.members)/2+1]
	src := &timedSource{}
	qs := commandQueries(ctx, y.st, y.guild, occ, y.last, member, src)
	today, err := eventInLog(ctx, y)
	if err != nil {
		return err
	}
	qs = append(qs, query{"/member, today in the log", fmt.Sprintf("/member's read, with today's %d-present event not yet compacted", logPresent), func() (int, error) {
		p, err := src.build(ctx, y.st, y.guild, y.last.AddDate(-1, 0, 0), today.End, member)
		if err != nil {
			return 0, err
		}
		return p.TotalFor(member).Attended, nil
	}})
	rows, err := timeQueries(ctx, cfg, qs, src, cfg.QueryIters)
	res.Queries = append(res.Queries, rows...)
	return err
}

// logPresent is how many are present in eventInLog's event.
const logPresent = 1000

// eventInLog records an hour-long event starting at the end of the year,
// every minute with the year's members and others present, logPresent in
// all, and leaves it in attendance_log as the day's events wait there for
// the daily compaction: 60 rows of logPresent members each. The other
// queries end before it.
func eventInLog(ctx context.Context, y *yearDB) (store.Occurrence, error) {
	o := store.Occurrence{GuildID: y.guild.ID, Schedule: "log", Start: y.last, End: y.last.Add(time.Hour)}
	var err error
	if o.ID, err = y.st.EnsureOccurrence(ctx, o.GuildID, o.Schedule, o.Start, o.End); err != nil {
		return o, err
	}
	users := slices.Clone(y.members)
	for u := uint64(900000000000000000); len(users) < logPresent; u++ {
		users = append(users, u)
	}
	users = users[:logPresent]
	for minute := range 60 {
		samples := make([]store.Sample, len(users))
		for i, u := range users {
			samples[i] = store.Sample{OccurrenceID: o.ID, UserID: u, Present: 1 << minute}
		}
		if err := y.st.Record(ctx, samples, []store.Coverage{{OccurrenceID: o.ID, Sampled: 1 << minute}}); err != nil {
			return o, err
		}
	}
	return o, nil
}

// timeQueries runs qs iters times, round-robin so that a noisy moment hits
// every command alike, after a warm-up.
func timeQueries(ctx context.Context, cfg Config, qs []query, src *timedSource, iters int) ([]QueryRow, error) {
	times := make([][]time.Duration, len(qs))
	dbTimes := make([][]time.Duration, len(qs))
	rows := make([]int, len(qs))
	const warmup = 3
	for i := -warmup; i < iters; i++ {
		for j, q := range qs {
			src.db = 0
			t0 := time.Now()
			n, err := q.run()
			d := time.Since(t0)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", q.name, err)
			}
			if i >= 0 {
				times[j] = append(times[j], d)
				dbTimes[j] = append(dbTimes[j], src.db)
			}
			rows[j] = n
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	var out []QueryRow
	for j, q := range qs {
		r := QueryRow{Command: q.name, What: q.what, Dist: distOf(times[j]), Rows: rows[j], DBP50: distOf(dbTimes[j]).P50}
		out = append(out, r)
		cfg.Log.Info("query", slog.String("command", q.name), slog.Float64("p50_ms", r.Dist.P50), slog.Float64("p95_ms", r.Dist.P95), slog.Float64("db_p50_ms", r.DBP50), slog.Int("rows", r.Rows))
	}
	return out, nil
}
