package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"rollcall/clock"
	"rollcall/store"
)

// IngestRow is figure 1 at one number of members present.
type IngestRow struct {
	Present int `json:"present"`
	Minutes int `json:"minutes_measured"`
	// OursTick* time bot.Tick: reading the voice states from disgo's cache,
	// keeping what is new in memory, and the one upsert.
	OursTickNew       Dist `json:"ours_tick_new_minute"`
	OursTickOther     Dist `json:"ours_tick_other"`
	OursStmtsNew      int  `json:"ours_statements_new_minute"`
	OursStmtsOtherMax int  `json:"ours_statements_other_max"`
	// OursRecordNew times the bare store.Record of n new samples.
	OursRecordNew  Dist    `json:"ours_record_new_minute"`
	BaseNew        Dist    `json:"baseline_new_minute"`
	BaseOther      Dist    `json:"baseline_other"`
	BaseStmtsNew   int     `json:"baseline_statements_new_minute"`
	BaseStmtsOther int     `json:"baseline_statements_other"`
	RatioNewMinute float64 `json:"ratio_new_minute"`
	// RatioPerMinute compares a whole minute of polling: one new-minute
	// tick and eleven others, every 5 s.
	RatioPerMinute float64 `json:"ratio_per_minute"`
}

const ticksPerMinute = 12 // every 5 s

func botLog(cfg Config) *slog.Logger {
	if cfg.Log.Enabled(context.Background(), slog.LevelDebug) {
		return cfg.Log
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}

// runIngest measures figure 1: for each size, minute by minute, our bot's
// tick, our bare Record and the baseline's tick, interleaved.
func runIngest(ctx context.Context, cfg Config, res *Results) error {
	db, err := createDB(ctx, cfg.AdminURL, "ingest")
	if err != nil {
		return err
	}
	defer db.drop()
	counter := &stmtCounter{}
	st, err := db.open(ctx, counter)
	if err != nil {
		return err
	}
	defer st.Close()
	base, err := openBaseline(ctx, db.URL, msk)
	if err != nil {
		return err
	}
	defer base.close()

	maxN := 0
	for _, n := range cfg.Sizes {
		maxN = max(maxN, n)
	}
	clk := clock.NewFake(eventStart.Add(-time.Minute))
	w, err := newWorld(maxN, clk.Now)
	if err != nil {
		return err
	}
	defer w.close()
	conf, err := parseConfig(configText(w.guild, w.reports), w.sim.Token(), db.URL)
	if err != nil {
		return err
	}
	rb, err := startBot(conf, st, clk, w.sim.ClientOpts(), botLog(cfg))
	if err != nil {
		return err
	}
	defer rb.stop()

	// The bare Record writes into its own occurrence of another guild.
	recOcc, err := st.EnsureOccurrence(ctx, 1, "bare", eventStart, eventStart.Add(24*time.Hour))
	if err != nil {
		return err
	}
	users := make([]int64, len(w.members))
	for i, m := range w.members {
		users[i] = int64(m)
	}

	// Each side has its own minute counter: every measured minute is new
	// for everyone present on that side.
	var botMin, recMin, baseMin int
	for _, n := range cfg.Sizes {
		w.fillVoice(n)
		if err := rb.waitVoice(w.guild, n); err != nil {
			return err
		}
		minutes, baseOthers := cfg.Minutes, ticksPerMinute-1
		if n >= 10000 {
			// The baseline needs seconds per minute here; fewer samples keep
			// `make bench` within its budget without changing the medians.
			minutes, baseOthers = max(2, cfg.Minutes/2), 3
		}
		row := IngestRow{Present: n, Minutes: minutes}
		var tNew, tOther, tRec, bNew, bOther []time.Duration
		for i := -1; i < minutes; i++ { // minute -1 warms up: statements prepared, rows created
			warm := i < 0
			// Ours, through the poller.
			at := eventStart.Add(time.Duration(botMin) * time.Minute)
			before := counter.Load()
			t0 := time.Now()
			rb.bot.Tick(at)
			rb.bot.WaitWritten()
			d := time.Since(t0)
			if !warm {
				tNew = append(tNew, d)
				row.OursStmtsNew = max(row.OursStmtsNew, counter.Load()-before)
			}
			// Ours, the bare store call.
			samples := make([]store.Sample, n)
			chunk, bit := recMin/64, uint64(1)<<(recMin%64)
			for j := range n {
				samples[j] = store.Sample{OccurrenceID: recOcc, UserID: uint64(users[j]), Chunk: chunk, Present: bit}
			}
			t0 = time.Now()
			if err := st.Record(ctx, samples, []store.Coverage{{OccurrenceID: recOcc, Chunk: chunk, Sampled: bit}}); err != nil {
				return err
			}
			if d := time.Since(t0); !warm {
				tRec = append(tRec, d)
			}
			recMin++
			// The baseline.
			bat := eventStart.Add(time.Duration(baseMin) * time.Minute)
			t0 = time.Now()
			stmts, err := base.tick(ctx, bat, users[:n])
			if err != nil {
				return err
			}
			if d := time.Since(t0); !warm {
				bNew = append(bNew, d)
				row.BaseStmtsNew = stmts
			}
			// The other ticks of the minute.
			for k := 1; k < ticksPerMinute; k++ {
				before := counter.Load()
				t0 := time.Now()
				rb.bot.Tick(at.Add(time.Duration(k) * 5 * time.Second))
				rb.bot.WaitWritten()
				d := time.Since(t0)
				if !warm {
					tOther = append(tOther, d)
					row.OursStmtsOtherMax = max(row.OursStmtsOtherMax, counter.Load()-before)
				}
				if k > baseOthers && !warm {
					continue
				}
				t0 = time.Now()
				stmts, err := base.tick(ctx, bat.Add(time.Duration(k)*5*time.Second), users[:n])
				if err != nil {
					return err
				}
				if d := time.Since(t0); !warm {
					bOther = append(bOther, d)
					row.BaseStmtsOther = stmts
				}
			}
			botMin++
			baseMin++
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
		row.OursTickNew, row.OursTickOther, row.OursRecordNew = distOf(tNew), distOf(tOther), distOf(tRec)
		row.BaseNew, row.BaseOther = distOf(bNew), distOf(bOther)
		if row.OursTickNew.P50 > 0 {
			row.RatioNewMinute = round3(row.BaseNew.P50 / row.OursTickNew.P50)
		}
		ours := row.OursTickNew.P50 + float64(ticksPerMinute-1)*row.OursTickOther.P50
		theirs := row.BaseNew.P50 + float64(ticksPerMinute-1)*row.BaseOther.P50
		if ours > 0 {
			row.RatioPerMinute = round3(theirs / ours)
		}
		res.Ingest = append(res.Ingest, row)
		cfg.Log.Info("ingest", slog.Int("present", n), slog.Float64("ours_new_ms", row.OursTickNew.P50),
			slog.Float64("ours_other_ms", row.OursTickOther.P50), slog.Float64("record_ms", row.OursRecordNew.P50),
			slog.Float64("baseline_new_ms", row.BaseNew.P50), slog.Float64("baseline_other_ms", row.BaseOther.P50),
			slog.Int("ours_stmts_new", row.OursStmtsNew), slog.Int("ours_stmts_other", row.OursStmtsOtherMax))
	}
	if botMin > 110 {
		return fmt.Errorf("figure 1 ran past the simulated event (%d minutes)", botMin)
	}
	return nil
}
