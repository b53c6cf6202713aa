package main

import (
	"fmt"
	"strings"
	"time"
)

// Markdown is the report: a summary of targets, then each figure's table.
func Markdown(r *Results) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	m := r.Machine
	p("# rollcall benchmarks\n\n")
	p("Measured %s in %.0f s with `make bench` on %s (%d cores, %.1f GB RAM, %s); %s; %s; %s. "+
		"Load average %s at the start, %s at the end.\n\n",
		r.GeneratedAt, r.DurationS, orNA(m.CPU), m.Cores, m.MemoryGB, orNA(m.Kernel), m.Go, orNA(firstWords(m.Postgres, 2)), orNA(m.Chromium),
		fmtNum(m.LoadStart), fmtNum(m.LoadEnd))

	p("## Summary\n\n| # | What | Target | Measured | Met |\n|---|---|---|---|---|\n")
	for _, t := range r.Targets {
		met := "not measured"
		if t.Met != nil {
			met = map[bool]string{true: "yes", false: "**NO**"}[*t.Met]
		}
		p("| %d | %s | %s | %s | %s |\n", t.Figure, t.What, t.Target, t.Measured, met)
	}
	p("\n")
	var missed []string
	for _, t := range r.Targets {
		if t.Met != nil && !*t.Met {
			missed = append(missed, fmt.Sprintf("- **Missed: %s** (%s, target %s). %s", t.What, t.Measured, t.Target, t.Note))
		}
	}
	if len(missed) > 0 {
		p("%s\n\n", strings.Join(missed, "\n"))
	}

	if len(r.Ingest) > 0 {
		p("## 1. Ingest: one poll tick\n\n")
		p("Median ms per tick (statements sent) with that many members in the watched voice channels. " +
			"*rollcall tick* is `bot.Tick` on the running bot (disgo's cache read, or its reuse while no gateway event touched the guild; the in-memory dedup; one attendance_log insert); " +
			"*Record* is the bare `store.Record` of the same samples. *Baseline* is the original design: per member a SELECT, " +
			"then an UPDATE or INSERT, one transaction per tick, Go and pgx, with an index the original lacked. " +
			"A minute has one *new-minute* tick and eleven *other* ticks.\n\n")
		p("| present | rollcall tick, new minute | rollcall tick, other | Record | baseline, new minute | baseline, other | × new minute | × per minute |\n")
		p("|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, x := range r.Ingest {
			p("| %s | %s (%d) | %s (%d) | %s | %s (%d) | %s (%d) | %s× | %s× |\n", thousands(x.Present),
				fmtNum(x.OursTickNew.P50), x.OursStmtsNew, fmtNum(x.OursTickOther.P50), x.OursStmtsOtherMax, fmtNum(x.OursRecordNew.P50),
				fmtNum(x.BaseNew.P50), x.BaseStmtsNew, fmtNum(x.BaseOther.P50), x.BaseStmtsOther,
				fmtNum(x.RatioNewMinute), fmtNum(x.RatioPerMinute))
		}
		p("\n")
	}

	if s := r.Storage; s != nil {
		p("## 2. Storage: one simulated year\n\n")
		p("%d days, %d members, %s one-hour events, %s member-events (about %.0f%% attending, in one or two random stretches). "+
			"`pg_total_relation_size` (heap, TOAST, indexes) after `VACUUM FULL`.\n\n",
			s.Days, s.Members, thousands(s.Events), thousands(s.MemberEvents), 100*r.cfg.Attending)
		p("| side | table | rows | bytes | of which indexes |\n|---|---|---:|---:|---:|\n")
		for _, t := range s.Ours {
			p("| rollcall | %s | %s | %s | %s |\n", t.Table, thousands(int(t.Rows)), thousands(int(t.Bytes)), thousands(int(t.IndexBytes)))
		}
		for _, t := range s.Baseline {
			p("| baseline | %s | %s | %s | %s |\n", t.Table, thousands(int(t.Rows)), thousands(int(t.Bytes)), thousands(int(t.IndexBytes)))
		}
		p("\nrollcall %s bytes per member-event, baseline %s: ratio %s. Attended minutes: rollcall %s, baseline %s (%s). %s.\n\n",
			fmtNum(s.OursPerME), fmtNum(s.BasePerME), fmtNum(s.Ratio), thousands(int(s.OursMinutes)), thousands(int(s.BaseMinutes)),
			map[bool]string{true: "agree", false: "**DISAGREE**"}[s.TotalsAgree], s.Note)
	}

	if len(r.Queries) > 0 {
		p("## 3. Queries behind the commands, on that year\n\n| command | what runs | p50 ms | p95 ms | of p50, in SQL | rows shown |\n|---|---|---:|---:|---:|---:|\n")
		for _, q := range r.Queries {
			p("| %s | %s | %s | %s | %s | %d |\n", q.Command, q.What, fmtNum(q.Dist.P50), fmtNum(q.Dist.P95), fmtNum(q.DBP50), q.Rows)
		}
		p("\n")
	}

	if x := r.Render; x != nil {
		p("## 4. Rendering in headless Chromium\n\n")
		p("Cold start: `render.New` (launch, load ECharts, warm-up render) %s ms, then the first chart %s ms.\n\n",
			fmtNum(x.ColdNewMs), fmtNum(x.ColdFirstMs))
		p("| chart | warm p50 ms | warm p95 ms |\n|---|---:|---:|\n")
		p("| 20-member event timeline | %s | %s |\n| 50-member weekly leaderboard | %s | %s |\n\n",
			fmtNum(x.Timeline20.P50), fmtNum(x.Timeline20.P95), fmtNum(x.Leaderboard50.P50), fmtNum(x.Leaderboard50.P95))
		p("| tabs | renders/s (%d at once) | Chromium processes | PSS MB | RSS MB (sum, double-counts shared pages) |\n|---:|---:|---:|---:|---:|\n",
			firstConcurrency(x))
		for _, pl := range x.Pools {
			p("| %d | %s | %d | %s | %s |\n", pl.Tabs, fmtNum(pl.RendersPerSec), pl.Processes, fmtNum(pl.PSSMB), fmtNum(pl.RSSMB))
		}
		p("\n")
	}

	p("## 5. Slash commands through the simulator\n\n")
	if in := r.Interactions; in != nil && in.Measured {
		p("Commands %s alternating; time from the simulator sending INTERACTION_CREATE to the deferral callback (ack) "+
			"and to the final response with its image (reply), warm browser.\n\n", "/"+strings.Join(in.Commands, ", /"))
		p("| in flight | commands | ack p50 | ack p99 | reply p50 | reply p95 | failed |\n|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, run := range []*InteractionRun{in.Sequential, in.Concurrent} {
			if run != nil {
				p("| %d | %d | %s | %s | %s | %s | %d |\n", run.InFlight, run.Count, fmtNum(run.Ack.P50), fmtNum(run.Ack.P99),
					fmtNum(run.Reply.P50), fmtNum(run.Reply.P95), run.Failed)
			}
		}
		p("\n")
	} else {
		note := notMerged
		if in := r.Interactions; in != nil && in.Note != "" {
			note = in.Note
		}
		p("%s.\n\n", strings.TrimSuffix(note, "."))
	}

	if f := r.Footprint; f != nil {
		p("## 6. Bot footprint\n\n")
		p("The bot alone in a child process (no simulator, no browser) recording %d minutes (%d ticks) with %s members present: "+
			"VmRSS %s MB at the end, peak (VmHWM, start-up included) %s MB, highest seen from outside %s MB; Go heap in use %s MB, %d goroutines.\n\n",
			f.Minutes, f.Ticks, thousands(f.Members), fmtNum(f.RSSMB), fmtNum(f.PeakRSSMB), fmtNum(f.SampledMaxMB), fmtNum(f.HeapInuseMB), f.Goroutines)
	}

	if f := r.PostsFailing; f != nil {
		p("## 7. The tick while posts fail\n\n")
		p("`bot.Tick` with its write on the whole running app (River's workers, the browser, the recorder) with %s members present, "+
			"ticks paced %s ms apart (a 5 s poll on a clock %d× faster): "+
			"%d minutes of ticks with nothing failing before and after, and %d minutes from the moment %d post jobs fall due while Discord answers "+
			"every post 500 (a transient error: retried on the design's own backoff, 5 s doubling, compressed the same way; "+
			"%d attempts refused while measured; a retry within a minute sends the message its job built before, later ones build and draw it again).\n\n",
			thousands(f.Present), fmtNum(ms(tickEvery)), int(5*time.Second/tickEvery), 2*r.cfg.FailingMinutes, r.cfg.FailingMinutes, f.Jobs, f.FailedAttempts)
		p("| ticks | n | p50 | p95 | p99 | max |\n|---|---:|---:|---:|---:|---:|\n")
		for _, x := range []struct {
			what string
			d    Dist
		}{{"nothing failing", f.Quiet}, {"posts failing", f.Failing}} {
			p("| %s | %d | %s | %s | %s | %s |\n", x.what, x.d.N, fmtNum(x.d.P50), fmtNum(x.d.P95), fmtNum(x.d.P99), fmtNum(x.d.Max))
		}
		p("\n")
	}

	if a := r.AbsentHeap; a != nil {
		p("## 8. /absent over years: the heap\n\n")
		p("Three `/absent period:all` at once through the report pipeline (a snapshot each, `report.BuildAbsent`, the message) over %s days "+
			"of %d members: %s events, %s attendance rows. Go's live heap was %s MB before and peaked at %s MB while they ran; "+
			"each took %s ms (median).\n\n",
			thousands(a.Days), a.Members, thousands(a.Events), thousands(int(a.Rows)), fmtNum(a.BeforeMB), fmtNum(a.PeakMB), fmtNum(a.Took.P50))
	}

	if g := r.Growth; g != nil && len(g.Histories) > 0 {
		p("## 9. How cost grows\n\n")
		p("One guild of %d members with four one-hour events a day, its history written straight in SQL, at each length. "+
			"*Record* is the bare `store.Record` of one tick's new minute for that many present (the write a poll tick makes; "+
			"the rest of a tick reads disgo's cache, figure 1), median of %d minutes. The queries are what each command runs (figure 3), "+
			"median and p95 of %d runs.\n\n", g.Members, r.cfg.GrowthMinutes, r.cfg.GrowthIters)
		header := func(first string) {
			p("| %s |", first)
			for _, h := range g.Histories {
				p(" %s days (%s events, %s rows) |", thousands(h.Days), thousands(h.Events), thousands(int(h.Rows)))
			}
			p("\n|---|")
			for range g.Histories {
				p("---:|")
			}
			p("\n")
		}
		header("present: Record ms")
		for i, rec := range g.Histories[0].Record {
			p("| %s |", thousands(rec.Present))
			for _, h := range g.Histories {
				if i < len(h.Record) {
					p(" %s |", fmtNum(h.Record[i].Dist.P50))
				}
			}
			p("\n")
		}
		p("\n")
		header("command: p50 / p95 ms")
		for i, q := range g.Histories[0].Queries {
			p("| %s |", q.Command)
			for _, h := range g.Histories {
				if i < len(h.Queries) {
					p(" %s / %s |", fmtNum(h.Queries[i].Dist.P50), fmtNum(h.Queries[i].Dist.P95))
				}
			}
			p("\n")
		}
		p("\n")
	}

	if sh := r.Shards; sh != nil {
		p("## 10. Shards across processes\n\n")
		p("%s members in voice across %d guilds, served by %d real `rollcall run` processes (the binary of this module, `shard_ids` "+
			"giving each its shards of %d) against the simulator and one PostgreSQL, through one %d-minute event on real time. "+
			"Member-minutes recorded: %s of %s (%s lost). Each process's writes are its `rollcall_db_write_duration_seconds`; "+
			"its peak RSS is VmHWM (Chromium, which draws the reports, is apart).\n\n",
			thousands(sh.Present), sh.Guilds, len(sh.Processes), sh.ShardCount, sh.EventMinutes,
			thousands(int(sh.MinutesRecorded)), thousands(int(sh.MinutesExpected)), thousands(int(sh.MinutesLost)))
		p("| shards | guilds | ticks | writes | mean write ms | slowest write | writes > 1 s | peak RSS MB |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, x := range sh.Processes {
			slowest := "≤ " + fmtNum(x.SlowestWriteAtMostS) + " s"
			if x.SlowestWriteAtMostS < 0 {
				slowest = "> 10 s"
			}
			p("| %v | %d | %d | %d | %s | %s | %d | %s |\n", x.ShardIDs, x.Guilds, x.Ticks, x.Writes, fmtNum(x.WriteMeanMs),
				slowest, x.WritesOver1s, fmtNum(x.PeakRSSMB))
		}
		p("\n")
	}

	if len(r.Errors) > 0 {
		p("## Errors\n\n")
		for _, e := range r.Errors {
			p("- %s\n", e)
		}
		p("\n")
	}
	return b.String()
}

func firstConcurrency(x *Render) int {
	if len(x.Pools) > 0 {
		return x.Pools[0].Concurrency
	}
	return 0
}

func orNA(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func firstWords(s string, n int) string {
	f := strings.Fields(s)
	return strings.Join(f[:min(n, len(f))], " ")
}

// thousands writes 10000 as 10,000.
func thousands(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
