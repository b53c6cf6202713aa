package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"

	"rollcall/discordsim"
)

// Shards is figure 10 (shards_100k): members present across many guilds,
// served by real rollcall processes (the binary built from this module)
// against the simulator and one PostgreSQL, each running some of the
// gateway's shards, on real time through one event.
type Shards struct {
	Guilds       int `json:"guilds"`
	Present      int `json:"present"`
	ShardCount   int `json:"shard_count"`
	EventMinutes int `json:"event_minutes"`
	// MinutesExpected is every member present for every minute of the
	// event; MinutesRecorded what the database holds of them.
	MinutesExpected int64          `json:"minutes_expected"`
	MinutesRecorded int64          `json:"minutes_recorded"`
	MinutesLost     int64          `json:"minutes_lost"`
	Processes       []ShardProcess `json:"processes"`
}

// ShardProcess is one process's share, from its /metrics and /proc.
type ShardProcess struct {
	ShardIDs []int `json:"shard_ids"`
	Guilds   int   `json:"guilds"` // guilds on its shards
	Ticks    int   `json:"ticks"`
	// Writes are its writes of samples during the run; WritesOver1s those
	// longer than a second (rollcall_db_write_duration_seconds, le="1").
	Writes       int     `json:"writes"`
	WritesOver1s int     `json:"writes_over_1s"`
	WriteMeanMs  float64 `json:"write_mean_ms"`
	// SlowestWriteAtMostS is the smallest histogram bound that holds every
	// write: the slowest took at most this long (-1: longer than 10 s).
	SlowestWriteAtMostS float64 `json:"slowest_write_at_most_s"`
	PeakRSSMB           float64 `json:"peak_rss_mb"` // VmHWM
}

