package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/jackc/pgx/v5"

	"rollcall/discordsim"
	"rollcall/discordsim/simtest"
	"rollcall/health/healthtest"
	"rollcall/localpg"
	"rollcall/store/storetest"
)

// A signal ends rollcall at once, whatever it is waiting for while it
// starts, with status 0 (a stop asked for, which systemd must not count as
// a failure) and nothing left running: while the gateway's address is
// asked of a Discord that never answers, while the database never answers,
// while a migration waits for its lock, and while the private database is
// being created.
func TestSignalDuringStartStopsPromptly(t *testing.T) {
	rollcallBinary(t) // build it once, before the subtests
	config := func(t *testing.T, dbURL string) string {
		text := fmt.Sprintf("token = %q\nlog_level = \"debug\"\n", testToken)
		if dbURL != "" {
			text += fmt.Sprintf("database_url = %q\n", dbURL)
		}
		return writeConfig(t, text)
	}

	t.Run("connecting to Discord", func(t *testing.T) {
		// Chromium, started before, may try hosts of its own through the
		// proxy: only discord.com means that rollcall is connecting.
		discord, connects := silentProxy(t, "discord.com:443")
		p := startRollcall(t, []string{"HTTPS_PROXY=http://" + discord}, "run", "--config", config(t, storetest.URL(t)))
		waitAccepted(t, connects, p, "asked Discord for the gateway")
		if code := p.signal(t, syscall.SIGINT); code != 0 {
			t.Errorf("exit status %d after Ctrl-C while connecting, want 0", code)
		}
		p.waitLog(t, "stopped")
	})

	t.Run("database never answers", func(t *testing.T) {
		db, accepted := silentListener(t)
		p := startRollcall(t, nil, "run", "--config", config(t, "postgres://rollcall@"+db+"/rollcall?sslmode=disable"))
		waitAccepted(t, accepted, p, "connected to the database")
		if code := p.signal(t, syscall.SIGTERM); code != 0 {
			t.Errorf("exit status %d after SIGTERM while connecting to the database, want 0", code)
		}
		p.waitLog(t, "stopped before start-up finished", "during", "start")
	})

	t.Run("migration waits for its lock", func(t *testing.T) {
		url := storetest.URL(t)
		// Another rollcall migrating: it holds the lock Migrate takes.
		conn, err := pgx.Connect(ctxT(t), url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctxT(t))
		if _, err := conn.Exec(ctxT(t), `SELECT pg_advisory_lock(7262435)`); err != nil {
			t.Fatal(err)
		}
		p := startRollcall(t, nil, "run", "--config", config(t, url))
		waitFor(t, p, "waits for the migration lock", func() bool {
			var waiting bool
			err := conn.QueryRow(ctxT(t), `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
				WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%pg_advisory_xact_lock%')`).Scan(&waiting)
			return err == nil && waiting
		})
		if code := p.signal(t, syscall.SIGTERM); code != 0 {
			t.Errorf("exit status %d after SIGTERM mid-migration, want 0", code)
		}
		p.waitLog(t, "stopped before start-up finished", "during", "start")
		// Not even schema_migrations: it too is created under the lock.
		var tables []string
		rows, err := conn.Query(ctxT(t), `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)
		if err == nil {
			tables, err = pgx.CollectRows(rows, pgx.RowTo[string])
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(tables) != 0 {
			t.Errorf("tables created though the migration lock was never granted: %v", tables)
		}
	})

	t.Run("private database starting", func(t *testing.T) {
		dataDir := filepath.Join(privateParent(t), "data")
		p := startRollcall(t, nil, "run", "--config", config(t, ""), "--data-dir", dataDir)
		p.waitLog(t, "private database: creating the cluster")
		pg := filepath.Join(dataDir, "postgres")
		waitFor(t, p, "ran initdb", func() bool { return len(processesUsing(t, pg)) > 0 })
		if code := p.signal(t, syscall.SIGTERM); code != 0 {
			t.Errorf("exit status %d after SIGTERM while the private database was created, want 0", code)
		}
		p.waitLog(t, "stopped before start-up finished", "during", "start the private database")
		if left := processesUsing(t, pg); len(left) > 0 {
			t.Errorf("processes left running on %s: %v", pg, left)
		}
		if info, err := localpg.Inspect(pg); err != nil || info.Running() {
			t.Errorf("the private database: %+v, %v", info, err)
		}
		// Nothing half made: the next start creates the cluster afresh.
		if entries, err := os.ReadDir(pg); err == nil && len(entries) > 0 {
			if _, err := os.Stat(filepath.Join(pg, "PG_VERSION")); err != nil {
				t.Errorf("%s holds a half-made cluster: %d entries, no PG_VERSION", pg, len(entries))
			}
		}
	})
}

// waitFor polls cond (a query, say) until it holds; it fails t when the
// process exits first.
func waitFor(t *testing.T, p *proc, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		select {
		case <-p.done:
			t.Fatalf("rollcall exited (status %d) before it %s", p.exitCode(), what)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("rollcall never %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// processesUsing lists the live processes whose command line names dir
// (initdb, postgres), from /proc.
func processesUsing(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	var out []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !strings.Contains(string(b), dir) {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 && len(stat) > i+2 && (stat[i+2] == 'Z' || stat[i+2] == 'X') {
			continue // exited, not yet reaped
		}
		out = append(out, fmt.Sprintf("%d: %s", pid, strings.ReplaceAll(string(b), "\x00", " ")))
	}
	return out
}

// Discord unreachable at start (no network: connections refused) is
// retried with backoff, each failure logged with its reason, until Discord
// answers; then rollcall runs, /readyz says ready, and SIGTERM stops it
// with status 0.
func TestStartRetriesDiscordUntilReachable(t *testing.T) {
	rollcallBinary(t)
	sim := simtest.Start(t, discordsim.Options{})
	guild := sim.AddGuild("Клан")
	sim.AddChannel(guild, "БЗС", discord.ChannelTypeGuildVoice)
	reports := sim.AddChannel(guild, "отчёты", discord.ChannelTypeGuildText)
	proxy := simtest.NewDiscordProxy(t, sim, "127.0.0.1:0", t.TempDir())
	proxy.Pause()
	cfg := writeConfig(t, fmt.Sprintf(`
database_url = %q
http_listen = "127.0.0.1:0"
[[guilds]]
id = "%d"
timezone = "UTC"
report_channels = ["%d"]
  [[guilds.schedules]]
  name = "БЗС"
  times = ["03:00"]
  voice_channel_names = ["БЗС"]
`, storetest.URL(t), guild, reports))
	p := startRollcall(t, append(proxy.Env(), "DISCORD_TOKEN="+sim.Token()), "run", "--config", cfg)
	addr := p.waitLog(t, "serving /healthz, /readyz and /metrics")["addr"].(string)
	base := "http://" + addr
	if code, rep := healthtest.Ready(t, base); code != http.StatusServiceUnavailable || !slices.Contains(rep.Failing, "gateway") {
		t.Errorf("/readyz before Discord answers: %d %+v", code, rep)
	}
	for attempt := 1; attempt <= 2; attempt++ {
		rec := p.waitLog(t, "cannot reach Discord; retrying", "attempt", strconv.Itoa(attempt))
		if e, _ := rec["error"].(string); !strings.Contains(e, "connection refused") {
			t.Errorf("attempt %d logged without its reason: %v", attempt, rec)
		}
	}
	proxy.Resume(t)
	p.waitLog(t, "rollcall is running")
	if code, rep := healthtest.Ready(t, base); code != http.StatusOK {
		t.Errorf("/readyz once running: %d %+v", code, rep)
	}
	if code := p.signal(t, syscall.SIGTERM); code != 0 {
		t.Errorf("exit status %d after SIGTERM, want 0", code)
	}
	p.waitLog(t, "stopped")
}
