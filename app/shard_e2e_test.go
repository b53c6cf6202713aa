package app_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/sharding"
	"github.com/disgoorg/snowflake/v2"

	"rollcall/app/apptest"
	"rollcall/clock"
	"rollcall/config"
	"rollcall/discordsim"
	"rollcall/health/healthtest"
	"rollcall/store"
	"rollcall/store/storetest"
)

// shardGuild is one guild of a sharded world: a watched voice channel, a
// report channel, two members in voice from the start.
type shardGuild struct {
	id, voice, reports snowflake.ID
	members            []snowflake.ID
}

// shardWorld builds n guilds in a simulator recommending shards shards;
// the World's own fields are the first guild's.
func shardWorld(t *testing.T, now func() time.Time, n, shards int) (*apptest.World, []shardGuild) {
	t.Helper()
	sim := apptest.StartSim(t, discordsim.Options{Now: now, Shards: shards, MaxConcurrency: 2})
	var gs []shardGuild
	for i := range n {
		g := shardGuild{id: sim.AddGuild(fmt.Sprintf("guild %d", i))}
		g.voice = sim.AddChannel(g.id, "БЗС", discord.ChannelTypeGuildVoice)
		g.reports = sim.AddChannel(g.id, "reports", discord.ChannelTypeGuildText)
		for j := range 2 {
			m := sim.AddMember(g.id, discordsim.MemberSpec{Username: fmt.Sprintf("g%dm%d", i, j), JoinedAt: now().AddDate(0, -1, 0)})
			sim.SetVoice(g.id, m, g.voice, discordsim.VoiceFlags{})
			g.members = append(g.members, m)
		}
		gs = append(gs, g)
	}
	w := &apptest.World{Sim: sim, Guild: gs[0].id, BZS: gs[0].voice, Reports: gs[0].reports, Members: map[string]snowflake.ID{}}
	return w, gs
}

// shardConfig is the file for those guilds: top holds the top-level keys
// (shards, the poll interval); each guild has events at times for duration.
func shardConfig(top string, gs []shardGuild, duration string, times ...string) string {
	var b strings.Builder
	b.WriteString(top + "\n")
	var ts []string
	for _, t := range times {
		ts = append(ts, fmt.Sprintf("%q", t))
	}
	for _, g := range gs {
		fmt.Fprintf(&b, `[[guilds]]
id = "%d"
timezone = "Europe/Moscow"
report_channels = ["%d"]
  [guilds.weekly_report]
  enabled = false
  [[guilds.schedules]]
  name = "БЗС"
  times = [%s]
  duration = %q
  voice_channel_names = ["БЗС"]
`, g.id, g.reports, strings.Join(ts, ", "), duration)
	}
	return b.String()
}

// reportsOf counts each guild's automatic posts (not command replies).
func reportsOf(w *apptest.World, gs []shardGuild) map[snowflake.ID]int {
	out := map[snowflake.ID]int{}
	for _, g := range gs {
		for _, m := range w.Sim.Messages(g.reports) {
			if !m.Interaction {
				out[g.id]++
			}
		}
	}
	return out
}

var recordingLine = regexp.MustCompile(`msg="recording event".*guild_id=(\d+)`)

// recorders lists, per guild, the processes that began recording its
// events, in the order they did ("main" for the first harness).
func recorders(logs string) map[string][]string {
	out := map[string][]string{}
	for _, line := range strings.Split(logs, "\n") {
		m := recordingLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		who := "main"
		if p := regexp.MustCompile(`process=(\S+)`).FindStringSubmatch(line); p != nil {
			who = p[1]
		}
		out[m[1]] = append(out[m[1]], who)
	}
	return out
}

