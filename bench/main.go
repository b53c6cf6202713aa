// Command bench measures rollcall against the design it replaces and
// against the limits it claims (issues #7 and #14): ingest per poll tick,
// storage per member-event, report queries, chart rendering, slash-command
// latency, the bot's memory, the tick while posts fail and the heap of
// /absent over years. It prints a Markdown report and writes the same figures
// to results.json and results.md.
//
// Run it with `make bench` (real PostgreSQL, real Chromium, the Discord
// simulator); see bench/README.md for what each figure measures. Both sides
// of every comparison run in the same process run, interleaved per size, so
// a ratio holds on a noisy machine even when the absolute times do not.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"
)

// childEnv selects a helper mode when the bench binary re-executes itself
// (figure 6 runs the bot in a child process so its RSS excludes the
// simulator, the database driver of the baseline and the browser).
const childEnv = "ROLLCALL_BENCH_CHILD"

// Config is one run's settings; Quick() is the smoke test's.
type Config struct {
	AdminURL string   // PostgreSQL server to create the bench databases on
	OutDir   string   // where results.json and results.md go; "" writes nothing
	Sizes    []int    // members present per tick, figure 1
	Minutes  int      // new minutes measured per size (fewer at 10,000)
	Figures  []string // subset of ingest,storage,queries,render,interactions,footprint
	// Year shapes figure 2's simulated year.
	YearDays, YearMembers, EventsPerDay int
	Attending                           float64
	QueryIters, RenderIters             int
	FootprintMembers, FootprintMinutes  int
	Interactions, InFlight              int
	// Figure 7: members present, post jobs failing, minutes of ticks per phase.
	FailingPresent, FailingJobs, FailingMinutes int
	// Figure 8: days of history and members for /absent period:all.
	AbsentDays, AbsentMembers int
	// Figure 9: lengths of history, members, sizes recorded, minutes
	// recorded per size and runs of each query.
	GrowthDays, GrowthSizes                   []int
	GrowthMembers, GrowthMinutes, GrowthIters int
	// Figure 10: guilds, members present across them, processes, shards,
	// the event's minutes and the time before it for the processes to start.
	ShardGuilds, ShardPresent, ShardProcs, ShardCount, ShardMinutes int
	ShardLead                                                       time.Duration
	Log                                                             *slog.Logger
}

// DefaultConfig is what `make bench` runs.
func DefaultConfig() Config {
	return Config{
		AdminURL: adminURL(), OutDir: "bench",
		Sizes: []int{10, 100, 1000, 10000}, Minutes: 9,
		Figures:  allFigures,
		YearDays: 365, YearMembers: 500, EventsPerDay: 4, Attending: 0.3,
		QueryIters: 60, RenderIters: 30,
		FootprintMembers: 1000, FootprintMinutes: 60,
		Interactions: 100, InFlight: 10,
		FailingPresent: 1000, FailingJobs: 20, FailingMinutes: 15,
		AbsentDays: 5 * 365, AbsentMembers: 500,
		GrowthDays: []int{365, 5 * 365}, GrowthSizes: []int{10, 100, 1000, 10000, 100000},
		GrowthMembers: 500, GrowthMinutes: 5, GrowthIters: 20,
		ShardGuilds: 50, ShardPresent: 100000, ShardProcs: 4, ShardCount: 4, ShardMinutes: 3, ShardLead: 75 * time.Second,
	}
}

// Quick is a tiny version of every figure, for the smoke test.
func Quick() Config {
	c := DefaultConfig()
	c.OutDir = ""
	c.Sizes, c.Minutes = []int{5, 20}, 2
	c.YearDays, c.YearMembers = 7, 30
	c.QueryIters, c.RenderIters = 3, 3
	c.FootprintMembers, c.FootprintMinutes = 20, 2
	c.Interactions, c.InFlight = 4, 2
	c.FailingPresent, c.FailingJobs, c.FailingMinutes = 20, 3, 1
	c.AbsentDays, c.AbsentMembers = 30, 30
	c.GrowthDays, c.GrowthSizes, c.GrowthMembers, c.GrowthMinutes, c.GrowthIters = []int{7, 14}, []int{5, 20}, 30, 2, 2
	c.ShardGuilds, c.ShardPresent, c.ShardProcs, c.ShardCount, c.ShardMinutes, c.ShardLead = 4, 40, 2, 2, 1, 15*time.Second
	return c
}

var allFigures = []string{"ingest", "storage", "queries", "render", "interactions", "footprint", "posts-failing", "absent-heap", "growth", "shards"}

func adminURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