func runShards(ctx context.Context, cfg Config, res *Results) error {
	if cfg.ShardProcs > cfg.ShardCount || cfg.ShardGuilds > cfg.ShardPresent {
		return fmt.Errorf("shards: %d processes for %d shards, %d guilds for %d present", cfg.ShardProcs, cfg.ShardCount, cfg.ShardGuilds, cfg.ShardPresent)
	}
	bin, cleanup, err := buildRollcall(ctx)
	if err != nil {
		return err
	}
	defer cleanup()
	db, err := createDB(ctx, cfg.AdminURL, "shards")
	if err != nil {
		return err
	}
	defer db.drop()

	sim, err := discordsim.New(discordsim.Options{Shards: cfg.ShardCount, MaxConcurrency: cfg.ShardCount})
	if err != nil {
		return err
	}
	defer sim.Close()
	type guild struct{ id, voice, reports snowflake.ID }
	var gs []guild
	per := cfg.ShardPresent / cfg.ShardGuilds
	for i := range cfg.ShardGuilds {
		g := guild{id: sim.AddGuild(fmt.Sprintf("guild %d", i))}
		g.voice = sim.AddChannel(g.id, "БЗС", discord.ChannelTypeGuildVoice)
		g.reports = sim.AddChannel(g.id, "reports", discord.ChannelTypeGuildText)
		for j := range per {
			m := sim.AddMember(g.id, discordsim.MemberSpec{Username: fmt.Sprintf("g%dm%d", i, j), JoinedAt: time.Now().AddDate(0, -1, 0)})
			sim.SetVoice(g.id, m, g.voice, discordsim.VoiceFlags{SelfMute: j%7 == 0})
		}
		gs = append(gs, g)
	}

	// The event starts on a minute boundary with time for every process
	// to connect and load its guilds first.
	msk, _ := time.LoadLocation("Europe/Moscow")
	start := time.Now().Add(cfg.ShardLead).Truncate(time.Minute).Add(time.Minute)
	dur := time.Duration(cfg.ShardMinutes) * time.Minute
	var guilds strings.Builder
	for _, g := range gs {
		fmt.Fprintf(&guilds, `[[guilds]]
id = "%d"
timezone = "Europe/Moscow"
report_channels = ["%d"]
  [guilds.weekly_report]
  enabled = false
  [[guilds.schedules]]
  name = "БЗС"
  times = ["%s"]
  duration = "%dm"
  voice_channel_names = ["БЗС"]
`, g.id, g.reports, start.In(msk).Format("15:04"), cfg.ShardMinutes)
	}
	dir, err := os.MkdirTemp("", "rollcall-bench-shards-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var procs []*benchProcess
	defer func() {
		for _, p := range procs {
			p.kill()
		}
	}()
	shardsOf := make([][]int, cfg.ShardProcs)
	for s := range cfg.ShardCount {
		shardsOf[s%cfg.ShardProcs] = append(shardsOf[s%cfg.ShardProcs], s)
	}
	for i := range cfg.ShardProcs {
		addr, err := freeAddr()
		if err != nil {
			return err
		}
		ids := make([]string, len(shardsOf[i]))
		for j, s := range shardsOf[i] {
			ids[j] = strconv.Itoa(s)
		}
		text := fmt.Sprintf("discord_api_url = %q\npoll_interval = \"5s\"\nhttp_listen = %q\nshards = %d\nshard_ids = [%s]\n",
			sim.APIURL(), addr, cfg.ShardCount, strings.Join(ids, ", ")) + guilds.String()
		p, err := startRollcall(ctx, bin, filepath.Join(dir, fmt.Sprintf("p%d", i)), text, sim.Token(), db.URL)
		if err != nil {
			return err
		}
		p.addr, p.shards = addr, shardsOf[i]
		procs = append(procs, p)
	}
	cfg.Log.Info("shards: processes started", slog.Int("processes", len(procs)), slog.Time("event", start), slog.Int("present", per*len(gs)))

	// Through the event, and two polls after it for the last writes.
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Until(start.Add(dur + 10*time.Second))):
	}
	sh := &Shards{Guilds: len(gs), Present: per * len(gs), ShardCount: cfg.ShardCount, EventMinutes: cfg.ShardMinutes}
	for _, p := range procs {
		sp, err := p.measure(ctx)
		if err != nil {
			return err
		}
		for _, g := range gs {
			if slices.Contains(sp.ShardIDs, shardOf(g.id, cfg.ShardCount)) {
				sp.Guilds++
			}
		}
		sh.Processes = append(sh.Processes, sp)
	}
	for _, p := range procs {
		if err := p.stop(); err != nil {
			return err
		}
	}
	st, err := db.open(ctx, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	sh.MinutesExpected = int64(sh.Present) * int64(cfg.ShardMinutes)
	if err := st.Pool().QueryRow(ctx, `
		SELECT coalesce(sum(bit_count(a.present::bit(64))), 0)
		FROM attendance_seen a JOIN occurrences o ON o.id = a.occurrence_id
		WHERE o.starts_at = $1`, start).Scan(&sh.MinutesRecorded); err != nil {
		return err
	}
	sh.MinutesLost = sh.MinutesExpected - sh.MinutesRecorded
	res.Shards = sh
	cfg.Log.Info("shards", slog.Int64("minutes_lost", sh.MinutesLost), slog.Any("processes", sh.Processes))
	return nil
}

// shardOf is Discord's shard formula: (guild_id >> 22) % shard_count.
func shardOf(guild snowflake.ID, count int) int { return int((uint64(guild) >> 22) % uint64(count)) }

// buildRollcall builds the rollcall binary of this module into a
// temporary directory.
func buildRollcall(ctx context.Context) (string, func(), error) {
	root, err := repoRoot()
	if err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp("", "rollcall-bench-bin-")
	if err != nil {
		return "", nil, err
	}
	bin := filepath.Join(dir, "rollcall")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, func() { os.RemoveAll(dir) }, nil
}

// freeAddr is a loopback address nothing listens on now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// benchProcess is one `rollcall run`, its log in a file.
type benchProcess struct {
	cmd    *exec.Cmd
	log    string
	addr   string
	shards []int
	done   chan error
}

