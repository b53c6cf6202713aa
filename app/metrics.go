package app

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"rollcall/bot"
	"rollcall/compose"
	"rollcall/jobs"
	"rollcall/render"
	"rollcall/version"
)

// metrics is one App's Prometheus registry (not the global default, so
// that two Apps in one test process do not collide). Durations are
// observed as they happen, through the bot's and the commands' Observer
// and a wrapper around the renderer; the counters the packages already
// keep (bot.Stats, jobs.Stats, the recorder's buffer) are read when
// scraped rather than counted twice. The names are listed in the README
// ("Health and metrics").
type metrics struct {
	reg *prometheus.Registry

	tick           prometheus.Histogram
	write          *prometheus.HistogramVec // by result: ok, error
	commands       *prometheus.CounterVec   // by command
	ack, reply     *prometheus.HistogramVec // by command
	render         *prometheus.HistogramVec // by chart: timeline, bars
	renderFailures *prometheus.CounterVec   // by chart
}

// Buckets, in seconds. A tick does no I/O (well under a millisecond); a
// write is bounded by its timeout (5 s); Discord drops an interaction not
// acknowledged within 3 s; a reply and a chart may take tens of seconds.
var (
	tickBuckets   = prometheus.ExponentialBuckets(0.0001, 4, 8) // 100 µs to 1.6 s
	writeBuckets  = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	ackBuckets    = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2, 3, 5}
	replyBuckets  = []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}
	renderBuckets = []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
)

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		tick: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "rollcall_tick_duration_seconds",
			Help: "How long one poll took: reading the voice cache and handing new minutes to the writer. Its _count is the number of ticks.", Buckets: tickBuckets}),
		write: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "rollcall_db_write_duration_seconds",
			Help: "How long one write of samples to the database took, by result (ok, error).", Buckets: writeBuckets}, []string{"result"}),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rollcall_commands_total",
			Help: "Slash commands answered by this process, by command."}, []string{"command"}),
		ack: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "rollcall_command_ack_seconds",
			Help: "From a slash command reaching rollcall to Discord having its first answer (the deferral, or an immediate reply), by command.", Buckets: ackBuckets}, []string{"command"}),
		reply: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "rollcall_command_reply_seconds",
			Help: "From a slash command reaching rollcall to its final answer being sent, by command.", Buckets: replyBuckets}, []string{"command"}),
		render: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "rollcall_render_duration_seconds",
			Help: "How long drawing one chart took in Chromium, failed or not, by chart (timeline, bars).", Buckets: renderBuckets}, []string{"chart"}),
		renderFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rollcall_render_failures_total",
			Help: "Charts that could not be drawn (the report or reply went out as a text table), by chart."}, []string{"chart"}),
	}
	for _, r := range []string{"ok", "error"} {
		m.write.WithLabelValues(r)
	}
	for _, c := range []string{"timeline", "bars"} {
		m.render.WithLabelValues(c)
		m.renderFailures.WithLabelValues(c)
	}
	v := version.Get()
	m.reg.MustRegister(m.tick, m.write, m.commands, m.ack, m.reply, m.render, m.renderFailures,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "rollcall_build_info", Help: "Always 1; the labels say which build runs.",
			ConstLabels: prometheus.Labels{"version": v.Version, "commit": v.Commit, "go": v.Go}}, func() float64 { return 1 }))
	return m
}

// Tick implements bot.Observer.
func (m *metrics) Tick(took time.Duration) { m.tick.Observe(took.Seconds()) }

// Write implements bot.Observer.
func (m *metrics) Write(took time.Duration, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.write.WithLabelValues(result).Observe(took.Seconds())
}

// Command implements commands.Observer.
func (m *metrics) Command(name string, ack, reply time.Duration) {
	m.commands.WithLabelValues(name).Inc()
	m.ack.WithLabelValues(name).Observe(ack.Seconds())
	m.reply.WithLabelValues(name).Observe(reply.Seconds())
}

