package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/bits"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"rollcall/config"
	"rollcall/settings"
	"rollcall/store"
)

// Storage is figure 2: one simulated year stored both ways.
type Storage struct {
	Days         int          `json:"days"`
	Members      int          `json:"members"`
	Events       int          `json:"events"`
	MemberEvents int          `json:"member_events"`
	Ours         []TableBytes `json:"ours"`
	Baseline     []TableBytes `json:"baseline"`
	OursBytes    int64        `json:"ours_bytes"`
	BaseBytes    int64        `json:"baseline_bytes"`
	OursPerME    float64      `json:"ours_bytes_per_member_event"`
	BasePerME    float64      `json:"baseline_bytes_per_member_event"`
	Ratio        float64      `json:"ratio"`
	OursMinutes  int64        `json:"ours_attended_minutes"`
	BaseMinutes  int64        `json:"baseline_attended_minutes"`
	TotalsAgree  bool         `json:"totals_agree"`
	Note         string       `json:"note"`
}

// TableBytes is pg_total_relation_size of one table: heap, TOAST and indexes.
type TableBytes struct {
	Table      string `json:"table"`
	Rows       int64  `json:"rows"`
	Bytes      int64  `json:"bytes"`
	IndexBytes int64  `json:"index_bytes"`
}

// yearDB is the simulated year, kept for figure 3's queries.
type yearDB struct {
	db      *benchDB
	st      *store.Store
	guild   *settings.Guild
	members []uint64
	occs    []store.Occurrence
	last    time.Time // end of the year
}

func (y *yearDB) close() {
	y.st.Close()
	y.db.drop()
}

const yearGuild = 700000000000000001

// yearConfig has the original community's schedule: four one-hour events a
// day, at 07, 16, 21 and 23 o'clock Moscow time.
func yearConfig(dbURL string) (*config.Config, error) {
	return parseConfig(fmt.Sprintf(`
[[guilds]]
id = "%d"
timezone = "Europe/Moscow"
report_channels = ["700000000000000002"]
  [[guilds.schedules]]
  name = "БЗС"
  times = ["07:00", "16:00", "21:00", "23:00"]
  duration = "60m"
  voice_channel_names = ["БЗС"]
`, yearGuild), placeholderToken, dbURL)
}

