package app_test

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/disgoorg/snowflake/v2"

	"rollcall/app/apptest"
	"rollcall/clock"
	"rollcall/compose"
	"rollcall/discordsim"
	"rollcall/render"
)

// Issue 14's faults around posts and outages, on the in-process harness and
// a fake clock: the real app, the simulator, PostgreSQL and Chromium.

func countRequests(sim *discordsim.Server, method string, channel snowflake.ID) (n int, statuses map[int]int) {
	statuses = map[int]int{}
	for _, r := range sim.Requests() {
		if r.Method == method && r.Route == "/channels/{channel}/messages" && r.Params["channel"] == channel.String() {
			n++
			statuses[r.Status]++
		}
	}
	return n, statuses
}

// TestFaultAnswerLostForAnHour: for an hour after the event, Discord makes
// every message it is sent and loses every answer. Each channel gets one
// message: the post's only attempt made it, and the retry found it by its
// marker instead of sending again. The original design retried every tick
// with the same nonce, which Discord only honours for a few minutes: 13
// copies in the hour.
func TestFaultAnswerLostForAnHour(t *testing.T) {
	w, h := oneEvent(t, at(16, 58, 0))
	w.Sim.FailNextAfterHandling("POST", "/channels/{id}/messages", 1<<30, 502)
	h.Start()
	h.RunUntil(at(18, 0, 5), nil)
	w.Sim.ClearFaults()
	h.RunUntil(at(18, 5, 0), nil)
	exactlyOneReport(t, w)
	for _, ch := range []snowflake.ID{w.Reports, w.Reports2} {
		if n, st := countRequests(w.Sim, "POST", ch); n != 1 || st[502] != 1 {
			t.Errorf("channel %d: %d POSTs %v, want the one whose answer was lost", ch, n, st)
		}
		if n, _ := countRequests(w.Sim, "GET", ch); n == 0 {
			t.Errorf("channel %d: the post whose answer was lost was never looked for", ch)
		}
	}
}

// TestFaultFirstReportChannelDeleted: of two report channels, the first is
// deleted, while the bot runs or while it is down. Every report reaches the
// second channel; the first gets one request per report (answered 10003
// Unknown Channel), each post job ends at that first permanent error with one
// log line, and ticks do the same work as ever: at most one write of samples
// each, every one settled before the next, while the failing posts are
// built once each, not on every tick. On the original design the second
// channel got none of 12 reports in 4 hours, 16,572 requests were answered
// 404, and tick p50 grew from 15 to 113 ms; deleted while the bot was down,
// it refused to start.
func TestFaultFirstReportChannelDeleted(t *testing.T) {
	for _, whileDown := range []bool{false, true} {
		name := "while running"
		if whileDown {
			name = "while the bot is down"
		}
		t.Run(name, func(t *testing.T) {
			clk := clock.NewFake(at(15, 59, 50))
			w := apptest.NewWorld(t, clk)
			h := apptest.New(t, w, clk, w.ConfigText(`"16:00", "17:00", "18:00"`, "30m"))
			w.Sim.SetVoice(w.Guild, w.Members["alexey"], w.BZS, discordsim.VoiceFlags{})
			proxy := h.ProxyDB()
			if whileDown {
				w.Sim.DeleteChannel(w.Guild, w.Reports)
			}
			h.Start()
			if !whileDown {
				w.Sim.DeleteChannel(w.Guild, w.Reports)
			}
			const reports = 3
			// One tick at a time, counting the statements each sends while
			// it runs until the bot is settled again.
			for now := at(16, 0, 0); !now.After(at(18, 31, 0)); now = now.Add(5 * time.Second) {
				before := len(proxy.Statements())
				h.Clock.Set(now)
				h.WaitParked()
				writes := 0
				for _, sql := range proxy.Statements()[before:] {
					if strings.Contains(sql, "INSERT INTO attendance_log") {
						writes++
					}
				}
				if writes > 1 {
					t.Fatalf("the tick at %s wrote samples %d times, want at most once", now.Format("15:04:05"), writes)
				}
			}
			h.Settle()

			if msgs := w.Sim.Messages(w.Reports2); len(msgs) != reports {
				t.Fatalf("the second channel got %d reports, want %d", len(msgs), reports)
			}
			if n, st := countRequests(w.Sim, "POST", w.Reports); n != reports || st[404] != reports {
				t.Errorf("the deleted channel got %d POSTs %v, want one per report, each 404", n, st)
			}
			all := 0
			for _, r := range w.Sim.Requests() {
				if r.Params["channel"] == w.Reports.String() {
					all++
				}
			}
			if all != reports {
				t.Errorf("the deleted channel got %d requests in all, want one per report (no retries, no searches)", all)
			}
			// One occurrence record read per report built. (Counting read
			// snapshots instead raced with the start-up work that opens
			// its own: the purge, settings, privacy choices.)
			builds := 0
			for _, sql := range proxy.Statements() {
				if strings.Contains(sql, "FROM attendance_seen a WHERE a.occurrence_id = $1") {
					builds++
				}
			}
			if builds != 2*reports {
				t.Errorf("%d reports built, want %d: one per report and channel, none again on later ticks", builds, 2*reports)
			}
			if n := strings.Count(h.Logs.Text(), "post given up: the channel cannot take it"); n != reports {
				t.Errorf("%d 'post given up' lines, want one per failed post (%d)", n, reports)
			}
			var cancelled []int
			rows, err := h.Store().Pool().Query(context.Background(),
				`SELECT attempt FROM river_job WHERE kind = 'rollcall_post' AND state = 'cancelled' AND (args->>'channel_id')::bigint = $1`, int64(w.Reports))
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var a int
				if err := rows.Scan(&a); err != nil {
					t.Fatal(err)
				}
				cancelled = append(cancelled, a)
			}
			rows.Close()
			if !slices.Equal(cancelled, []int{1, 1, 1}) {
				t.Errorf("jobs of the deleted channel ended after attempts %v, want three ended at their first", cancelled)
			}
			if got := totalMinutes(t, h, w, "alexey"); got != 3*30 {
				t.Errorf("alexey's stored minutes over the three events: %d, want 90", got)
			}
		})
	}
}

