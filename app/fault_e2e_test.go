package app_test

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/disgoorg/snowflake/v2"

	"rollcall/app/apptest"
	"rollcall/clock"
	"rollcall/discordsim"
	"rollcall/render"
)

// oneEvent is a world with Alexey in БЗС for the 16:00-17:00 event.
func oneEvent(t *testing.T, start time.Time) (*apptest.World, *apptest.Harness) {
	t.Helper()
	clk := clock.NewFake(start)
	w := apptest.NewWorld(t, clk)
	h := apptest.New(t, w, clk, w.ConfigText(`"16:00"`, "60m"))
	w.Sim.SetVoice(w.Guild, w.Members["alexey"], w.BZS, discordsim.VoiceFlags{})
	return w, h
}

func minutesOf(t *testing.T, h *apptest.Harness, w *apptest.World, user string) []int {
	t.Helper()
	present, _, _ := storedMinutes(t, h.Store(), w.Guild)
	return present[w.Members[user]]
}

func exactlyOneReport(t *testing.T, w *apptest.World) []string {
	t.Helper()
	var footers []string
	for _, ch := range []snowflake.ID{w.Reports, w.Reports2} {
		msgs := w.Sim.Messages(ch)
		if len(msgs) != 1 {
			t.Fatalf("channel %d got %d messages, want exactly 1", ch, len(msgs))
		}
		if len(msgs[0].Embeds) == 1 && msgs[0].Embeds[0].Footer != nil {
			footers = append(footers, msgs[0].Embeds[0].Footer.Text)
		} else {
			footers = append(footers, "")
		}
	}
	return footers
}

// 1. Postgres unreachable mid-event: minutes are buffered and stored once it
// is back; nothing is lost, the report goes out once.
func TestFaultDatabaseOutageMidEvent(t *testing.T) {
	w, h := oneEvent(t, at(15, 59, 50))
	proxy := h.ProxyDB()
	h.Start()
	h.RunUntil(at(16, 10, 0), nil)
	proxy.Cut()
	h.RunUntil(at(16, 25, 0), nil)
	if got := minutesOf(t, h, w, "alexey"); len(got) != 11 {
		t.Fatalf("during the outage the database holds %d minutes, want 11 (0-10)", len(got))
	}
	proxy.Restore()
	h.RunUntil(at(17, 0, 5), nil)
	if got := minutesOf(t, h, w, "alexey"); !slices.Equal(got, span(0, 59)) {
		t.Fatalf("minutes after the outage = %v, want 0-59", got)
	}
	if f := exactlyOneReport(t, w); strings.Contains(f[0], "Not recorded") {
		t.Errorf("the outage was not downtime of the bot, yet the report says %q", f[0])
	}
	if !strings.Contains(h.Logs.Text(), "buffered attendance stored") {
		t.Error("the recovery is not logged")
	}
}

// 8. SIGTERM mid-event (here: during an outage that has just ended) flushes
// what is buffered before exit.
func TestFaultShutdownFlushesBufferedMinutes(t *testing.T) {
	w, h := oneEvent(t, at(15, 59, 50))
	proxy := h.ProxyDB()
	h.Start()
	h.RunUntil(at(16, 5, 0), nil)
	proxy.Cut()
	h.RunUntil(at(16, 20, 0), nil) // backing off: the last minutes are only in memory
	proxy.Restore()
	h.Stop()
	if got := minutesOf(t, h, w, "alexey"); !slices.Equal(got, span(0, 20)) {
		t.Fatalf("minutes after shutdown = %v, want 0-20", got)
	}
}

// 2. Killed and restarted mid-event: recording resumes, the report is posted
// once and shows the downtime.
func TestFaultRestartMidEvent(t *testing.T) {
	w, h := oneEvent(t, at(15, 59, 50))
	h.Start()
	h.RunUntil(at(16, 20, 0), nil)
	h.Stop()
	h.Clock.Set(at(16, 24, 58))
	h.Start()
	h.RunUntil(at(17, 0, 5), nil)
	if got := minutesOf(t, h, w, "alexey"); !slices.Equal(got, append(span(0, 20), span(25, 59)...)) {
		t.Fatalf("minutes = %v", got)
	}
	if f := exactlyOneReport(t, w); !strings.Contains(f[0], "Not recorded 16:21–16:25") {
		t.Errorf("footer %q does not show the downtime", f[0])
	}
}

