package app_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/disgoorg/snowflake/v2"

	"rollcall/app/apptest"
	"rollcall/clock"
	"rollcall/discordsim"
	"rollcall/health/healthtest"
)

// The HTTP listener over one event, scraped as Prometheus and a supervisor
// would: ticks, samples and posts move by exactly what happened; a
// database outage makes /readyz 503 naming the database at once and the
// samples two poll intervals later, and 200 again once the buffered
// minutes are stored; a command, a chart and a gateway resume are counted.
func TestE2EHealthAndMetrics(t *testing.T) {
	clk := clock.NewFake(at(15, 59, 50))
	w := apptest.NewWorld(t, clk)
	h := apptest.New(t, w, clk, w.ConfigText(`"16:00"`, "60m"))
	h.Config.HTTPListen = "127.0.0.1:0"
	w.Sim.SetVoice(w.Guild, w.Members["alexey"], w.BZS, discordsim.VoiceFlags{})
	proxy := h.ProxyDB()
	h.Start()
	base := "http://" + h.App.HTTPAddr()
	if !strings.Contains(h.Logs.Text(), "serving /healthz, /readyz and /metrics") {
		t.Error("the listener's address is not logged")
	}
	if strings.Contains(h.Logs.Text(), "no authentication") {
		t.Error("warned about a loopback address")
	}

	if code, body := healthtest.Get(t, base, "/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	ready := func(wantCode int, wantFailing ...string) {
		t.Helper()
		code, rep := healthtest.Ready(t, base)
		if code != wantCode || !slices.Equal(rep.Failing, wantFailing) {
			t.Fatalf("/readyz at %s = %d, failing %v; want %d, failing %v\n%+v", clk.Now().Format("15:04:05"), code, rep.Failing, wantCode, wantFailing, rep.Checks)
		}
	}
	ready(http.StatusOK)

	m := healthtest.Scrape(t, base)
	ticks0 := m.Value(t, "rollcall_tick_duration_seconds")
	if v := m.Value(t, "rollcall_samples_written_total"); v != 0 {
		t.Errorf("samples written before the event: %v", v)
	}
	if v := m.Value(t, "rollcall_reports_total", "kind", "event", "result", "posted"); v != 0 {
		t.Errorf("event reports posted before the event: %v", v)
	}
	if v := m.Value(t, "rollcall_gateway_ready"); v != 1 {
		t.Errorf("rollcall_gateway_ready = %v", v)
	}

	// 16:00-16:10: a poll every 5 s, Alexey seen in minutes 0-10.
	h.RunUntil(at(16, 10, 0), nil)
	m = healthtest.Scrape(t, base)
	if d := m.Value(t, "rollcall_tick_duration_seconds") - ticks0; d != 122 {
		t.Errorf("ticks from 15:59:50 to 16:10:00: %v, want 122", d)
	}
	if v := m.Value(t, "rollcall_samples_written_total"); v != 11 {
		t.Errorf("samples written by 16:10: %v, want 11 (minutes 0-10)", v)
	}
	if v := m.Value(t, "rollcall_events_recording"); v != 1 {
		t.Errorf("events recording at 16:10: %v", v)
	}
	if v := m.Value(t, "rollcall_db_write_duration_seconds", "result", "ok"); v != 12 {
		t.Errorf("successful writes by 16:10: %v, want 12 (the day's purge job at start, then one per new minute)", v)
	}
	ready(http.StatusOK)

	// The database goes away: /readyz says so at once. Every sample is
	// still stored (the ticks until 16:10:55 see no new minute); minute 11,
	// seen at 16:11:00, waits in memory, and once the stored samples are
	// more than two poll intervals old (16:10:55 at 16:11:10) that fails
	// too.
	proxy.Cut()
	ready(http.StatusServiceUnavailable, "database")
	h.RunUntil(at(16, 11, 5), nil)
	ready(http.StatusServiceUnavailable, "database")
	h.RunUntil(at(16, 11, 10), nil)
	ready(http.StatusServiceUnavailable, "database", "samples")
	m = healthtest.Scrape(t, base)
	if v := m.Value(t, "rollcall_buffer_member_chunks"); v != 1 {
		t.Errorf("buffer during the outage: %v member-chunks, want 1 (Alexey's)", v)
	}
	if v := m.Value(t, "rollcall_db_write_duration_seconds", "result", "error"); v < 1 {
		t.Errorf("no failed write counted during the outage")
	}
	if v := m.Value(t, "rollcall_samples_written_total"); v != 11 {
		t.Errorf("samples written during the outage: %v, want still 11", v)
	}

	proxy.Restore()
	h.RunUntil(at(16, 12, 0), nil)
	ready(http.StatusOK)
	m = healthtest.Scrape(t, base)
	if v := m.Value(t, "rollcall_buffer_member_chunks"); v != 0 {
		t.Errorf("buffer after the outage: %v", v)
	}
	if v := m.Value(t, "rollcall_samples_written_total"); v != 13 {
		t.Errorf("samples written by 16:12: %v, want 13 (minutes 0-12)", v)
	}

	// A gateway disconnect, resumed.
	resumes := w.Sim.Resumes()
	w.Sim.Disconnect(4000)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := w.Sim.WaitResumes(ctx, resumes+1); err != nil {
		t.Fatal(err)
	}
	h.WaitReady()
	healthtest.WaitFor(t, base, "the resume", func(m healthtest.Metrics) bool {
		return m.Value(t, "rollcall_gateway_resumes_total") == 1 && m.Value(t, "rollcall_gateway_reconnects_total") == 1
	})

	// A command, with a chart.
	r, err := w.Sim.Invoke(ctx, discordsim.Invocation{GuildID: w.Guild, UserID: w.Members["zoe"], Command: "event", Locale: "en-US"})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Files) != 1 {
		t.Fatalf("/event answered %+v", r)
	}
	m = healthtest.WaitFor(t, base, "the /event reply", func(m healthtest.Metrics) bool {
		v, _ := m.Lookup("rollcall_commands_total", "command", "event")
		return v == 1
	})
	for _, name := range []string{"rollcall_command_ack_seconds", "rollcall_command_reply_seconds"} {
		if v := m.Value(t, name, "command", "event"); v != 1 {
			t.Errorf("%s{command=event} counts %v replies, want 1", name, v)
		}
	}
	if v := m.Value(t, "rollcall_render_duration_seconds", "chart", "timeline"); v != 1 {
		t.Errorf("timelines drawn: %v, want 1", v)
	}

	// The event ends: its report goes to both channels, once each.
	h.RunUntil(at(17, 0, 5), nil)
	for _, ch := range []snowflake.ID{w.Reports, w.Reports2} {
		posts := 0
		for _, msg := range w.Sim.Messages(ch) {
			if !msg.Interaction {
				posts++
			}
		}
		if posts != 1 {
			t.Errorf("channel %d got %d posts, want 1", ch, posts)
		}
	}
	m = healthtest.Scrape(t, base)
	if v := m.Value(t, "rollcall_reports_total", "kind", "event", "result", "posted"); v != 2 {
		t.Errorf("event reports posted: %v, want 2 (one per channel)", v)
	}
	for _, kind := range []string{"weekly", "correction"} {
		if v := m.Value(t, "rollcall_reports_total", "kind", kind, "result", "posted"); v != 0 {
			t.Errorf("%s reports posted: %v, want 0", kind, v)
		}
	}
	if v := m.Value(t, "rollcall_samples_written_total"); v != 60 {
		t.Errorf("samples written over the event: %v, want 60 (minutes 0-59)", v)
	}
	if d := m.Value(t, "rollcall_tick_duration_seconds") - ticks0; d != 723 {
		t.Errorf("ticks from 15:59:50 to 17:00:05: %v, want 723", d)
	}
	if v := m.Value(t, "rollcall_render_duration_seconds", "chart", "timeline"); v != 3 {
		t.Errorf("timelines drawn: %v, want 3 (the reply and two reports)", v)
	}
	if v := m.Value(t, "rollcall_events_recording"); v != 0 {
		t.Errorf("events recording after the end: %v", v)
	}
	ready(http.StatusOK)
}