func startRollcall(ctx context.Context, bin, dir, cfgText, token, dbURL string) (*benchProcess, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte(cfgText), 0o600); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "log.json"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "run", "--config", cfg, "--log-format", "json", "--data-dir", filepath.Join(dir, "data"))
	cmd.Env = append(os.Environ(), "DISCORD_TOKEN="+token, "DATABASE_URL="+dbURL)
	cmd.Dir, cmd.Stderr, cmd.Stdout = dir, logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	p := &benchProcess{cmd: cmd, log: logf.Name(), done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait(); logf.Close() }()
	return p, nil
}

func (p *benchProcess) kill() {
	if p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Kill()
	}
}

// stop ends the process as systemd would and waits for it.
func (p *benchProcess) stop() error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			return fmt.Errorf("rollcall (shards %v) exited: %v; log tail:\n%s", p.shards, err, p.tail())
		}
		return nil
	case <-time.After(30 * time.Second):
		p.kill()
		return fmt.Errorf("rollcall (shards %v) did not stop within 30 s", p.shards)
	}
}

func (p *benchProcess) tail() string {
	f, err := os.Open(p.log)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return strings.Join(lines[max(0, len(lines)-30):], "\n")
}

// measure reads the process's metrics and peak RSS.
func (p *benchProcess) measure(ctx context.Context) (ShardProcess, error) {
	sp := ShardProcess{ShardIDs: p.shards}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.addr+"/metrics", nil)
	if err != nil {
		return sp, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return sp, fmt.Errorf("rollcall (shards %v) metrics: %w; log tail:\n%s", p.shards, err, p.tail())
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return sp, err
	}
	var sum float64
	var count, under1 int
	buckets := map[float64]int{}
	for _, line := range strings.Split(string(body), "\n") {
		name, value, ok := metricLine(line)
		if !ok {
			continue
		}
		switch {
		case name == `rollcall_db_write_duration_seconds_sum{result="ok"}`:
			sum = value
		case name == `rollcall_db_write_duration_seconds_count{result="ok"}`:
			count = int(value)
		case name == `rollcall_db_write_duration_seconds_bucket{result="ok",le="1"}`:
			under1 = int(value)
		case name == `rollcall_tick_duration_seconds_count`:
			sp.Ticks = int(value)
		}
		if le, ok := strings.CutPrefix(name, `rollcall_db_write_duration_seconds_bucket{result="ok",le="`); ok {
			if b, err := strconv.ParseFloat(strings.TrimSuffix(le, `"}`), 64); err == nil {
				buckets[b] = int(value)
			}
		}
	}
	// -1: slower than the largest finite bound.
	sp.SlowestWriteAtMostS = -1
	for b, n := range buckets {
		if n == count && !math.IsInf(b, 1) && (sp.SlowestWriteAtMostS < 0 || b < sp.SlowestWriteAtMostS) {
			sp.SlowestWriteAtMostS = b
		}
	}
	sp.Writes, sp.WritesOver1s = count, count-under1
	if count > 0 {
		sp.WriteMeanMs = round3(sum / float64(count) * 1000)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return sp, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if kb, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(kb), "kB")), 64)
			sp.PeakRSSMB = round3(n / 1024)
		}
	}
	if sp.Writes == 0 {
		return sp, errors.New("rollcall (shards " + fmt.Sprint(p.shards) + ") wrote nothing; log tail:\n" + p.tail())
	}
	return sp, nil
}

// metricLine splits one line of the Prometheus text format.
func metricLine(line string) (string, float64, bool) {
	if line == "" || line[0] == '#' {
		return "", 0, false
	}
	i := strings.LastIndexByte(line, ' ')
	if i < 0 {
		return "", 0, false
	}
	v, err := strconv.ParseFloat(line[i+1:], 64)
	return line[:i], v, err == nil
}