// exposeParts registers what is read from the App's parts when scraped.
// privateDB is nil when a database URL is configured.
func (m *metrics) exposeParts(b *bot.Bot, q *jobs.Queue, charts bool, privateDB func() bool) {
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "rollcall_samples_written_total",
			Help: "Member-minutes of attendance stored (a member seen in a minute of an event is one)."},
			func() float64 { return float64(b.Stats.SamplesWritten.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "rollcall_buffer_member_chunks",
			Help: "Attendance waiting in memory to be written, in member-chunks (a member's minutes in 64 minutes of one event); stays above 0 while the database is unreachable."},
			func() float64 { return float64(b.Buffered()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "rollcall_events_recording",
			Help: "Events being recorded at the last tick."},
			func() float64 { return float64(b.Recording()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "rollcall_gateway_ready",
			Help: "1 when the gateway session is ready and every guild has arrived with its members (the bot records), else 0."},
			func() float64 { return boolValue(b.Ready()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "rollcall_gateway_reconnects_total",
			Help: "Times the gateway connection came back after the first session began: resumed (also in rollcall_gateway_resumes_total) or as a new session."},
			func() float64 { return float64(b.Stats.Reconnects()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "rollcall_gateway_resumes_total",
			Help: "Gateway sessions resumed after a disconnect: Discord replayed what was missed."},
			func() float64 { return float64(b.Stats.Resumes.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "rollcall_charts_enabled",
			Help: "1 when a Chromium renderer was started, 0 when reports and replies are text tables only."},
			func() float64 { return boolValue(charts) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "rollcall_shards_held",
			Help: "Gateway shards this process runs (and samples the guilds of); 0 without sharding."},
			func() float64 { ids, _ := b.Shards(); return float64(len(ids)) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "rollcall_shards_taken_total",
			Help: "Shards this process began running: at start, taken over from a process that died, or after resharding."},
			func() float64 { return float64(b.Stats.ShardsTaken.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "rollcall_shards_handed_over_total",
			Help: "Shards this process stopped running because another process took its share."},
			func() float64 { return float64(b.Stats.ShardsHandedOver.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "rollcall_shard_lease_renewals_total",
			Help: "Rounds of claiming and renewing shard leases in PostgreSQL that succeeded (sharding by lease only)."},
			func() float64 { return float64(b.Stats.LeaseRenewals.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "rollcall_shard_lease_failures_total",
			Help: "Rounds of renewing shard leases that failed (the database could not be asked); the shards keep running meanwhile."},
			func() float64 { return float64(b.Stats.LeaseFailures.Load()) }),
		&reportsCollector{stats: q.Stats},
		&rolesCollector{stats: q.Roles},
	)
	if privateDB != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "rollcall_private_database_up",
			Help: "1 while the private PostgreSQL under --data-dir runs, 0 when it has stopped or crashed (only when no database URL is configured)."},
			func() float64 { return boolValue(privateDB()) }))
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// reportsCollector exposes jobs.Stats as rollcall_reports_total{kind,result}.
type reportsCollector struct{ stats *jobs.Stats }

var reportsDesc = prometheus.NewDesc("rollcall_reports_total",
	"Automatic posts by kind (event, weekly, correction) and result: posted; skipped (nobody attended, empty_report = skip); "+
		"found (already in the channel after an attempt whose answer was lost); retried (an attempt failed, another follows); failed (given up).",
	[]string{"kind", "result"}, nil)

func (c *reportsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- reportsDesc }

func (c *reportsCollector) Collect(ch chan<- prometheus.Metric) {
	for _, kind := range []string{bot.KindEvent, bot.KindWeekly, bot.KindCorrection} {
		n := c.stats.Of(kind)
		for _, r := range []struct {
			result string
			v      int64
		}{{"posted", n.Posted.Load()}, {"skipped", n.Skipped.Load()}, {"found", n.Found.Load()}, {"retried", n.Retried.Load()}, {"failed", n.Failed.Load()}} {
			ch <- prometheus.MustNewConstMetric(reportsDesc, prometheus.CounterValue, float64(r.v), kind, r.result)
		}
	}
}

// rolesCollector exposes jobs.RoleStats as rollcall_role_changes_total{result}.
type rolesCollector struct{ stats *jobs.RoleStats }

var rolesDesc = prometheus.NewDesc("rollcall_role_changes_total",
	"Role changes made by role rules, by result: given; taken; failed (Discord refused or failed; the rule pauses or the evaluation is retried); left (the member left before their change).",
	[]string{"result"}, nil)

func (c *rolesCollector) Describe(ch chan<- *prometheus.Desc) { ch <- rolesDesc }

func (c *rolesCollector) Collect(ch chan<- prometheus.Metric) {
	for _, r := range []struct {
		result string
		v      int64
	}{{"given", c.stats.Given.Load()}, {"taken", c.stats.Taken.Load()}, {"failed", c.stats.Failed.Load()}, {"left", c.stats.Left.Load()}} {
		ch <- prometheus.MustNewConstMetric(rolesDesc, prometheus.CounterValue, float64(r.v), r.result)
	}
}

// timedRenderer measures every chart drawn, for posts and replies alike.
type timedRenderer struct {
	r compose.Renderer
	m *metrics
}

func (t timedRenderer) Timeline(ctx context.Context, c render.TimelineChart) ([]byte, error) {
	t0 := time.Now()
	b, err := t.r.Timeline(ctx, c)
	t.m.rendered("timeline", time.Since(t0), err)
	return b, err
}

func (t timedRenderer) Bars(ctx context.Context, c render.BarChart) ([]byte, error) {
	t0 := time.Now()
	b, err := t.r.Bars(ctx, c)
	t.m.rendered("bars", time.Since(t0), err)
	return b, err
}

func (m *metrics) rendered(chart string, took time.Duration, err error) {
	m.render.WithLabelValues(chart).Observe(took.Seconds())
	if err != nil {
		m.renderFailures.WithLabelValues(chart).Inc()
	}
}