// tickUntil is RunUntil without its final wait for pending posts: the
// clock moves in poll steps, each tick settled before the next.
func tickUntil(h *apptest.Harness, end time.Time, script map[time.Time]func()) {
	for h.Clock.Now().Before(end) {
		next := h.Clock.Now().Truncate(5 * time.Second).Add(5 * time.Second)
		for at, f := range script {
			if at.After(h.Clock.Now()) && !at.After(next) {
				f()
			}
		}
		h.WaitParked()
		h.Clock.Set(next)
		h.WaitParked()
	}
}

// totalMinutes sums a member's stored minutes over every occurrence.
func totalMinutes(t *testing.T, h *apptest.Harness, w *apptest.World, user string) int {
	t.Helper()
	st := h.Store()
	occs, err := st.Occurrences(context.Background(), uint64(w.Guild), time.Unix(0, 0), time.Now().AddDate(10, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, o := range occs {
		mm, _, err := st.OccurrenceMinutes(context.Background(), o.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mm {
			if m.Member.UserID == uint64(w.Members[user]) {
				n += m.Present.Count()
			}
		}
	}
	return n
}

// TestFaultDatabaseStopsAnswering: for ten minutes of the event the
// database accepts connections and never answers (no error ever arrives;
// only deadlines notice). Sampling goes on, the minutes wait in memory, and
// once it answers again every minute is stored: none is lost, and the report
// goes out once. On the original design the tick waited on the database,
// and sampling stopped with it.
func TestFaultDatabaseStopsAnswering(t *testing.T) {
	w, h := oneEvent(t, at(15, 59, 50))
	proxy := h.ProxyDB()
	h.Start()
	h.RunUntil(at(16, 20, 0), nil)
	proxy.Hang()
	h.RunUntil(at(16, 30, 0), map[time.Time]func(){
		at(16, 24, 0): func() { h.SetVoice(w.Members["zoe"], w.BZS2, discordsim.VoiceFlags{}) },
	})
	if got := minutesOf(t, h, w, "zoe"); len(got) != 0 {
		t.Fatalf("zoe's minutes reached a database that does not answer: %v", got)
	}
	proxy.Resume()
	h.RunUntil(at(17, 0, 5), nil)
	if got := minutesOf(t, h, w, "alexey"); !slices.Equal(got, span(0, 59)) {
		t.Errorf("alexey = %v, want 0-59", got)
	}
	if got := minutesOf(t, h, w, "zoe"); !slices.Equal(got, span(24, 59)) {
		t.Errorf("zoe = %v, want 24-59", got)
	}
	if f := exactlyOneReport(t, w); strings.Contains(f[0], "Not recorded") {
		t.Errorf("the report says %q: the database's silence was not the bot's downtime", f[0])
	}
	if !strings.Contains(h.Logs.Text(), "buffered attendance stored") {
		t.Error("the recovery is not logged")
	}
}

// TestFaultDiscordHangs: Discord's HTTP API stops answering for ten minutes
// around the event's end (its gateway goes on), long enough for the bot's
// own deadline to give up on a request. Sampling goes on meanwhile, nothing
// is lost, and once Discord answers the report is delivered once. On the
// original design a post without a deadline stopped the tick.
func TestFaultDiscordHangs(t *testing.T) {
	w, h := oneEvent(t, at(15, 59, 50))
	h.Start()
	h.RunUntil(at(16, 55, 0), nil)
	hang := w.Sim.HoldAll("", "", discordsim.HoldBefore)
	// Ticks go on as usual (each settled before the next), but not
	// RunUntil's wait for the posts: they cannot go out yet.
	tickUntil(h, at(17, 5, 0), map[time.Time]func(){
		at(16, 57, 0): func() { h.SetVoice(w.Members["zoe"], w.BZS, discordsim.VoiceFlags{}) },
	})
	// The post fell due at 17:00; its request has waited since. Discord
	// stays silent until the bot's deadline (real time) gives up on one.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	waitUntil(ctx, t, "no request to the hung Discord was ever given up", func() bool { return hang.Abandoned() > 0 })
	for _, ch := range []snowflake.ID{w.Reports, w.Reports2} {
		if n := len(w.Sim.Messages(ch)); n != 0 {
			t.Fatalf("channel %d got %d messages while Discord hung", ch, n)
		}
	}
	hang.Release()
	h.RunUntil(at(17, 10, 0), nil)
	if got := minutesOf(t, h, w, "alexey"); !slices.Equal(got, span(0, 59)) {
		t.Errorf("alexey = %v, want 0-59", got)
	}
	if got := minutesOf(t, h, w, "zoe"); !slices.Equal(got, span(57, 59)) {
		t.Errorf("zoe = %v, want 57-59", got)
	}
	exactlyOneReport(t, w)
	t.Logf("requests held while Discord hung: %d, given up by the bot: %d", hang.Held(), hang.Abandoned())
}

// countingRenderer counts the charts drawn by the renderer it wraps.
type countingRenderer struct {
	compose.Renderer
	timelines atomic.Int64
}

func (c *countingRenderer) Timeline(ctx context.Context, t render.TimelineChart) ([]byte, error) {
	c.timelines.Add(1)
	return c.Renderer.Timeline(ctx, t)
}

// TestFaultRetriedPostIsNotRedrawn: a post that Discord fails to take for
// its own reasons (5xx) is retried with the message its first attempt built,
// not loaded and drawn again: a failing post must not keep taking CPU from
// the ticks (bench figure 7).
func TestFaultRetriedPostIsNotRedrawn(t *testing.T) {
	w, h := oneEvent(t, at(16, 58, 0))
	r := &countingRenderer{Renderer: apptest.SharedRenderer(t)}
	h.Renderer = r
	w.Sim.FailNext("POST", "/channels/{id}/messages", 4, 503, 0)
	h.Start()
	h.RunUntil(at(17, 0, 30), nil)
	exactlyOneReport(t, w)
	if n := r.timelines.Load(); n != 2 {
		t.Errorf("%d timelines drawn for 2 posts that were sent 6 times, want one per post", n)
	}
}
