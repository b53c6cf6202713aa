package main

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"rollcall/render"
)

// TestMain lets figure 6 re-execute the test binary as its bot child.
func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(runChild(mode, os.Args[1:], os.Stdout))
	}
	os.Exit(m.Run())
}

// unavailable skips, or fails under CI=true: CI must never pass by
// measuring nothing.
func unavailable(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// TestSmoke runs a tiny version of every figure so the program cannot rot.
// It asserts that each figure produced its numbers and that the report and
// results.json have their shape, never how fast anything was.
func TestSmoke(t *testing.T) {
	cfg := Quick()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, err := pgx.Connect(ctx, cfg.AdminURL)
	if err != nil {
		unavailable(t, "PostgreSQL is not reachable at TEST_DATABASE_URL ("+redact(cfg.AdminURL)+"): "+err.Error()+"; run `make test`, which installs and starts it")
	}
	_ = c.Close(ctx)
	drop := func(figs ...string) {
		cfg.Figures = slices.DeleteFunc(cfg.Figures, func(f string) bool { return slices.Contains(figs, f) })
	}
	if _, err := render.FindChromium(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Logf("skipping the rendering figures: %v", err)
		drop("render", "interactions")
	}
	if raceEnabled {
		t.Log("skipping the figures that run the bot over the gateway: disgo races under -race (scripts/test.sh)")
		drop("ingest", "interactions", "footprint", "posts-failing")
	}

	res := Run(ctx, cfg)
	if len(res.Errors) > 0 {
		t.Fatalf("figures failed: %v", res.Errors)
	}
	want := map[string]bool{}
	for _, f := range cfg.Figures {
		want[f] = true
	}
	if want["ingest"] {
		if len(res.Ingest) != len(cfg.Sizes) {
			t.Errorf("ingest rows: %d, want %d", len(res.Ingest), len(cfg.Sizes))
		}
		for _, x := range res.Ingest {
			// Counts, not times: one statement for a new minute, none otherwise.
			if x.OursStmtsNew != 1 || x.OursStmtsOtherMax != 0 {
				t.Errorf("%d present: %d statements on a new minute and %d on other ticks, want 1 and 0", x.Present, x.OursStmtsNew, x.OursStmtsOtherMax)
			}
			if x.BaseStmtsNew != 2*x.Present+2 || x.BaseStmtsOther != x.Present+2 {
				t.Errorf("%d present: baseline sent %d and %d statements, want %d and %d", x.Present, x.BaseStmtsNew, x.BaseStmtsOther, 2*x.Present+2, x.Present+2)
			}
		}
	}
	if want["storage"] {
		if res.Storage == nil || !res.Storage.TotalsAgree || res.Storage.MemberEvents == 0 {
			t.Errorf("storage: %+v", res.Storage)
		}
	}
	if want["queries"] {
		var got []string
		for _, q := range res.Queries {
			got = append(got, q.Command)
		}
		if w := []string{"/event", "/week", "/member", "/absent", "/member, today in the log"}; !slices.Equal(got, w) {
			t.Errorf("queries %q, want %q: %+v", got, w, res.Queries)
		}
	}
	if want["render"] && (res.Render == nil || len(res.Render.Pools) != 2 || res.Render.Pools[0].Processes == 0) {
		t.Errorf("render: %+v", res.Render)
	}
	if want["footprint"] && (res.Footprint == nil || res.Footprint.PeakRSSMB <= 0) {
		t.Errorf("footprint: %+v", res.Footprint)
	}
	if want["posts-failing"] && (res.PostsFailing == nil || res.PostsFailing.Refused < res.PostsFailing.Jobs || res.PostsFailing.Failing.N == 0 || res.PostsFailing.Quiet.N == 0) {
		t.Errorf("posts-failing: %+v", res.PostsFailing)
	}
	if want["absent-heap"] && (res.AbsentHeap == nil || res.AbsentHeap.Rows == 0 || res.AbsentHeap.PeakMB <= 0) {
		t.Errorf("absent-heap: %+v", res.AbsentHeap)
	}

	if want["growth"] {
		g := res.Growth
		if g == nil || len(g.Histories) != 2 || len(g.Histories[1].Record) != 2 || len(g.Histories[1].Queries) != 6 || g.Histories[1].Rows == 0 {
			t.Errorf("growth: %+v", g)
		} else if _, ok := res.QueryP95MsAllTime["/absent period:all"]; !ok {
			t.Errorf("query_p95_ms_all_time: %v", res.QueryP95MsAllTime)
		}
	}

	if want["shards"] {
		if sh := res.Shards; sh == nil || len(sh.Processes) != cfg.ShardProcs || sh.MinutesExpected == 0 || sh.MinutesLost != 0 {
			t.Errorf("shards: %+v", sh)
		}
	}

	md := Markdown(res)
	for _, s := range []string{"# rollcall benchmarks", "## Summary", "## 5. Slash commands", "## 9. How cost grows"} {
		if !strings.Contains(md, s) {
			t.Errorf("report lacks %q", s)
		}
	}
	js, err := res.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]any
	if err := json.Unmarshal(js, &keys); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"ingest_ratio_at_1000", "ingest_ms_at_10000_new_minute", "statements_on_same_minute_tick", "storage_ratio",
		"query_p95_ms", "render_warm_p50_ms_timeline20", "render_warm_p50_ms_leaderboard50", "ack_p99_ms", "reply_p95_ms", "bot_rss_mb_1000",
		"tick_p99_ms_while_posts_fail", "absent_all_time_peak_heap_mb", "query_p95_ms_all_time", "growth", "shards_100k", "machine"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("results.json lacks %q", k)
		}
	}
}
