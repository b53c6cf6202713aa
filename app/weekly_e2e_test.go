package app_test

import (
	"context"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/disgoorg/snowflake/v2"

	"rollcall/app/apptest"
	"rollcall/clock"
	"rollcall/discordsim"
	"rollcall/store"
)

// seededWeek writes a week of events (16:00 and 21:00 daily, Mon 16 -
// Sun 22 Nov 2026, Moscow) straight into the store and returns what each
// member should total, counted here from the raw masks.
type weekTruth struct {
	minutes  map[snowflake.ID]int
	attended map[snowflake.ID]int
	held     int
}

func seedWeek(t *testing.T, st *store.Store, w *apptest.World) weekTruth {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 11))
	truth := weekTruth{minutes: map[snowflake.ID]int{}, attended: map[snowflake.ID]int{}}
	comers := []string{"alexey", "zoe", "muted_masha", "late_lena", "musicbot"}
	for d := range 7 {
		for _, hh := range []int{16, 21} {
			start := time.Date(2026, 11, 16+d, hh, 0, 0, 0, msk)
			id, err := st.EnsureOccurrence(ctx, uint64(w.Guild), "БЗС", start, start.Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			truth.held++
			var samples []store.Sample
			for _, name := range comers {
				if name == "late_lena" && d < 5 { // Lena only comes at the weekend
					continue
				}
				if rng.IntN(4) == 0 {
					continue
				}
				from := rng.IntN(40)
				to := from + 1 + rng.IntN(60-from)
				var mask uint64
				for m := from; m < to; m++ {
					mask |= 1 << m
				}
				uid := w.Members[name]
				samples = append(samples, store.Sample{OccurrenceID: id, UserID: uint64(uid), Present: mask})
				if name != "musicbot" {
					truth.minutes[uid] += bits.OnesCount64(mask)
					truth.attended[uid]++
				}
			}
			if err := st.Record(ctx, samples, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	return truth
}

func weeklyConfig(w *apptest.World) string {
	return w.ConfigText(`"16:00", "21:00"`, "60m")
}

func checkWeekly(t *testing.T, w *apptest.World, h *apptest.Harness, truth weekTruth, late bool) {
	t.Helper()
	for _, ch := range []snowflake.ID{w.Reports, w.Reports2} {
		weekly := weeklyMessages(w, ch)
		if len(weekly) != 1 {
			t.Fatalf("channel %d: %d weekly reports, want exactly 1", ch, len(weekly))
		}
		e := weekly[0].Embeds[0]
		if e.Title != "Weekly report · 16–22 Nov 2026 · 2026-W47" {
			t.Errorf("title %q", e.Title)
		}
		fields := map[string][]string{}
		for _, f := range e.Fields {
			fields[f.Name] = append(fields[f.Name], f.Value)
		}
		if got := fields["Events held"]; len(got) != 1 || got[0] != fmt.Sprint(truth.held) {
			t.Errorf("events held %v, want %d", got, truth.held)
		}
		if got := fields["Members attended"]; len(got) != 1 || got[0] != fmt.Sprint(len(truth.minutes)) {
			t.Errorf("members attended %v, want %d", got, len(truth.minutes))
		}
		// Never attended: Andy and Chris (the bot is not a member of the roster).
		if got := fields["Never attended (2)"]; len(got) != 1 || got[0] != "Andy, chill\\_chris" {
			t.Errorf("never attended fields %q", got)
		}
		// The ranking, computed here.
		type row struct {
			id  snowflake.ID
			min int
		}
		var rows []row
		for id, m := range truth.minutes {
			rows = append(rows, row{id, m})
		}
		slices.SortFunc(rows, func(a, b row) int { return b.min - a.min })
		lines := strings.Split(e.Description, "\n")
		if len(lines) != len(rows) {
			t.Fatalf("leaderboard lines %q", lines)
		}
		for i, r := range rows {
			want := fmt.Sprintf(" — %d min · %d/%d events (%.0f%%)", r.min, truth.attended[r.id], truth.held, 100*float64(truth.attended[r.id])/float64(truth.held))
			if !strings.HasPrefix(lines[i], fmt.Sprintf("%d. **", i+1)) || !strings.HasSuffix(lines[i], want) {
				t.Errorf("line %d = %q, want suffix %q", i, lines[i], want)
			}
		}
		if strings.Contains(e.Description, "musicbot") {
			t.Error("a bot is on the leaderboard")
		}
		if late != (e.Footer != nil && strings.Contains(e.Footer.Text, "Posted late")) {
			t.Errorf("late = %v but footer is %+v", late, e.Footer)
		}
		if len(weekly[0].Files) != 1 || weekly[0].Files[0].Name != "week.png" {
			t.Fatalf("files %+v", weekly[0].Files)
		}
		apptest.DecodePNG(t, weekly[0].Files[0].Data)
	}
}

func TestE2EWeeklyReportPostsOnceAtMondayMidnight(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 11, 22, 23, 59, 50, 0, msk))
	w := apptest.NewWorld(t, clk)
	h := apptest.New(t, w, clk, weeklyConfig(w))
	truth := seedWeek(t, h.Store(), w)
	h.Start()
	h.RunUntil(time.Date(2026, 11, 22, 23, 59, 55, 0, msk), nil)
	if n := len(weeklyMessages(w, w.Reports)); n != 0 {
		t.Fatalf("%d weekly reports before Monday 00:00", n)
	}
	h.RunUntil(time.Date(2026, 11, 23, 0, 1, 0, 0, msk), nil)
	checkWeekly(t, w, h, truth, false)
}

func TestE2EWeeklyReportCatchesUpOnceAfterDowntime(t *testing.T) {
	// The bot is down over Monday 00:00 and comes back at 00:30.
	clk := clock.NewFake(time.Date(2026, 11, 23, 0, 30, 0, 0, msk))
	w := apptest.NewWorld(t, clk)
	h := apptest.New(t, w, clk, weeklyConfig(w))
	truth := seedWeek(t, h.Store(), w)
	h.Start()
	h.RunUntil(time.Date(2026, 11, 23, 0, 31, 0, 0, msk), nil)
	checkWeekly(t, w, h, truth, true)
	// A second start within the window posts nothing more.
	h.Stop()
	h.Clock.Set(time.Date(2026, 11, 23, 1, 0, 0, 0, msk))
	h.Start()
	h.RunUntil(time.Date(2026, 11, 23, 1, 1, 0, 0, msk), nil)
	checkWeekly(t, w, h, truth, true)
}

func weeklyMessages(w *apptest.World, ch snowflake.ID) []discordsim.Message {
	var out []discordsim.Message
	for _, m := range w.Sim.Messages(ch) {
		if !m.Interaction && len(m.Embeds) == 1 && strings.HasPrefix(m.Embeds[0].Title, "Weekly report") {
			out = append(out, m)
		}
	}
	return out
}