// runStorage simulates a year (cfg.YearMembers members, cfg.EventsPerDay
// one-hour events a day, each member attending with probability
// cfg.Attending for one or two random stretches), stores it in rollcall's
// tables as the bot would leave it (one mask row per member and event, full
// coverage) and in the baseline table (one row per member, date and hour
// with an integer[] of minutes), and compares sizes and totals.
func runStorage(ctx context.Context, cfg Config, res *Results) (*yearDB, error) {
	db, err := createDB(ctx, cfg.AdminURL, "year")
	if err != nil {
		return nil, err
	}
	st, err := db.open(ctx, nil)
	if err != nil {
		db.drop()
		return nil, err
	}
	y := &yearDB{db: db, st: st}
	ok := false
	defer func() {
		if !ok {
			y.close()
		}
	}()
	conf, err := yearConfig(db.URL)
	if err != nil {
		return nil, err
	}
	y.guild = conf.Validated[0]
	sched := y.guild.Schedules[0].Parsed

	// Members joined before the year; a few left during it, as in a real guild.
	first := time.Date(2025, 11, 1, 0, 0, 0, 0, msk)
	y.last = first.AddDate(0, 0, cfg.YearDays)
	rng := rand.New(rand.NewPCG(7, uint64(cfg.YearDays)))
	ms := make([]store.Member, cfg.YearMembers)
	for i := range ms {
		id := uint64(800000000000000000 + i)
		ms[i] = store.Member{GuildID: yearGuild, UserID: id, Username: fmt.Sprintf("member%03d", i), DisplayName: memberName(i),
			JoinedAt: first.AddDate(0, -1, 0)}
		y.members = append(y.members, id)
	}
	if err := st.UpsertMembers(ctx, yearGuild, ms); err != nil {
		return nil, err
	}
	for i := 0; i < len(ms)/50; i++ { // 2% left at some point
		if err := st.MarkLeft(ctx, yearGuild, ms[i*50].UserID, first.AddDate(0, 0, rng.IntN(max(1, cfg.YearDays)))); err != nil {
			return nil, err
		}
	}

	base, err := openBaseline(ctx, db.URL, msk)
	if err != nil {
		return nil, err
	}
	defer base.close()

	s := &Storage{Days: cfg.YearDays, Members: cfg.YearMembers}
	var baseRows [][]any
	var baseID int32
	for _, occ := range sched.Occurrences(first, y.last) {
		id, err := st.EnsureOccurrence(ctx, yearGuild, occ.Schedule, occ.Start, occ.End)
		if err != nil {
			return nil, err
		}
		y.occs = append(y.occs, store.Occurrence{ID: id, GuildID: yearGuild, Schedule: occ.Schedule, Start: occ.Start, End: occ.End})
		s.Events++
		var samples []store.Sample
		day, hour, _ := base.localHour(occ.Start)
		for _, m := range ms {
			if rng.Float64() >= cfg.Attending {
				continue
			}
			var mask, muted uint64
			for range 1 + rng.IntN(2) {
				from := rng.IntN(60)
				to := min(60, from+1+rng.IntN(45))
				for b := from; b < to; b++ {
					mask |= 1 << b
				}
			}
			if rng.IntN(5) == 0 {
				muted = mask & (mask << 3) // muted for part of the time
			}
			samples = append(samples, store.Sample{OccurrenceID: id, UserID: m.UserID, Present: mask, SelfMute: muted})
			score := make([]int32, 0, bits.OnesCount64(mask))
			for b := range 60 {
				if mask&(1<<b) != 0 {
					score = append(score, int32(b))
				}
			}
			baseID++
			baseRows = append(baseRows, []any{baseID, int64(m.UserID), score, day, hour})
		}
		s.MemberEvents += len(samples)
		// One statement per event: the log row of a whole event, as if
		// one tick had seen it all.
		if err := st.Record(ctx, samples, []store.Coverage{{OccurrenceID: id, Sampled: 1<<60 - 1}}); err != nil {
			return nil, err
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	// As the daily job leaves it: the log folded into attendance.
	ids, err := st.EndedUncompacted(ctx, time.Now().Add(100*365*24*time.Hour))
	if err != nil {
		return nil, err
	}
	for batch := range slices.Chunk(ids, 100) {
		if _, err := st.Compact(ctx, batch); err != nil {
			return nil, err
		}
	}
	if _, err := base.conn.CopyFrom(ctx, pgx.Identifier{"bzs_stats"}, []string{"id", "player_id", "score", "data_bzs", "hour"},
		pgx.CopyFromRows(baseRows)); err != nil {
		return nil, fmt.Errorf("baseline: copy: %w", err)
	}
	// Both sides compacted and analysed: sizes without dead tuples, and
	// the planner's statistics current for figure 3.
	if _, err := base.conn.Exec(ctx, `VACUUM (FULL, ANALYZE) occurrences, attendance, attendance_log, coverage, members, bzs_stats`); err != nil {
		return nil, err
	}
	sizes := func(tables ...string) ([]TableBytes, int64, error) {
		var out []TableBytes
		var total int64
		for _, t := range tables {
			tb := TableBytes{Table: t}
			if err := base.conn.QueryRow(ctx, `SELECT pg_total_relation_size($1::regclass), pg_indexes_size($1::regclass), (SELECT count(*) FROM `+
				pgx.Identifier{t}.Sanitize()+`)`, t).Scan(&tb.Bytes, &tb.IndexBytes, &tb.Rows); err != nil {
				return nil, 0, err
			}
			out = append(out, tb)
			total += tb.Bytes
		}
		return out, total, nil
	}
	if s.Ours, s.OursBytes, err = sizes("occurrences", "attendance", "attendance_log", "coverage", "members"); err != nil {
		return nil, err
	}
	if s.Baseline, s.BaseBytes, err = sizes("bzs_stats"); err != nil {
		return nil, err
	}
	if err := base.conn.QueryRow(ctx, `SELECT coalesce(sum(bit_count(present::bit(64))), 0) FROM attendance`).Scan(&s.OursMinutes); err != nil {
		return nil, err
	}
	if err := base.conn.QueryRow(ctx, `SELECT coalesce(sum(array_length(score, 1)), 0) FROM bzs_stats`).Scan(&s.BaseMinutes); err != nil {
		return nil, err
	}
	s.TotalsAgree = s.OursMinutes == s.BaseMinutes
	if s.MemberEvents > 0 {
		s.OursPerME = round3(float64(s.OursBytes) / float64(s.MemberEvents))
		s.BasePerME = round3(float64(s.BaseBytes) / float64(s.MemberEvents))
	}
	if s.BaseBytes > 0 {
		s.Ratio = round3(float64(s.OursBytes) / float64(s.BaseBytes))
	}
	s.Note = "rollcall's total includes occurrences, coverage and members, which the baseline has no equivalent of; " +
		"rollcall also keeps four voice-state masks per row (self mute/deaf, server mute/deaf) that the baseline does not record"
	res.Storage = s
	cfg.Log.Info("storage", slog.Int("member_events", s.MemberEvents), slog.Float64("ours_per_me", s.OursPerME),
		slog.Float64("baseline_per_me", s.BasePerME), slog.Bool("totals_agree", s.TotalsAgree))
	ok = true
	return y, nil
}