// A post that fails and one whose answer is lost are counted as Discord's
// answers say: retried for each failed attempt, found for the post found in
// the channel instead of sent twice, posted for the one sent.
func TestE2EMetricsCountRetriedAndFoundPosts(t *testing.T) {
	w, h := oneEvent(t, at(16, 58, 0))
	h.Config.HTTPListen = "127.0.0.1:0"
	w.Sim.FailNext("POST", "/channels/{id}/messages", 1, 502, 0)
	w.Sim.FailNextAfterHandling("POST", "/channels/{id}/messages", 1, 500)
	h.Start()
	h.RunUntil(at(17, 1, 0), nil)
	exactlyOneReport(t, w)
	m := healthtest.Scrape(t, "http://"+h.App.HTTPAddr())
	for result, want := range map[string]float64{"posted": 1, "found": 1, "retried": 2, "failed": 0, "skipped": 0} {
		if v := m.Value(t, "rollcall_reports_total", "kind", "event", "result", result); v != want {
			t.Errorf("rollcall_reports_total{kind=event,result=%s} = %v, want %v", result, v, want)
		}
	}
}

// An address other machines may reach is served, with a warning that the
// endpoints have no authentication.
func TestE2EHTTPListenOffLoopbackWarns(t *testing.T) {
	_, h := oneEvent(t, at(15, 0, 0))
	h.Config.HTTPListen = ":0"
	h.Start()
	_, port, err := net.SplitHostPort(h.App.HTTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := healthtest.Get(t, "http://127.0.0.1:"+port, "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d", code)
	}
	var warned bool
	for _, l := range h.Logs.Lines() {
		if strings.Contains(l, "level=WARN") && strings.Contains(l, "no authentication") && strings.Contains(l, port) {
			warned = true
		}
	}
	if !warned {
		t.Errorf("no warning about an address other machines may reach:\n%s", h.Logs.Text())
	}
}