func (c Config) wants(fig string) bool {
	for _, f := range c.Figures {
		if f == fig {
			return true
		}
	}
	return false
}

func main() {
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(runChild(mode, os.Args[1:], os.Stdout))
	}
	cfg := DefaultConfig()
	var sizes, figs string
	flag.StringVar(&cfg.AdminURL, "db", cfg.AdminURL, "PostgreSQL server URL; bench databases are created on it and dropped (default $TEST_DATABASE_URL or the local server)")
	flag.StringVar(&cfg.OutDir, "out", cfg.OutDir, "directory for results.json and results.md (empty: write nothing)")
	flag.StringVar(&sizes, "sizes", joinInts(cfg.Sizes), "members present per tick, figure 1")
	flag.IntVar(&cfg.Minutes, "minutes", cfg.Minutes, "new minutes measured per size in figure 1")
	flag.StringVar(&figs, "figures", strings.Join(cfg.Figures, ","), "figures to run")
	flag.IntVar(&cfg.YearDays, "days", cfg.YearDays, "days of simulated history, figures 2 and 3")
	flag.IntVar(&cfg.QueryIters, "query-iters", cfg.QueryIters, "runs of each query, figure 3")
	flag.IntVar(&cfg.RenderIters, "render-iters", cfg.RenderIters, "warm renders of each chart, figure 4")
	verbose := flag.Bool("v", false, "log progress details")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file (go tool pprof)")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench: -cpuprofile:", err)
			os.Exit(2)
		}
		defer pprof.StopCPUProfile()
	}
	var err error
	if cfg.Sizes, err = parseInts(sizes); err != nil {
		fmt.Fprintln(os.Stderr, "bench: -sizes:", err)
		os.Exit(2)
	}
	cfg.Figures = strings.Split(figs, ",")
	for _, f := range cfg.Figures {
		if !slices.Contains(allFigures, f) {
			fmt.Fprintf(os.Stderr, "bench: -figures: %q is not a figure; the figures are %s\n", f, strings.Join(allFigures, ","))
			os.Exit(2)
		}
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res := Run(ctx, cfg)
	if err := Write(res, cfg.OutDir, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	if len(res.Errors) > 0 {
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// Run measures every figure cfg asks for. A figure that cannot run (no
// database, no browser) is recorded in Errors and the others still run.
func Run(ctx context.Context, cfg Config) *Results {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	start := time.Now()
	res := newResults(cfg)
	res.Machine = machineInfo(ctx, cfg)
	fail := func(fig string, err error) {
		cfg.Log.Error("figure failed", slog.String("figure", fig), slog.Any("error", err))
		res.Errors = append(res.Errors, fig+": "+err.Error())
	}
	step := func(fig string, f func() error) {
		if !cfg.wants(fig) || ctx.Err() != nil {
			return
		}
		t := time.Now()
		cfg.Log.Info("figure", slog.String("figure", fig))
		if err := f(); err != nil {
			fail(fig, err)
		}
		cfg.Log.Info("figure done", slog.String("figure", fig), slog.Duration("took", time.Since(t).Round(time.Millisecond)))
	}
	step("ingest", func() error { return runIngest(ctx, cfg, res) })
	var year *yearDB
	defer func() {
		if year != nil {
			year.close()
		}
	}()
	step("storage", func() error {
		var err error
		year, err = runStorage(ctx, cfg, res)
		return err
	})
	step("queries", func() error {
		if year == nil {
			return fmt.Errorf("needs the simulated year of figure 2, which did not run")
		}
		return runQueries(ctx, cfg, res, year)
	})
	step("render", func() error { return runRender(ctx, cfg, res) })
	step("interactions", func() error { return runInteractions(ctx, cfg, res) })
	step("footprint", func() error { return runFootprint(ctx, cfg, res) })
	step("posts-failing", func() error { return runPostsFailing(ctx, cfg, res) })
	step("absent-heap", func() error { return runAbsentHeap(ctx, cfg, res) })
	step("growth", func() error { return runGrowth(ctx, cfg, res) })
	step("shards", func() error { return runShards(ctx, cfg, res) })
	res.finish(time.Since(start))
	return res
}

// Write prints the Markdown report to w and, with dir set, writes
// results.md and results.json there.
func Write(res *Results, dir string, w io.Writer) error {
	md := Markdown(res)
	if _, err := io.WriteString(w, md); err != nil {
		return err
	}
	if dir == "" {
		return nil
	}
	js, err := res.JSON()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), js, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "results.md"), []byte(md), 0o644)
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a positive integer", f)
		}
		out = append(out, n)
	}
	return out, nil
}
