package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/jackc/pgx/v5"

	"rollcall/app"
	"rollcall/bot"
	"rollcall/clock"
	"rollcall/compose"
	"rollcall/settings"
	"rollcall/store"
	"rollcall/store/storetest"
	"rollcall/view"
)

// Issue 14's two figures: the tick while posts fail, and the heap of
// /absent over years.

// PostsFailing is figure 7: bot.Tick on the whole running app (River's
// workers, the browser, the recorder) with Present members in voice, with
// nothing failing and while Jobs post jobs fail and are retried.
type PostsFailing struct {
	Present int `json:"present"`
	Jobs    int `json:"failing_jobs"`
	// Quiet is every tick with nothing failing (before and after the
	// failures); Failing every tick while the jobs failed.
	Quiet   Dist `json:"tick_nothing_failing"`
	Failing Dist `json:"tick_while_posts_fail"`
	// FailedAttempts counts the posts Discord refused (500) while the
	// failing ticks were measured: each is a report built and drawn.
	FailedAttempts int `json:"failed_attempts"`
	// Refused counts every post Discord refused, the first round included.
	Refused  int     `json:"refused_posts"`
	P99Ratio float64 `json:"p99_ratio"`
}

// tickEvery is figure 7's real time between ticks: 100× faster than 5 s.
const tickEvery = 50 * time.Millisecond

func runPostsFailing(ctx context.Context, cfg Config, res *Results) error {
	db, err := createDB(ctx, cfg.AdminURL, "faults")
	if err != nil {
		return err
	}
	defer db.drop()
	clk := clock.NewFake(eventStart.Add(-time.Minute))
	w, err := newWorld(cfg.FailingPresent, clk.Now)
	if err != nil {
		return err
	}
	defer w.close()
	var channels []uint64
	for i := range cfg.FailingJobs {
		channels = append(channels, uint64(w.sim.AddChannel(w.guild, fmt.Sprintf("отчёты-%d", i+1), discord.ChannelTypeGuildText)))
	}
	conf, err := parseConfig(configText(w.guild, w.reports), w.sim.Token(), db.URL)
	if err != nil {
		return err
	}
	schema, err := schemaSQL()
	if err != nil {
		return err
	}
	// The posts retry on the design's own schedule (5 s, doubling),
	// compressed like the ticks.
	a, err := app.New(ctx, conf, app.Deps{Schema: schema, Clock: clk, Logger: botLog(cfg), ClientOpts: w.sim.ClientOpts(),
		PostBackoff: tickEvery})
	if err != nil {
		return err
	}
	defer a.Close()
	if err := seedEvent(ctx, a.Store, w); err != nil {
		return err
	}
	occs, err := a.Store.Occurrences(ctx, uint64(w.guild), eventStart, eventStart.Add(time.Minute))
	if err != nil || len(occs) != 1 {
		return fmt.Errorf("the seeded event: %v %v", occs, err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
		}
	}()
	deadline := time.Now().Add(2 * time.Minute)
	for !a.Bot.Ready() || clk.Waiters() < 1 {
		select {
		case err := <-done:
			return fmt.Errorf("app stopped while starting: %w", err)
		default:
		}
		if time.Now().After(deadline) {
			return errors.New("app did not become ready within 2 minutes")
		}
		time.Sleep(5 * time.Millisecond)
	}
	w.fillVoice(cfg.FailingPresent)
	rb := &runningBot{bot: a.Bot, clk: clk}
	if err := rb.waitVoice(w.guild, cfg.FailingPresent); err != nil {
		return err
	}

	// Ticks are paced on a compressed clock (tickEvery of real time per 5 s
	// poll): back to back, a phase would be over in a second, before the
	// failing posts had run a few times; at this pace they run beside every
	// tick, as they would beside a bot's ticks 5 s apart.
	minute := 0
	ticks := func(minutes int) []time.Duration {
		var out []time.Duration
		next := time.Now()
		for range minutes {
			for k := range ticksPerMinute {
				time.Sleep(time.Until(next))
				next = next.Add(tickEvery)
				at := eventStart.Add(time.Duration(minute)*time.Minute + time.Duration(k)*5*time.Second)
				t0 := time.Now()
				a.Bot.Tick(at)
				a.Bot.WaitWritten()
				out = append(out, time.Since(t0))
			}
			minute++
		}
		return out
	}
	failed := func() int {
		n := 0
		for _, r := range w.sim.Requests() {
			if r.Method == "POST" && r.Route == "/channels/{channel}/messages" && r.Status == 500 {
				n++
			}
		}
		return n
	}
	ticks(1) // warm up: statements prepared, rows created
	quiet := ticks(cfg.FailingMinutes)

	// Every post to Discord fails with a 500: a transient error, retried.
	w.sim.FailNext("POST", "/channels/{id}/messages", 1<<30, 500, 0)
	err = a.Store.Tx(ctx, func(_ *store.Queries, tx pgx.Tx) error {
		return a.Jobs.EnqueueTx(ctx, tx, []bot.Due{{Kind: bot.KindEvent, GuildID: uint64(w.guild), OccurrenceID: occs[0].ID,
			Channels: channels, At: eventStart.Add(2 * time.Hour)}})
	})
	if err != nil {
		return err
	}
	for failed() < cfg.FailingJobs {
		if time.Now().After(deadline.Add(time.Minute)) {
			return fmt.Errorf("only %d posts failed", failed())
		}
		time.Sleep(10 * time.Millisecond)
	}
	before := failed()
	failing := ticks(cfg.FailingMinutes)
	attempts := failed() - before
	refused := failed()

	// Discord is well again: the posts go out, then nothing fails.
	w.sim.ClearFaults()
	for {
		n, err := a.Jobs.Pending(ctx, time.Hour)
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(20 * time.Millisecond)
	}
	quiet = append(quiet, ticks(cfg.FailingMinutes)...)

	f := &PostsFailing{Present: cfg.FailingPresent, Jobs: cfg.FailingJobs, Quiet: distOf(quiet), Failing: distOf(failing), FailedAttempts: attempts, Refused: refused}
	if f.Quiet.P99 > 0 {
		f.P99Ratio = round3(f.Failing.P99 / f.Quiet.P99)
	}
	res.PostsFailing = f
	cfg.Log.Info("posts failing", slog.Float64("quiet_p99_ms", f.Quiet.P99), slog.Float64("failing_p99_ms", f.Failing.P99),
		slog.Int("failed_attempts", attempts), slog.Float64("ratio", f.P99Ratio))
	return nil
}