// 3. Down when the event ends: the report is posted on start, once, late.
func TestFaultDownWhenEventEnds(t *testing.T) {
	w, h := oneEvent(t, at(15, 59, 50))
	h.Start()
	h.RunUntil(at(16, 50, 0), nil)
	h.Stop()
	h.Clock.Set(at(17, 20, 0))
	h.Start()
	h.RunUntil(at(17, 21, 0), nil)
	f := exactlyOneReport(t, w)
	// Posted as the bot starts at 17:20, or a tick later: the post runs
	// beside the ticks, which go on meanwhile.
	if !strings.Contains(f[0], "Not recorded 16:51–17:00") || !regexp.MustCompile(`Posted late \(2[01] min after it was due\)`).MatchString(f[0]) {
		t.Errorf("footer %q", f[0])
	}
	// And not again on the next start.
	h.Stop()
	h.Start()
	h.RunUntil(at(17, 22, 0), nil)
	exactlyOneReport(t, w)
}

// 4. Gateway loss: a forced disconnect and RESUME lose no minute; an invalid
// session and a fresh IDENTIFY leave no phantom minutes of a member who left
// while the bot was away.
func TestFaultGatewayResumeAndInvalidSession(t *testing.T) {
	w, h := oneEvent(t, at(15, 59, 50))
	h.Start()
	h.RunUntil(at(16, 10, 0), nil)
	before := w.Sim.Resumes()
	w.Sim.Disconnect(4000)
	// Zoë joins while the bot is disconnected: the dispatch is replayed on RESUME.
	w.Sim.SetVoice(w.Guild, w.Members["zoe"], w.BZS, discordsim.VoiceFlags{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.Sim.WaitResumes(ctx, before+1); err != nil {
		t.Fatal(err)
	}
	h.WaitReady()
	h.SetVoice(w.Members["zoe"], w.BZS, discordsim.VoiceFlags{}) // already there: returns once the cache shows it
	h.RunUntil(at(16, 30, 0), nil)
	identifies := w.Sim.Identifies()
	w.Sim.InvalidateSession(false)
	// Alexey leaves while the bot is away; no RESUME will tell it.
	w.Sim.SetVoice(w.Guild, w.Members["alexey"], 0, discordsim.VoiceFlags{})
	if err := w.Sim.WaitIdentifies(ctx, identifies+1); err != nil {
		t.Fatal(err)
	}
	h.WaitReady()
	h.RunUntil(at(17, 0, 5), nil)
	if got := minutesOf(t, h, w, "alexey"); !slices.Equal(got, span(0, 30)) {
		t.Errorf("alexey = %v, want 0-30 (no phantom minutes after he left)", got)
	}
	if got := minutesOf(t, h, w, "zoe"); !slices.Equal(got, span(10, 59)) {
		t.Errorf("zoe = %v, want 10-59 (no minute lost to the disconnect)", got)
	}
	exactlyOneReport(t, w)
}

// 5. Chromium crashes: the browser is relaunched and the chart goes out;
// when rendering keeps failing, the report goes out as a text table.
func TestFaultChromiumCrashAndHang(t *testing.T) {
	t.Run("crash", func(t *testing.T) {
		w, h := oneEvent(t, at(16, 58, 0))
		r := apptest.SharedRenderer(t)
		h.Start()
		h.RunUntil(at(16, 59, 55), nil)
		if err := r.KillBrowser(); err != nil {
			t.Fatal(err)
		}
		h.RunUntil(at(17, 0, 5), nil)
		exactlyOneReport(t, w)
		if msg := w.Sim.Messages(w.Reports)[0]; len(msg.Files) != 1 || msg.Files[0].Name != "timeline.png" {
			t.Fatalf("after a browser crash the report has files %+v", msg.Files)
		}
	})
	t.Run("hang", func(t *testing.T) {
		// A browser that never answers in time: every render times out.
		slow, err := render.New(context.Background(), render.Options{Timeout: time.Millisecond})
		if err != nil {
			t.Skipf("renderer: %v", err)
		}
		defer slow.Close()
		w, h := oneEvent(t, at(16, 58, 0))
		h.Renderer = slow
		h.Start()
		h.RunUntil(at(17, 0, 5), nil)
		exactlyOneReport(t, w)
		msg := w.Sim.Messages(w.Reports)[0]
		if len(msg.Files) != 0 || !strings.Contains(msg.Embeds[0].Description, "```") || !strings.Contains(msg.Embeds[0].Description, "Алексей") {
			t.Fatalf("want a text table, got files %+v description %q", msg.Files, msg.Embeds[0].Description)
		}
	})
}

// 6. Two processes on one database: one report per channel, no minute
// counted twice.
func TestFaultTwoProcessesOnOneDatabase(t *testing.T) {
	w, h := oneEvent(t, at(15, 59, 50))
	twin := h.Twin()
	h.Start()
	twin.Start()
	h.RunUntil(at(17, 0, 5), nil)
	if got := minutesOf(t, h, w, "alexey"); !slices.Equal(got, span(0, 59)) {
		t.Fatalf("minutes = %v", got)
	}
	exactlyOneReport(t, w)
}

// 7. Discord answers 429 or 5xx when posting, or fails after creating the
// message: retried as Discord asks, delivered once.
func TestFaultDiscordRateLimitsAndErrors(t *testing.T) {
	w, h := oneEvent(t, at(16, 58, 0))
	w.Sim.FailNext("POST", "/channels/{id}/messages", 1, 429, time.Second)
	w.Sim.FailNext("POST", "/channels/{id}/messages", 1, 502, 0)
	w.Sim.FailNextAfterHandling("POST", "/channels/{id}/messages", 1, 500)
	h.Start()
	h.RunUntil(at(17, 1, 0), nil)
	exactlyOneReport(t, w)
	statuses := map[int]int{}
	for _, r := range w.Sim.Requests() {
		if r.Method == "POST" && r.Route == "/channels/{channel}/messages" {
			statuses[r.Status]++
		}
	}
	// 429, 502 and 500 once each, then one 200: the other channel's post
	// whose answer was lost (the 500 after Discord made the message) is
	// found among the channel's messages by its marker, not sent again.
	if statuses[429] != 1 || statuses[502] != 1 || statuses[500] != 1 || statuses[200] != 1 {
		t.Errorf("POST statuses %v", statuses)
	}
	looked := 0
	for _, r := range w.Sim.Requests() {
		if r.Method == "GET" && r.Route == "/channels/{channel}/messages" {
			looked++
		}
	}
	if looked == 0 {
		t.Error("after a lost answer the post was not looked for in the channel")
	}
}

// 1b. While Postgres is unreachable, a command answers at once that the
// statistics are temporarily unavailable; once it is back, it works again.
func TestFaultCommandsWhileDatabaseDown(t *testing.T) {
	w, h := oneEvent(t, at(15, 59, 50))
	proxy := h.ProxyDB()
	h.Start()
	h.RunUntil(at(16, 5, 0), nil)
	proxy.Cut()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	inv := discordsim.Invocation{GuildID: w.Guild, UserID: w.Members["zoe"], Command: "event", Locale: "en-US"}
	r, err := w.Sim.Invoke(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	if r.Failed || !strings.Contains(r.Content, "Statistics are temporarily unavailable") || len(r.Files) != 0 {
		t.Fatalf("during the outage /event answered %+v", r)
	}
	proxy.Restore()
	r, err = w.Sim.Invoke(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Embeds) != 1 || len(r.Files) != 1 {
		t.Fatalf("after the outage /event answered %+v", r)
	}
}