// waitHolds waits (real time: shard leases and gateway connections are)
// until h holds every guild whose shard is in ids.
func waitHolds(t *testing.T, h *apptest.Harness, gs []shardGuild, count int, ids ...int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok := true
		for _, g := range gs {
			if slices.Contains(ids, sharding.ShardIDByGuild(g.id, count)) && !h.App.Bot.Holds(uint64(g.id)) {
				ok = false
			}
		}
		held, _ := h.App.Bot.Shards()
		if ok && slices.Equal(held, ids) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the process holds shards %v, want %v and their guilds", held, ids)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Static shards: two processes, shard_ids [0] and [1] of 2; every guild is
// recorded by the process of its shard only, every report posted once.
func TestE2EShardStaticIDs(t *testing.T) {
	clk := clock.NewFake(at(15, 59, 50))
	w, gs := shardWorld(t, clk.Now, 6, 2)
	h := apptest.New(t, w, clk, shardConfig("poll_interval = \"5s\"\nshards = 2\nshard_ids = [0]", gs, "10m", "16:00"))
	other := h.TwinWith("p1", func(c *config.Config) { c.ShardIDs = []int{1} })
	h.Start()
	other.Start()
	waitHolds(t, h, gs, 2, 0)
	waitHolds(t, other, gs, 2, 1)
	h.RunUntil(at(16, 10, 10), nil)

	rec := recorders(h.Logs.Text())
	for _, g := range gs {
		want := "main"
		if sharding.ShardIDByGuild(g.id, 2) == 1 {
			want = "p1"
		}
		if got := rec[g.id.String()]; !slices.Equal(got, []string{want}) {
			t.Errorf("guild %d (shard %d) recorded by %v, want only %s", g.id, sharding.ShardIDByGuild(g.id, 2), got, want)
		}
		present, _, _ := storedMinutes(t, h.Store(), g.id)
		for _, m := range g.members {
			if n := len(present[m]); n != 10 {
				t.Errorf("guild %d member %d: %d minutes, want 10", g.id, m, n)
			}
		}
	}
	for id, n := range reportsOf(w, gs) {
		if n != 1 {
			t.Errorf("guild %d: %d reports, want 1", id, n)
		}
	}
	if n := len(reportsOf(w, gs)); n != len(gs) {
		t.Errorf("%d guilds reported, want %d", n, len(gs))
	}
}

// Shards by lease: a second process takes half the shards from the first;
// stopped mid-event, its shards go back to the first, which records the
// rest of the event and posts each report once.
func TestE2EShardLeasesShareAndHandOver(t *testing.T) {
	clk := clock.NewFake(at(15, 59, 50))
	w, gs := shardWorld(t, clk.Now, 6, 2)
	h := apptest.New(t, w, clk, shardConfig("poll_interval = \"5s\"\nshards = \"auto\"\nshard_lease = \"3s\"", gs, "10m", "16:00"))
	h.Config.HTTPListen = "127.0.0.1:0"
	other := h.TwinWith("p1", nil)
	h.Start()
	waitHolds(t, h, gs, 2, 0, 1)
	other.Start()
	waitHolds(t, h, gs, 2, 0)
	waitHolds(t, other, gs, 2, 1)
	m := healthtest.Scrape(t, "http://"+other.App.HTTPAddr())
	if held, taken := m.Value(t, "rollcall_shards_held"), m.Value(t, "rollcall_shards_taken_total"); held != 1 || taken != 1 {
		t.Errorf("the second process's metrics: %v shards held, %v taken; want 1 and 1", held, taken)
	}
	if n := m.Value(t, "rollcall_shard_lease_renewals_total"); n < 1 {
		t.Errorf("the second process renewed its leases %v times, want at least once", n)
	}

	h.RunUntil(at(16, 5, 0), nil)
	other.Stop() // a clean stop gives the leases up at once
	waitHolds(t, h, gs, 2, 0, 1)
	h.RunUntil(at(16, 10, 10), nil)

	rec := recorders(h.Logs.Text())
	for _, g := range gs {
		want := []string{"main"}
		if sharding.ShardIDByGuild(g.id, 2) == 1 {
			want = []string{"p1", "main"}
		}
		if got := rec[g.id.String()]; !slices.Equal(got, want) {
			t.Errorf("guild %d recorded by %v, want %v", g.id, got, want)
		}
		present, _, _ := storedMinutes(t, h.Store(), g.id)
		for _, m := range g.members {
			if n := len(present[m]); n != 10 {
				t.Errorf("guild %d member %d: %d minutes, want 10 (none lost in the handover)", g.id, m, n)
			}
		}
	}
	for id, n := range reportsOf(w, gs) {
		if n != 1 {
			t.Errorf("guild %d: %d reports, want 1", id, n)
		}
	}
	m = healthtest.Scrape(t, "http://"+h.App.HTTPAddr())
	for name, want := range map[string]float64{"rollcall_shards_held": 2, "rollcall_shards_taken_total": 3, "rollcall_shards_handed_over_total": 1} {
		if v := m.Value(t, name); v != want {
			t.Errorf("the first process's %s = %v, want %v (both shards, one handed over and taken back)", name, v, want)
		}
	}
	ctx := context.Background()
	var holders int
	if err := h.Store().Pool().QueryRow(ctx, `SELECT count(DISTINCT holder) FROM shard_leases WHERE holder IS NOT NULL AND expires_at > now()`).Scan(&holders); err != nil {
		t.Fatal(err)
	}
	if holders != 1 {
		t.Errorf("%d processes hold leases after the other stopped, want 1", holders)
	}
}

// A shard handed over while it is still opening (its IDENTIFY waiting for
// the rate limit) is given up, not opened anyway: disgo would hold its shard
// manager locked until the IDENTIFY went out, then keep reconnecting a
// connection nothing owns. Here shard 1's identify slot is taken for about
// ten seconds, and a second process appears a round after this one leased
// both shards.
func TestE2EShardHandOverWhileOpening(t *testing.T) {
	clk := clock.NewFake(at(15, 59, 50))
	w, gs := shardWorld(t, clk.Now, 6, 2)
	h := apptest.New(t, w, clk, shardConfig("poll_interval = \"5s\"\nshards = \"auto\"\nshard_lease = \"3s\"", gs, "10m", "16:00"))
	st := h.Store()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Shard 1's bucket (1 % max_concurrency 2) identified "5 s from now":
	// its IDENTIFY must wait about 10 s.
	if _, err := st.Pool().Exec(ctx, `INSERT INTO identify_slots (bucket, at) VALUES (1, now() + interval '5 seconds')`); err != nil {
		t.Fatal(err)
	}
	// Another live process ("a-" sorts before the harness's "test-"), once
	// this one holds both shards: its share drops to shard 0.
	ghost := make(chan struct{})
	go func() {
		defer close(ghost)
		for ctx.Err() == nil {
			var n int
			if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM shard_leases WHERE holder LIKE 'test-%' AND expires_at > now()`).Scan(&n); err == nil && n == 2 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		for ctx.Err() == nil {
			_, _ = st.Pool().Exec(ctx, `INSERT INTO shard_members (holder, shard_count, seen_at) VALUES ('a-ghost', 2, now())
				ON CONFLICT (holder) DO UPDATE SET seen_at = now()`)
			time.Sleep(200 * time.Millisecond)
		}
	}()
	start := time.Now()
	h.Start()
	waitHolds(t, h, gs, 2, 0)
	if !strings.Contains(h.Logs.Text(), `msg="shard handed over" shard_id=1`) {
		t.Fatalf("shard 1 was not handed over:\n%s", h.Logs.Text())
	}
	// Past the time shard 1's IDENTIFY would have gone out, and a reconnect after.
	for time.Since(start) < 15*time.Second {
		time.Sleep(100 * time.Millisecond)
	}
	for _, a := range w.Sim.IdentifyAttempts() {
		if a.Shard[0] == 1 {
			t.Errorf("shard 1 identified at %s (%.1f s after the start), after this process handed it over", a.Time.Format("15:04:05.000"), a.Time.Sub(start).Seconds())
		}
	}
	cancel()
	<-ghost
}

// leases are the shards each holder has a live lease on, from the database.
func leases(t *testing.T, st *store.Store, count int) map[string][]int {
	t.Helper()
	rows, err := st.Pool().Query(context.Background(), `SELECT holder, shard_id FROM shard_leases
		WHERE shard_count = $1 AND holder IS NOT NULL AND expires_at > now() ORDER BY shard_id`, count)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]int{}
	for rows.Next() {
		var h string
		var id int
		if err := rows.Scan(&h, &id); err != nil {
			t.Fatal(err)
		}
		out[h] = append(out[h], id)
	}
	return out
}

// minutesOfEvent counts each member's stored minutes in a guild's event
// starting at start.
func minutesOfEvent(t *testing.T, st *store.Store, guild snowflake.ID, start time.Time) map[snowflake.ID]int {
	t.Helper()
	occs, err := st.Occurrences(context.Background(), uint64(guild), start, start.Add(time.Minute))
	if err != nil || len(occs) != 1 {
		t.Fatalf("guild %d: occurrences at %s: %+v, %v", guild, start.Format("15:04"), occs, err)
	}
	mm, _, err := st.OccurrenceMinutes(context.Background(), occs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[snowflake.ID]int{}
	for _, m := range mm {
		out[snowflake.ID(m.Member.UserID)] = m.Present.Count()
	}
	return out
}

// totalReports sums reportsOf.
func totalReports(w *apptest.World, gs []shardGuild) int {
	n := 0
	for _, c := range reportsOf(w, gs) {
		n += c
	}
	return n
}

// Three real rollcall processes share 4 shards of 60 guilds by lease.
// SIGKILL one mid-event: its shards are taken over within about a lease,
// its guilds lose at most the minute of the takeover (which their reports
// show as not recorded), and every report is posted once. Then all three restart with 8 shards, and the next event
// is recorded for every guild, whole, and reported once.
func TestE2EShardProcessesKillAndReshard(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real processes for several minutes")
	}
	t.Setenv("CHROMIUM_PATH", "/nonexistent") // three browsers are too many for two cores: text tables
	w, gs := shardWorld(t, time.Now, 60, 4)
	dbURL := storetest.URL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if err := st.Migrate(ctx, storetest.Schema(t)); err != nil {
		t.Fatal(err)
	}
	// Event A at a minute with room for three processes to start on a
	// machine busy with other packages' tests (the binary is built first:
	// under load that alone takes tens of seconds), event B three minutes
	// after A ends; two minutes each.
	apptest.Binary(t)
	startA := time.Now().In(msk).Add(90 * time.Second).Truncate(time.Minute).Add(time.Minute)
	startB := startA.Add(5 * time.Minute)
	top := fmt.Sprintf("discord_api_url = %q\nlog_level = \"debug\"\npoll_interval = \"1s\"\nshard_lease = \"3s\"\n", w.Sim.APIURL())
	four := shardConfig(top+"shards = 4", gs, "2m", startA.Format("15:04"), startB.Format("15:04"))
	var procs []*apptest.Process
	for range 3 {
		procs = append(procs, apptest.StartProcess(t, w.Sim, four, dbURL))
	}
	for _, p := range procs {
		p.WaitLog(ctx, "rollcall is running")
	}
	waitUntil(ctx, t, "the shards shared out among three", func() bool {
		ls, n := leases(t, st, 4), 0
		for _, ids := range ls {
			n += len(ids)
		}
		return len(ls) == 3 && n == 4
	})
	if now := time.Now(); !now.Before(startA) {
		t.Fatalf("the processes were ready at %s, after event A began (%s)", now.In(msk).Format("15:04:05"), startA.Format("15:04:05"))
	}

	// 30 s into A, kill the process holding the most shards.
	waitUntil(ctx, t, "event A under way", func() bool { return time.Now().After(startA.Add(30 * time.Second)) })
	var victim *apptest.Process
	var victimShards []int
	for holder, ids := range leases(t, st, 4) {
		for _, p := range procs {
			if strings.Contains(holder, fmt.Sprintf(":%d:", p.Pid())) && len(ids) > len(victimShards) {
				victim, victimShards = p, ids
			}
		}
	}
	if victim == nil {
		t.Fatalf("no process among the lease holders %v", leases(t, st, 4))
	}
	killed := time.Now()
	victim.Kill()
	waitUntil(ctx, t, "the dead process's shards taken over", func() bool {
		ls, n := leases(t, st, 4), 0
		for _, ids := range ls {
			n += len(ids)
		}
		return n == 4 && len(ls) == 2
	})
	if took := time.Since(killed); took > 15*time.Second {
		t.Errorf("the takeover took %v, want about one lease (3 s) and a round (1 s), with room for a loaded machine", took)
	}
	waitUntil(ctx, t, "event A's reports", func() bool { return totalReports(w, gs) >= len(gs) })
	waitUntil(ctx, t, "event A settled", func() bool { return time.Now().After(startA.Add(2*time.Minute + 20*time.Second)) })
	for id, n := range reportsOf(w, gs) {
		if n != 1 {
			t.Errorf("event A: guild %d has %d reports, want 1", id, n)
		}
	}
	victimGuild := map[snowflake.ID]bool{}
	for _, g := range gs {
		victimGuild[g.id] = slices.Contains(victimShards, sharding.ShardIDByGuild(g.id, 4))
		present := minutesOfEvent(t, st, g.id, startA)
		whole := true
		for _, m := range g.members {
			switch n := present[m]; {
			case !victimGuild[g.id] && n != 2:
				t.Errorf("event A, guild %d (its process lived): member %d has %d minutes, want 2", g.id, m, n)
			case victimGuild[g.id] && n < 1:
				t.Errorf("event A, guild %d (its process killed): member %d has %d minutes, want at least 1", g.id, m, n)
			}
			whole = whole && present[m] == 2
		}
		// A minute nobody sampled is said in the report, as after a restart.
		if msgs := w.Sim.Messages(g.reports); len(msgs) > 0 && len(msgs[0].Embeds) > 0 {
			footer := ""
			if f := msgs[0].Embeds[0].Footer; f != nil {
				footer = f.Text
			}
			if said := strings.Contains(footer, "Not recorded"); said == whole {
				t.Errorf("event A, guild %d: every minute recorded %v, but the report's footer is %q", g.id, whole, footer)
			}
		}
	}
	// Each guild recorded by one live process at a time: the killed
	// process's guilds by it, then by one taker.
	starts := map[snowflake.ID]int{}
	for _, p := range procs {
		for _, line := range p.Lines() {
			if !strings.Contains(line, `"msg":"recording event"`) {
				continue
			}
			for _, g := range gs {
				if strings.Contains(line, fmt.Sprintf(`"guild_id":%d`, g.id)) {
					starts[g.id]++
				}
			}
		}
	}
	for _, g := range gs {
		want := 1
		if victimGuild[g.id] {
			want = 2
		}
		if starts[g.id] != want {
			t.Errorf("guild %d began recording %d times, want %d", g.id, starts[g.id], want)
		}
	}

	// Resharding: the live two stop and all three start with 8 shards.
	for _, p := range procs {
		if p != victim {
			if code := p.Term(); code != 0 {
				t.Errorf("exit %d on SIGTERM", code)
			}
		}
	}
	eight := shardConfig(top+"shards = 8", gs, "2m", startA.Format("15:04"), startB.Format("15:04"))
	var again []*apptest.Process
	for range 3 {
		again = append(again, apptest.StartProcess(t, w.Sim, eight, dbURL))
	}
	for _, p := range again {
		p.WaitLog(ctx, "rollcall is running")
	}
	waitUntil(ctx, t, "event B's reports", func() bool { return totalReports(w, gs) >= 2*len(gs) })
	waitUntil(ctx, t, "event B settled", func() bool { return time.Now().After(startB.Add(2*time.Minute + 20*time.Second)) })
	for id, n := range reportsOf(w, gs) {
		if n != 2 {
			t.Errorf("after event B: guild %d has %d reports, want 2 (one per event)", id, n)
		}
	}
	for _, g := range gs {
		present := minutesOfEvent(t, st, g.id, startB)
		for _, m := range g.members {
			if n := present[m]; n != 2 {
				t.Errorf("event B (8 shards), guild %d member %d: %d minutes, want 2", g.id, m, n)
			}
		}
	}
	// Nobody identified faster than Discord allows, whichever process.
	for _, a := range w.Sim.IdentifyAttempts() {
		if !a.Accepted {
			t.Errorf("an IDENTIFY was refused (%s): shard %v", a.Refused, a.Shard)
		}
	}
	for _, p := range again {
		if code := p.Term(); code != 0 {
			t.Errorf("exit %d on SIGTERM", code)
		}
	}
}