// AbsentHeap is figure 8: three /absent period:all at once, through the
// report pipeline (one snapshot each, report.BuildAbsent, the message), over
// years of a guild's history.
type AbsentHeap struct {
	Days    int   `json:"days"`
	Members int   `json:"members"`
	Events  int   `json:"events"`
	Rows    int64 `json:"attendance_rows"`
	// BeforeMB is the live heap after a GC before the builds; PeakMB its
	// highest point while the three ran (Go's heap objects, sampled every
	// millisecond).
	BeforeMB float64 `json:"heap_before_mb"`
	PeakMB   float64 `json:"peak_heap_mb"`
	Took     Dist    `json:"build"`
}

// seededGuild is a guild's history of days written straight in SQL
// (storetest.SeedHistory): members members since its first day, four
// one-hour events a day, cfg.Attending of them at each.
type seededGuild struct {
	db    *benchDB
	st    *store.Store
	guild *settings.Guild
	h     storetest.History
	rows  int64
}

func (s *seededGuild) close() {
	s.st.Close()
	s.db.drop()
}

// end is when the history ends.
func (s *seededGuild) end() time.Time { return s.h.From.AddDate(0, 0, s.h.Days) }

func seedGuild(ctx context.Context, cfg Config, name string, days, members int) (*seededGuild, error) {
	db, err := createDB(ctx, cfg.AdminURL, name)
	if err != nil {
		return nil, err
	}
	st, err := db.open(ctx, nil)
	if err != nil {
		db.drop()
		return nil, err
	}
	s := &seededGuild{db: db, st: st}
	ok := false
	defer func() {
		if !ok {
			s.close()
		}
	}()
	const guild = 42
	from := eventStart.AddDate(0, 0, -days).UTC().Truncate(24 * time.Hour)
	s.h = storetest.History{GuildID: guild, Schedule: "БЗС", Members: members, From: from, Days: days,
		Hours: []int{4, 9, 13, 18}, Attending: cfg.Attending}
	t0 := time.Now()
	if s.rows, err = storetest.SeedHistory(ctx, st, s.h); err != nil {
		return nil, err
	}
	if _, err := st.Pool().Exec(ctx, `VACUUM ANALYZE`); err != nil {
		return nil, err
	}
	cfg.Log.Info("history seeded", slog.Int("days", days), slog.Int64("rows", s.rows), slog.Duration("took", time.Since(t0).Round(time.Millisecond)))
	conf, err := parseConfig(fmt.Sprintf(`
[[guilds]]
id = "%d"
timezone = "Europe/Moscow"
report_channels = ["1"]
  [[guilds.schedules]]
  name = "БЗС"
  times = ["12:00"]
  voice_channel_names = ["БЗС"]
`, guild), placeholderToken, db.URL)
	if err != nil {
		return nil, err
	}
	s.guild = conf.Validated[0]
	ok = true
	return s, nil
}

func runAbsentHeap(ctx context.Context, cfg Config, res *Results) error {
	sg, err := seedGuild(ctx, cfg, "absent", cfg.AbsentDays, cfg.AbsentMembers)
	if err != nil {
		return err
	}
	defer sg.close()
	st, g, from, rows, h := sg.st, sg.guild, sg.h.From, sg.rows, sg.h
	reports := &compose.Reports{Store: st}
	absent := func() error {
		_, err := reports.Absent(ctx, g, view.LangOf("en-US"), compose.AbsentOptions{From: from, To: from.AddDate(0, 0, cfg.AbsentDays)})
		return err
	}
	if err := absent(); err != nil { // warm: statements prepared, pages cached
		return err
	}
	heap := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	runtime.GC()
	metrics.Read(heap)
	before := heap[0].Value.Uint64()
	stop, peakc := make(chan struct{}), make(chan uint64, 1)
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var peak uint64
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-stop:
				peakc <- peak
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make([]error, 3)
	took := make([]time.Duration, 3)
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			errs[i] = absent()
			took[i] = time.Since(t0)
		}()
	}
	wg.Wait()
	close(stop)
	peak := <-peakc
	if err := errors.Join(errs...); err != nil {
		return err
	}
	mb := func(b uint64) float64 { return round3(float64(b) / (1 << 20)) }
	res.AbsentHeap = &AbsentHeap{Days: cfg.AbsentDays, Members: cfg.AbsentMembers, Events: cfg.AbsentDays * len(h.Hours), Rows: rows,
		BeforeMB: mb(before), PeakMB: mb(peak), Took: distOf(took)}
	cfg.Log.Info("absent heap", slog.Float64("before_mb", mb(before)), slog.Float64("peak_mb", mb(peak)), slog.Float64("build_p50_ms", res.AbsentHeap.Took.P50))
	return nil
}
