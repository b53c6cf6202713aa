package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	disgobot "github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/disgo/rest"
	"github.com/disgoorg/snowflake/v2"

	"rollcall/clock"
	"rollcall/store"
)

// Footprint is figure 6: the bot process alone (no simulator, no browser:
// with Renderer nil it never starts one) recording an event.
type Footprint struct {
	Members int `json:"members_present"`
	Minutes int `json:"minutes_recorded"`
	// RSSMB is VmRSS at the end; PeakRSSMB is VmHWM, the process's peak
	// since it started (start-up and member chunking included);
	// SampledMaxMB the highest VmRSS the parent saw polling /proc/PID/status.
	RSSMB        float64 `json:"rss_mb"`
	PeakRSSMB    float64 `json:"peak_rss_mb"`
	SampledMaxMB float64 `json:"sampled_max_rss_mb"`
	HeapInuseMB  float64 `json:"go_heap_inuse_mb"`
	GoSysMB      float64 `json:"go_sys_mb"`
	Goroutines   int     `json:"goroutines"`
	Ticks        int     `json:"ticks"`
}

// runFootprint starts the simulator with cfg.FootprintMembers members in
// voice, then this binary again as a child that runs only the bot, driving
// its real Run loop through cfg.FootprintMinutes minutes of 5-second ticks.
func runFootprint(ctx context.Context, cfg Config, res *Results) error {
	db, err := createDB(ctx, cfg.AdminURL, "footprint")
	if err != nil {
		return err
	}
	defer db.drop()
	w, err := newWorld(cfg.FootprintMembers, func() time.Time { return eventStart })
	if err != nil {
		return err
	}
	defer w.close()
	w.fillVoice(cfg.FootprintMembers)

	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, exe, "-api", w.sim.APIURL(), "-gateway", w.sim.GatewayURL(), "-token", w.sim.Token(),
		"-db", db.URL, "-guild", w.guild.String(), "-reports", w.reports.String(),
		"-members", strconv.Itoa(cfg.FootprintMembers), "-minutes", strconv.Itoa(cfg.FootprintMinutes))
	cmd.Env = append(os.Environ(), childEnv+"=footprint")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	var sampled atomic.Int64 // kB
	stop := make(chan struct{})
	go func() {
		status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if kb := int64(procKB(status, "VmRSS:")); kb > sampled.Load() {
					sampled.Store(kb)
				}
			}
		}
	}()
	var f Footprint
	dec := json.NewDecoder(bufio.NewReader(out))
	decErr := dec.Decode(&f)
	_, _ = io.Copy(io.Discard, out)
	close(stop)
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("footprint child: %w", err)
	}
	if decErr != nil {
		return fmt.Errorf("footprint child output: %w", decErr)
	}
	f.SampledMaxMB = round3(float64(sampled.Load()) / 1024)
	res.Footprint = &f
	cfg.Log.Info("footprint", slog.Float64("rss_mb", f.RSSMB), slog.Float64("peak_rss_mb", f.PeakRSSMB), slog.Float64("sampled_max_mb", f.SampledMaxMB))
	return nil
}

// runChild is the re-executed binary's entry point.
func runChild(mode string, args []string, stdout io.Writer) int {
	if mode != "footprint" {
		fmt.Fprintf(os.Stderr, "bench: unknown %s=%q\n", childEnv, mode)
		return 2
	}
	if err := footprintChild(args, stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench footprint child:", err)
		return 1
	}
	return 0
}

func footprintChild(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("footprint", flag.ContinueOnError)
	api := fs.String("api", "", "simulator REST URL")
	gw := fs.String("gateway", "", "simulator gateway URL")
	token := fs.String("token", "", "bot token")
	dbURL := fs.String("db", "", "database URL")
	guild := fs.Uint64("guild", 0, "guild id")
	reports := fs.Uint64("reports", 0, "report channel id")
	members := fs.Int("members", 0, "members in voice")
	minutes := fs.Int("minutes", 60, "minutes to record")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx := context.Background()
	st, err := store.Open(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer st.Close()
	schema, err := schemaSQL()
	if err != nil {
		return err
	}
	if err := st.Migrate(ctx, schema); err != nil {
		return err
	}
	conf, err := parseConfig(configText(snowflake.ID(*guild), snowflake.ID(*reports)), *token, *dbURL)
	if err != nil {
		return err
	}
	clk := clock.NewFake(eventStart.Add(-time.Minute))
	opts := []disgobot.ConfigOpt{
		disgobot.WithRestClientConfigOpts(rest.WithURL(*api)),
		disgobot.WithGatewayConfigOpts(gateway.WithURL(*gw)),
	}
	rb, err := startBot(conf, st, clk, opts, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	if err != nil {
		return err
	}
	defer rb.stop()
	if err := rb.waitVoice(snowflake.ID(*guild), *members); err != nil {
		return err
	}
	// Drive the real Run loop: move the clock to the next 5-second tick,
	// then wait until the loop has ticked and parked again.
	f := Footprint{Members: *members, Minutes: *minutes}
	end := eventStart.Add(time.Duration(*minutes) * time.Minute)
	for clk.Now().Before(end) {
		clk.Set(clk.Now().Truncate(5 * time.Second).Add(5 * time.Second))
		deadline := time.Now().Add(30 * time.Second)
		for clk.Waiters() < 1 {
			if time.Now().After(deadline) {
				return fmt.Errorf("the bot did not finish its tick at %s", clk.Now())
			}
			time.Sleep(200 * time.Microsecond)
		}
		f.Ticks++
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	f.RSSMB = round3(procKB("/proc/self/status", "VmRSS:") / 1024)
	f.PeakRSSMB = round3(procKB("/proc/self/status", "VmHWM:") / 1024)
	f.HeapInuseMB = round3(float64(m.HeapInuse) / (1 << 20))
	f.GoSysMB = round3(float64(m.Sys) / (1 << 20))
	f.Goroutines = runtime.NumGoroutine()
	// Check that the minutes really were recorded, so the figure is of a
	// bot doing its job.
	occs, err := st.Occurrences(ctx, *guild, eventStart, end)
	if err != nil || len(occs) != 1 {
		return fmt.Errorf("expected one recorded occurrence, got %d (%v)", len(occs), err)
	}
	mm, _, err := st.OccurrenceMinutes(ctx, occs[0].ID)
	if err != nil {
		return err
	}
	if len(mm) != *members {
		return fmt.Errorf("recorded %d members, want %d", len(mm), *members)
	}
	return json.NewEncoder(stdout).Encode(f)
}