// The README's table of metrics names every rollcall_* metric the App
// serves, and nothing it does not (rollcall_private_database_up exists
// only when main runs a private database; the command metrics appear with
// the first command).
func TestE2EEveryMetricIsInTheREADME(t *testing.T) {
	w, h := oneEvent(t, at(15, 0, 0))
	h.Config.HTTPListen = "127.0.0.1:0"
	h.Start()
	base := "http://" + h.App.HTTPAddr()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := w.Sim.Invoke(ctx, discordsim.Invocation{GuildID: w.Guild, UserID: w.Members["zoe"], Command: "week", Locale: "en-US"}); err != nil {
		t.Fatal(err)
	}
	m := healthtest.WaitFor(t, base, "the /week reply", func(m healthtest.Metrics) bool {
		_, ok := m.Lookup("rollcall_commands_total", "command", "week")
		return ok
	})
	served := map[string]bool{"rollcall_private_database_up": true}
	for name := range m {
		if strings.HasPrefix(name, "rollcall_") {
			served[name] = true
		}
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(readme), "### Health and metrics")
	section, _, _ = strings.Cut(section, "\n### ")
	documented := map[string]bool{}
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| `rollcall_") {
			continue
		}
		cell, _, _ := strings.Cut(strings.TrimPrefix(line, "| "), " |")
		for _, m := range regexp.MustCompile("`(rollcall_[a-z_]+)").FindAllStringSubmatch(cell, -1) {
			documented[m[1]] = true
		}
	}
	for name := range served {
		if !documented[name] {
			t.Errorf("%s is served but not in the README's table of metrics", name)
		}
	}
	for name := range documented {
		if !served[name] {
			t.Errorf("the README lists %s, which is not served", name)
		}
	}
}
