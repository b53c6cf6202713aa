package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"rollcall/render"
	"rollcall/view"
)

// Render is figure 4.
type Render struct {
	// ColdNewMs is render.New: launching Chromium, loading ECharts into the
	// tab and its warm-up render; ColdFirstMs the first chart after it.
	ColdNewMs     float64      `json:"cold_new_ms"`
	ColdFirstMs   float64      `json:"cold_first_render_ms"`
	Timeline20    Dist         `json:"warm_timeline20"`
	Leaderboard50 Dist         `json:"warm_leaderboard50"`
	Pools         []RenderPool `json:"pools"`
}

// RenderPool is throughput and memory of a browser with Tabs tabs.
type RenderPool struct {
	Tabs          int     `json:"tabs"`
	Concurrency   int     `json:"concurrency"`
	RendersPerSec float64 `json:"renders_per_sec"`
	Processes     int     `json:"chromium_processes"`
	PSSMB         float64 `json:"chromium_pss_mb"`
	RSSMB         float64 `json:"chromium_rss_mb"`
}

// timeline20 is a post-event chart: 20 people arriving and leaving over a
// one-hour event, some muted for a while, names in Cyrillic with emoji.
func timeline20() render.TimelineChart {
	l := view.RU
	c := render.TimelineChart{Title: "БЗС · ср 25 нояб. 2026, 16:00–17:00 MSK", Start: eventStart, Minutes: 60, Labels: l.Labels()}
	for i := range 20 {
		from, to := (i*7)%25, 60-(i*5)%20
		row := render.TimelineRow{Name: memberName(i), Present: make([]bool, 60), Muted: make([]bool, 60)}
		for m := from; m < to; m++ {
			row.Present[m] = m%17 != i%17 // a short gap now and then
			row.Muted[m] = i%4 == 0 && m >= 30 && m < 40
		}
		c.Rows = append(c.Rows, row)
	}
	return c
}

// leaderboard50 is the weekly chart: 50 members ranked by minutes.
func leaderboard50() render.BarChart {
	c := render.BarChart{Title: "Неделя 48: 23–29 нояб. 2026", ValueLabel: "минуты", Labels: view.RU.Labels()}
	for i := range 50 {
		c.Bars = append(c.Bars, render.Bar{Label: memberName(i), Value: float64(1680 - i*31), Highlight: i == 7})
	}
	return c
}

func chromiumVersion() string {
	path, err := render.FindChromium()
	if err != nil {
		return ""
	}
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func runRender(ctx context.Context, cfg Config, res *Results) error {
	r := &Render{}
	tl, lb := timeline20(), leaderboard50()

	t0 := time.Now()
	rend, err := render.New(ctx, render.Options{Tabs: 1, Timeout: 30 * time.Second, Logger: botLog(cfg)})
	if err != nil {
		return err
	}
	r.ColdNewMs = ms(time.Since(t0))
	t0 = time.Now()
	if _, err := rend.Timeline(ctx, tl); err != nil {
		_ = rend.Close()
		return err
	}
	r.ColdFirstMs = ms(time.Since(t0))
	// Warm: alternate the two charts, as a busy guild's reports would.
	var tt, tb []time.Duration
	for i := -2; i < cfg.RenderIters; i++ {
		t0 := time.Now()
		if _, err := rend.Timeline(ctx, tl); err != nil {
			_ = rend.Close()
			return err
		}
		d1 := time.Since(t0)
		t0 = time.Now()
		if _, err := rend.Bars(ctx, lb); err != nil {
			_ = rend.Close()
			return err
		}
		d2 := time.Since(t0)
		if i >= 0 {
			tt, tb = append(tt, d1), append(tb, d2)
		}
	}
	r.Timeline20, r.Leaderboard50 = distOf(tt), distOf(tb)
	pool, err := measurePool(ctx, rend, 1, cfg)
	_ = rend.Close()
	if err != nil {
		return err
	}
	r.Pools = append(r.Pools, pool)

	rend2, err := render.New(ctx, render.Options{Tabs: 2, Timeout: 30 * time.Second, Logger: botLog(cfg)})
	if err != nil {
		return err
	}
	pool, err = measurePool(ctx, rend2, 2, cfg)
	_ = rend2.Close()
	if err != nil {
		return err
	}
	r.Pools = append(r.Pools, pool)
	res.Render = r
	cfg.Log.Info("render", slog.Float64("cold_ms", r.ColdNewMs+r.ColdFirstMs), slog.Float64("timeline20_p50", r.Timeline20.P50),
		slog.Float64("leaderboard50_p50", r.Leaderboard50.P50))
	return nil
}

// measurePool renders timelines from four goroutines at once for a fixed
// count and reads Chromium's memory right after, while it is still warm.
func measurePool(ctx context.Context, rend *render.Renderer, tabs int, cfg Config) (RenderPool, error) {
	const workers = 4
	n := max(8, cfg.RenderIters)
	tl := timeline20()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	jobs := make(chan struct{}, n)
	for range n {
		jobs <- struct{}{}
	}
	close(jobs)
	t0 := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				if _, err := rend.Timeline(ctx, tl); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(t0)
	if firstErr != nil {
		return RenderPool{}, firstErr
	}
	p := RenderPool{Tabs: tabs, Concurrency: workers, RendersPerSec: round3(float64(n) / el.Seconds())}
	p.Processes, p.PSSMB, p.RSSMB = chromiumMemory()
	cfg.Log.Info("render pool", slog.Int("tabs", tabs), slog.Float64("renders_per_sec", p.RendersPerSec), slog.Float64("pss_mb", p.PSSMB))
	return p, nil
}

// chromiumMemory sums PSS (each shared page divided among the processes
// sharing it, so the sum is what the browser really costs) and RSS over
// every Chromium process descended from this one.
func chromiumMemory() (procs int, pssMB, rssMB float64) {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// The command name is in parentheses and may hold spaces: the
		// parent pid is the second field after the last ')'.
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		children[ppid] = append(children[ppid], pid)
	}
	var walk func(int)
	walk = func(pid int) {
		for _, c := range children[pid] {
			comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", c))
			if strings.Contains(strings.ToLower(string(comm)), "chrom") {
				procs++
				pssMB += procKB(fmt.Sprintf("/proc/%d/smaps_rollup", c), "Pss:") / 1024
				rssMB += procKB(fmt.Sprintf("/proc/%d/status", c), "VmRSS:") / 1024
			}
			walk(c)
		}
	}
	walk(os.Getpid())
	return procs, round3(pssMB), round3(rssMB)
}

// procKB reads a "Key:   123 kB" line of a /proc file.
func procKB(path, key string) float64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, key) {
			f := strings.Fields(line[len(key):])
			if len(f) > 0 {
				v, _ := strconv.ParseFloat(f[0], 64)
				return v
			}
		}
	}
	return 0
}
