package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/disgoorg/snowflake/v2"

	"rollcall/app/apptest"
	"rollcall/compose"
	"rollcall/discordsim"
	"rollcall/store"
	"rollcall/store/storetest"
)

// The tests here run the rollcall binary itself, a real process on real
// time, and kill or stop it with a signal at an exact point of a post; the
// simulator holds the post's request there, as a slow Discord would.

// pollInterval is the configured poll interval (apptest.ProcessConfig): a
// report that falls due while the bot runs goes out at the next tick, so a
// post pending at start must go out within one interval of the bot being
// able to post.
const pollInterval = 5 * time.Second

// processEvent is a world on real time and a database holding one event of
// the schedule that ended three minutes ago, its report not yet posted
// (within catch_up, so whichever process starts queues it), with Alexey
// there for its first 50 minutes.
type processEvent struct {
	w     *apptest.World
	dbURL string
	st    *store.Store // straight to the test database, for seeding and checks
	occ   int64
	cfg   string
}

func newProcessEvent(t *testing.T) *processEvent {
	t.Helper()
	ctx := context.Background()
	w := apptest.NewWorldAt(t, time.Now)
	e := &processEvent{w: w, dbURL: storetest.URL(t)}
	st, err := store.Open(ctx, e.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if err := st.Migrate(ctx, storetest.Schema(t)); err != nil {
		t.Fatal(err)
	}
	e.st = st
	end := time.Now().Add(-3 * time.Minute).Truncate(time.Minute)
	alexey := uint64(w.Members["alexey"])
	if err := st.UpsertMembers(ctx, uint64(w.Guild), []store.Member{{UserID: alexey, Username: "alexey", DisplayName: "Алексей 🎮", JoinedAt: end.AddDate(0, -1, 0)}}); err != nil {
		t.Fatal(err)
	}
	if e.occ, err = st.EnsureOccurrence(ctx, uint64(w.Guild), "БЗС", end.Add(-time.Hour), end); err != nil {
		t.Fatal(err)
	}
	if err := st.Record(ctx, []store.Sample{{OccurrenceID: e.occ, UserID: alexey, Present: 1<<50 - 1}},
		[]store.Coverage{{OccurrenceID: e.occ, Sampled: 1<<60 - 1}}); err != nil {
		t.Fatal(err)
	}
	// The schedule's own occurrences are half a day away: nothing runs
	// while the test does.
	e.cfg = w.ProcessConfig(strconv.Quote(time.Now().In(msk).Add(12*time.Hour).Format("15:04")), "60m")
	return e
}

// waitUntil polls cond until it holds or ctx ends (then t fails with what).
func waitUntil(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %v", what, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// postJob is what River knows of one post.
type postJob struct {
	channel   uint64
	state     string
	attempt   int
	finalized time.Time
}

func (e *processEvent) jobs(t *testing.T) []postJob {
	t.Helper()
	rows, err := e.st.Pool().Query(context.Background(), `
		SELECT (args->>'channel_id')::bigint, state::text, attempt, coalesce(finalized_at, 'epoch')
		FROM river_job WHERE kind = 'rollcall_post' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []postJob
	for rows.Next() {
		var j postJob
		var ch int64
		if err := rows.Scan(&ch, &j.state, &j.attempt, &j.finalized); err != nil {
			t.Fatal(err)
		}
		j.channel = uint64(ch)
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// waitPosted waits until both channels' post jobs are completed and returns them.
func (e *processEvent) waitPosted(ctx context.Context, t *testing.T) []postJob {
	t.Helper()
	var js []postJob
	waitUntil(ctx, t, "the posts were not completed after the restart", func() bool {
		js = e.jobs(t)
		done := 0
		for _, j := range js {
			if j.state == "completed" {
				done++
			}
		}
		return len(js) == 2 && done == 2
	})
	return js
}

// exactlyOnce checks that each report channel holds one message, the
// event's report, and that the ledger names it; it returns the messages.
func (e *processEvent) exactlyOnce(t *testing.T) []discordsim.Message {
	t.Helper()
	var out []discordsim.Message
	for _, ch := range []snowflake.ID{e.w.Reports, e.w.Reports2} {
		msgs := e.w.Sim.Messages(ch)
		if len(msgs) != 1 {
			t.Fatalf("channel %d holds %d messages, want exactly 1", ch, len(msgs))
		}
		m := msgs[0]
		marker := compose.Marker("event", strconv.FormatInt(e.occ, 10))
		if len(m.Embeds) != 1 || m.Embeds[0].Footer == nil || !strings.HasSuffix(m.Embeds[0].Footer.Text, marker) {
			t.Fatalf("channel %d: the message is not the event's report (%+v)", ch, m.Embeds)
		}
		st, err := e.st.PostState(context.Background(), store.Post{Kind: "event", Ref: strconv.FormatInt(e.occ, 10), ChannelID: uint64(ch)})
		if err != nil || !st.Posted || st.MessageID != uint64(m.ID) {
			t.Fatalf("channel %d: ledger %+v (%v), want posted as %d", ch, st, err, m.ID)
		}
		out = append(out, m)
	}
	return out
}

// TestFaultKilledMidPost kills a real rollcall process (SIGKILL: no
// shutdown at all) at each point of a post, then starts another: each
// channel gets exactly one report, within one poll interval of the new
// process being ready.
//
//   - before: both posts' requests reached Discord, which had not handled
//     them yet (a slow Discord); the killed process's connections close and
//     the requests never take effect. The ledger says "attempted": the new
//     process looks for the post in the channel, finds none, and sends it.
//   - after: Discord made both messages, and the process died before it
//     heard back, so before it could mark the jobs. The new process finds
//     each message by its marker and marks it instead of posting again.
//
// On the original design (one loop, claims written by hand) the first case
// lost the report for the claim's lease and the second posted it twice.
func TestFaultKilledMidPost(t *testing.T) {
	for _, when := range []discordsim.HoldPoint{discordsim.HoldBefore, discordsim.HoldAfter} {
		t.Run(when.String(), func(t *testing.T) {
			e := newProcessEvent(t)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			sim := e.w.Sim
			holds := []*discordsim.Hold{
				sim.HoldNext("POST", "/channels/{id}/messages", when),
				sim.HoldNext("POST", "/channels/{id}/messages", when),
			}
			first := apptest.StartProcess(t, sim, e.cfg, e.dbURL)
			for _, h := range holds {
				if err := h.Wait(ctx); err != nil {
					t.Fatalf("the posts never reached Discord: %v", err)
				}
			}
			first.Kill()
			// The simulator sees the dead process's connections close; only
			// then are the holds released, so that a request held before
			// handling can never be handled after all.
			waitUntil(ctx, t, "the simulator never saw the killed process's requests go", func() bool {
				return holds[0].Abandoned() == 1 && holds[1].Abandoned() == 1
			})
			for _, h := range holds {
				h.Release()
			}
			made := map[discordsim.HoldPoint]int{discordsim.HoldBefore: 0, discordsim.HoldAfter: 1}[when]
			for _, ch := range []snowflake.ID{e.w.Reports, e.w.Reports2} {
				if n := len(sim.Messages(ch)); n != made {
					t.Fatalf("after the kill channel %d holds %d messages, want %d", ch, n, made)
				}
			}

			restarted := time.Now()
			second := apptest.StartProcess(t, sim, e.cfg, e.dbURL)
			ready := second.WaitLog(ctx, "rollcall is running").Time
			jobs := e.waitPosted(ctx, t)
			msgs := e.exactlyOnce(t)
			for _, j := range jobs {
				t.Logf("channel %d: job done %v after the new process was ready (%v after it was started), attempt %d",
					j.channel, j.finalized.Sub(ready).Round(time.Millisecond), j.finalized.Sub(restarted).Round(time.Millisecond), j.attempt)
				if late := j.finalized.Sub(ready); late > pollInterval {
					t.Errorf("channel %d: the post was settled %v after the new process was ready, more than one poll interval (%v)", j.channel, late, pollInterval)
				}
			}
			if when == discordsim.HoldBefore {
				for _, m := range msgs {
					if late := m.Timestamp.Sub(ready); late > pollInterval {
						t.Errorf("channel %d: posted %v after the new process was ready, more than one poll interval (%v)", m.ChannelID, late, pollInterval)
					}
				}
			}
			if n := sim.CountRequests("POST", "/channels/{c}/messages", nil); n != 4-2*made {
				t.Errorf("%d POSTs of a message, want %d", n, 4-2*made)
			}
			if code := second.Term(); code != 0 {
				t.Errorf("rollcall exited %d after SIGTERM, want 0", code)
			}
		})
	}
}

// renderGate makes a real Chromium's renders wait at a gate the test
// opens: an ECharts bundle (rollcall's own, passed with --echarts) that
// wraps the page's render function so that every chart but the warm-up
// first fetches a URL of the test's, which answers only once opened.
type renderGate struct {
	srv     *httptest.Server
	arrived chan struct{}
	once    sync.Once
	open    chan struct{}
	file    string
}

func newRenderGate(t *testing.T) *renderGate {
	t.Helper()
	g := &renderGate{arrived: make(chan struct{}), open: make(chan struct{})}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.once.Do(func() { close(g.arrived) })
		select {
		case <-g.open:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(g.srv.Close)
	t.Cleanup(g.Open)
	bundle, err := os.ReadFile(echartsBundle())
	if err != nil {
		t.Skipf("no ECharts bundle to wrap (make assets): %v", err)
	}
	wrap := `
;(function () {
  var real;
  Object.defineProperty(window, 'rollcallRender', {configurable: true,
    get: function () { return real; },
    set: function (f) {
      real = function (option, w, h) {
        if (JSON.stringify((option && option.title) || '').indexOf('warm up') >= 0) return f(option, w, h);
        var go = function () { return f(option, w, h); };
        return fetch('` + g.srv.URL + `/gate', {mode: 'no-cors', cache: 'no-store'}).then(go, go);
      };
    }});
})();
`
	g.file = filepath.Join(t.TempDir(), "echarts-gated.js")
	if err := os.WriteFile(g.file, append(bundle, wrap...), 0o600); err != nil {
		t.Fatal(err)
	}
	return g
}

// echartsBundle is where `make assets` puts the ECharts the binary embeds.
func echartsBundle() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "render", "assets", "echarts.min.js")
}

// Open lets every render waiting at the gate, and every later one, go on.
func (g *renderGate) Open() {
	select {
	case <-g.open:
	default:
		close(g.open)
	}
}

// TestFaultStoppedMidPost stops a real rollcall process with SIGTERM (as
// systemd does) while a report is being drawn, and while its message is
// on its way to a Discord that has not answered yet; it is started again
// once the interrupted posts are due again. Each channel gets the report
// exactly once, within one poll interval of the new process being ready.
//
// On the original design the report was lost until a later restart: the
// stopping process released its claim with an already-cancelled context,
// and the next process took "claimed by someone else" for done.
func TestFaultStoppedMidPost(t *testing.T) {
	for _, mid := range []string{"render", "post"} {
		t.Run("mid-"+mid, func(t *testing.T) {
			e := newProcessEvent(t)
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			sim := e.w.Sim
			// Held in both cases: drawing that times out (render's own 10 s)
			// falls back to a text table and goes on to post.
			holds := []*discordsim.Hold{
				sim.HoldNext("POST", "/channels/{id}/messages", discordsim.HoldBefore),
				sim.HoldNext("POST", "/channels/{id}/messages", discordsim.HoldBefore),
			}
			var args []string
			var gate *renderGate
			if mid == "render" {
				gate = newRenderGate(t)
				args = []string{"--echarts", gate.file}
			}
			first := apptest.StartProcess(t, sim, e.cfg, e.dbURL, args...)
			if gate != nil {
				select {
				case <-gate.arrived:
				case <-ctx.Done():
					t.Fatal("no report was ever drawn")
				}
			} else if err := holds[0].Wait(ctx); err != nil {
				t.Fatalf("no post reached Discord: %v", err)
			}
			if code := first.Term(); code != 0 {
				t.Errorf("rollcall exited %d after SIGTERM, want 0", code)
			}
			waitUntil(ctx, t, "a request of the stopped process was still held", func() bool {
				return holds[0].Waiting() == 0 && holds[1].Waiting() == 0
			})
			for _, h := range holds {
				h.Release()
			}
			if gate != nil {
				gate.Open()
			}
			for _, ch := range []snowflake.ID{e.w.Reports, e.w.Reports2} {
				if n := len(sim.Messages(ch)); n != 0 {
					t.Fatalf("channel %d holds %d messages before the restart, want none (the posts were interrupted)", ch, n)
				}
			}
			// After a while: once the interrupted posts are due again, so
			// that what follows is the new process's doing, not a retry's.
			waitUntil(ctx, t, "the interrupted posts never became due again", func() bool {
				var later int
				err := e.st.Pool().QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'rollcall_post' AND scheduled_at > now()`).Scan(&later)
				return err == nil && later == 0
			})
			for _, j := range e.jobs(t) {
				t.Logf("channel %d: after the stop the job is %s (attempt %d)", j.channel, j.state, j.attempt)
			}
			restarted := time.Now()
			second := apptest.StartProcess(t, sim, e.cfg, e.dbURL)
			ready := second.WaitLog(ctx, "rollcall is running").Time
			e.waitPosted(ctx, t)
			for _, m := range e.exactlyOnce(t) {
				t.Logf("channel %d: posted %v after the new process was ready (%v after it was started)",
					m.ChannelID, m.Timestamp.Sub(ready).Round(time.Millisecond), m.Timestamp.Sub(restarted).Round(time.Millisecond))
				if late := m.Timestamp.Sub(ready); late > pollInterval {
					t.Errorf("channel %d: posted %v after the new process was ready, more than one poll interval (%v)", m.ChannelID, late, pollInterval)
				}
				if len(m.Files) != 1 || m.Files[0].Name != "timeline.png" {
					// Without `make assets` the binary has no ECharts and
					// posts text tables; CI always builds them.
					if _, err := os.Stat(echartsBundle()); err == nil {
						t.Errorf("channel %d: the restarted post has files %v, want its chart", m.ChannelID, m.Files)
					}
				}
			}
			if code := second.Term(); code != 0 {
				t.Errorf("rollcall exited %d after SIGTERM, want 0", code)
			}
		})
	}
}
