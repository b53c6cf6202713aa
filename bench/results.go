package main

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Results is everything one run measured. The top-level *_ms and ratio
// fields are the headline figures issue #7 asks for; null means not
// measured (the reason is in Errors or the figure's Note).
type Results struct {
	GeneratedAt string  `json:"generated_at"`
	DurationS   float64 `json:"duration_s"`
	Machine     Machine `json:"machine"`

	IngestRatioAt1000          *float64           `json:"ingest_ratio_at_1000"`
	IngestRatioAt1000PerMinute *float64           `json:"ingest_ratio_at_1000_per_minute"`
	IngestMsAt10000NewMinute   *float64           `json:"ingest_ms_at_10000_new_minute"`
	StatementsOnSameMinuteTick *int               `json:"statements_on_same_minute_tick"`
	StorageRatio               *float64           `json:"storage_ratio"`
	QueryP95Ms                 map[string]float64 `json:"query_p95_ms"`
	RenderWarmP50Timeline20    *float64           `json:"render_warm_p50_ms_timeline20"`
	RenderWarmP50Leaderboard50 *float64           `json:"render_warm_p50_ms_leaderboard50"`
	AckP99Ms                   *float64           `json:"ack_p99_ms"`
	ReplyP95Ms                 *float64           `json:"reply_p95_ms"`
	BotRSSMB1000               *float64           `json:"bot_rss_mb_1000"`
	// TickP99MsWhilePostsFail is figure 7's tick p99 while the posts fail,
	// TickP99MsNothingFailing the same with nothing failing.
	TickP99MsWhilePostsFail *float64 `json:"tick_p99_ms_while_posts_fail"`
	TickP99MsNothingFailing *float64 `json:"tick_p99_ms_nothing_failing"`
	AbsentAllTimePeakHeapMB *float64 `json:"absent_all_time_peak_heap_mb"`
	// QueryP95MsAllTime is figure 9's p95 of the all-time commands on its
	// longest history.
	QueryP95MsAllTime map[string]float64 `json:"query_p95_ms_all_time"`

	Ingest       []IngestRow   `json:"ingest"`
	Storage      *Storage      `json:"storage"`
	Queries      []QueryRow    `json:"queries"`
	Render       *Render       `json:"render"`
	Interactions *Interactions `json:"interactions"`
	Footprint    *Footprint    `json:"footprint"`
	PostsFailing *PostsFailing `json:"posts_failing"`
	AbsentHeap   *AbsentHeap   `json:"absent_heap"`
	Growth       *Growth       `json:"growth"`
	Shards       *Shards       `json:"shards_100k"`
	Targets      []Target      `json:"targets"`
	Errors       []string      `json:"errors"`

	cfg Config
}

// Machine is where the figures were measured.
type Machine struct {
	CPU      string  `json:"cpu"`
	Cores    int     `json:"cores"`
	MemoryGB float64 `json:"memory_gb"`
	Kernel   string  `json:"kernel"`
	Go       string  `json:"go"`
	Postgres string  `json:"postgres"`
	Chromium string  `json:"chromium"`
	// LoadStart and LoadEnd are /proc/loadavg's 1-minute figure when the
	// run began and ended: other work on the machine skews absolute times.
	LoadStart float64 `json:"load_avg_start"`
	LoadEnd   float64 `json:"load_avg_end"`
}

// Dist summarises timings in milliseconds.
type Dist struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50_ms"`
	P95 float64 `json:"p95_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

func distOf(ds []time.Duration) Dist {
	if len(ds) == 0 {
		return Dist{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	// Nearest rank: p95 of 20 samples is the 19th, never an interpolation
	// below a value actually seen.
	rank := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return ms(s[max(0, min(i, len(s)-1))])
	}
	return Dist{N: len(s), P50: rank(0.50), P95: rank(0.95), P99: rank(0.99), Max: ms(s[len(s)-1])}
}

func ms(d time.Duration) float64 { return round3(float64(d) / float64(time.Millisecond)) }

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

func ptr[T any](v T) *T { return &v }

// Target is one of issue #7's targets and whether this run met it.
type Target struct {
	Figure   int    `json:"figure"`
	What     string `json:"what"`
	Target   string `json:"target"`
	Measured string `json:"measured"`
	Met      *bool  `json:"met"` // null: not measured
	Note     string `json:"note,omitempty"`
}

func newResults(cfg Config) *Results {
	return &Results{GeneratedAt: time.Now().UTC().Format(time.RFC3339), QueryP95Ms: map[string]float64{}, QueryP95MsAllTime: map[string]float64{}, cfg: cfg}
}

// JSON is results.json.
func (r *Results) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// finish fills the headline fields and judges the targets.
func (r *Results) finish(took time.Duration) {
	r.DurationS = math.Round(took.Seconds()*10) / 10
	r.Machine.LoadEnd = loadAvg()
	if r.Interactions == nil {
		r.Interactions = &Interactions{Measured: false, Note: "not run"}
	}
	judge := func(fig int, what, target string, measured *float64, unit string, ok func(float64) bool, note string) {
		t := Target{Figure: fig, What: what, Target: target, Note: note, Measured: "not measured"}
		if measured != nil {
			t.Measured = fmt.Sprintf("%s%s", fmtNum(*measured), unit)
			t.Met = ptr(ok(*measured))
		}
		r.Targets = append(r.Targets, t)
	}
	row := func(n int) *IngestRow {
		for i := range r.Ingest {
			if r.Ingest[i].Present == n {
				return &r.Ingest[i]
			}
		}
		return nil
	}
	if x := row(1000); x != nil {
		r.IngestRatioAt1000 = ptr(x.RatioNewMinute)
		r.IngestRatioAt1000PerMinute = ptr(x.RatioPerMinute)
	}
	if x := row(10000); x != nil {
		r.IngestMsAt10000NewMinute = ptr(x.OursTickNew.P50)
	}
	if len(r.Ingest) > 0 {
		worst := 0
		for _, x := range r.Ingest {
			worst = max(worst, x.OursStmtsOtherMax)
		}
		r.StatementsOnSameMinuteTick = &worst
	}
	ingestNote := ""
	if x := row(1000); x != nil {
		ingestNote = fmt.Sprintf("rollcall's tick is %s ms, of which the bare store.Record (one attendance_log row holding every member) is %s ms; "+
			"the baseline's %d statements take %s ms. The other 11 ticks of the minute cost rollcall %s ms each and no statement: "+
			"reading 1,000 voice states from disgo's cache and checking each against what was written, "+
			"so over a whole minute of polling rollcall is %s× faster.",
			fmtNum(x.OursTickNew.P50), fmtNum(x.OursRecordNew.P50), x.BaseStmtsNew, fmtNum(x.BaseNew.P50), fmtNum(x.OursTickOther.P50), fmtNum(x.RatioPerMinute))
	}
	judge(1, "ingest: baseline ÷ rollcall, first tick of a minute, 1,000 present", "≥ 20×", r.IngestRatioAt1000, "×",
		func(v float64) bool { return v >= 20 }, ingestNote)
	judge(1, "ingest: baseline ÷ rollcall, a whole minute of polling (12 ticks), 1,000 present", "≥ 100×", r.IngestRatioAt1000PerMinute, "×",
		func(v float64) bool { return v >= 100 }, "")
	var stmts *float64
	if r.StatementsOnSameMinuteTick != nil {
		stmts = ptr(float64(*r.StatementsOnSameMinuteTick))
	}
	judge(1, "ingest: statements on a tick that sees no new minute (worst over all sizes)", "0", stmts, "",
		func(v float64) bool { return v == 0 }, "")
	note10k := ""
	if x := row(10000); x != nil {
		note10k = fmt.Sprintf("median bot.Tick; the bare store.Record of the same 10,000 samples is %s ms, and a tick that only reads disgo's cache is %s ms",
			fmtNum(x.OursRecordNew.P50), fmtNum(x.OursTickOther.P50))
	}
	judge(1, "ingest: 10,000 present, first tick of a minute", "≤ 100 ms", r.IngestMsAt10000NewMinute, " ms",
		func(v float64) bool { return v <= 100 }, note10k)
	if r.Storage != nil {
		r.StorageRatio = ptr(r.Storage.Ratio)
	}
	judge(2, "storage: rollcall ÷ baseline bytes per member-event, one year", "≤ 0.5", r.StorageRatio, "",
		func(v float64) bool { return v <= 0.5 }, storageNote(r.Storage))
	for _, q := range r.Queries {
		r.QueryP95Ms[q.Command] = q.Dist.P95
		why := "the rest is judging the events in Go (package report)"
		if q.DBP50 > q.Dist.P50/2 {
			why = "most of the time is in PostgreSQL"
		}
		judge(3, "query p95: "+q.Command, "≤ 20 ms", ptr(q.Dist.P95), " ms", func(v float64) bool { return v <= 20 },
			fmt.Sprintf("%s; of the %s ms median, %s ms is SQL: %s. See bench/README.md.", q.What, fmtNum(q.Dist.P50), fmtNum(q.DBP50), why))
	}
	if r.Render != nil {
		r.RenderWarmP50Timeline20 = ptr(r.Render.Timeline20.P50)
		r.RenderWarmP50Leaderboard50 = ptr(r.Render.Leaderboard50.P50)
	}
	judge(4, "render: warm p50, 20-member timeline", "≤ 80 ms", r.RenderWarmP50Timeline20, " ms",
		func(v float64) bool { return v <= 80 }, fmt.Sprintf("Chromium shares the 2 cores with Postgres and the bench; the 1-minute load average was %s at the start and %s at the end of the run "+
			"(rendering.md measured 55 ms for this chart on an idle machine of this kind)", fmtNum(r.Machine.LoadStart), fmtNum(r.Machine.LoadEnd)))
	if in := r.Interactions; in != nil && in.Measured {
		r.AckP99Ms = ptr(in.AckP99)
		r.ReplyP95Ms = ptr(in.ReplyP95)
	}
	note, replyNote := "", ""
	if in := r.Interactions; in != nil && !in.Measured {
		note, replyNote = in.Note, in.Note
	} else if in != nil && in.Sequential != nil {
		replyNote = fmt.Sprintf("one command at a time the p95 is %s ms; with %d in flight the browser's single tab draws one chart at a time, "+
			"so the last waits for the others (a second tab did not add throughput on 2 cores, figure 4)", fmtNum(in.Sequential.Reply.P95), r.cfg.InFlight)
	}
	judge(5, "interactions: INTERACTION_CREATE → deferral, p99", "≤ 50 ms", r.AckP99Ms, " ms",
		func(v float64) bool { return v <= 50 }, note)
	judge(5, "interactions: INTERACTION_CREATE → final image, p95 (warm browser)", "≤ 1,000 ms", r.ReplyP95Ms, " ms",
		func(v float64) bool { return v <= 1000 }, replyNote)
	if f := r.Footprint; f != nil {
		r.BotRSSMB1000 = ptr(f.PeakRSSMB)
	}
	judge(6, "bot RSS while recording 1,000 present (peak, without Chromium)", "< 100 MB", r.BotRSSMB1000, " MB",
		func(v float64) bool { return v < 100 }, "")
	var ratio *float64
	failNote := ""
	if f := r.PostsFailing; f != nil {
		r.TickP99MsWhilePostsFail, r.TickP99MsNothingFailing = ptr(f.Failing.P99), ptr(f.Quiet.P99)
		ratio = ptr(f.P99Ratio)
		failNote = fmt.Sprintf("tick p99 %s ms while %d post jobs failed (%d attempts refused), %s ms with nothing failing",
			fmtNum(f.Failing.P99), f.Jobs, f.FailedAttempts, fmtNum(f.Quiet.P99))
	}
	judge(7, fmt.Sprintf("tick p99 at %s present while %d post jobs fail ÷ with nothing failing", thousands(r.cfg.FailingPresent), r.cfg.FailingJobs),
		"≤ 2×", ratio, "×", func(v float64) bool { return v <= 2 }, failNote)
	heapNote := ""
	if a := r.AbsentHeap; a != nil {
		r.AbsentAllTimePeakHeapMB = ptr(a.PeakMB)
		heapNote = fmt.Sprintf("%s events, %s attendance rows; the live heap was %s MB before; each report took %s ms (p50)",
			thousands(a.Events), thousands(int(a.Rows)), fmtNum(a.BeforeMB), fmtNum(a.Took.P50))
	}
	judge(8, fmt.Sprintf("peak heap of three concurrent /absent period:all over %s days of %d members", thousands(r.cfg.AbsentDays), r.cfg.AbsentMembers),
		"≤ 100 MB", r.AbsentAllTimePeakHeapMB, " MB", func(v float64) bool { return v <= 100 }, heapNote)
	var longest *GrowthHistory
	if g := r.Growth; g != nil && len(g.Histories) > 0 {
		longest = &g.Histories[len(g.Histories)-1]
	}
	for _, cmd := range []string{"/absent period:all", "/member period:all"} {
		var p95 *float64
		note := ""
		if longest != nil {
			for _, q := range longest.Queries {
				if q.Command == cmd {
					p95 = ptr(q.Dist.P95)
					r.QueryP95MsAllTime[cmd] = q.Dist.P95
					note = fmt.Sprintf("%s events, %s attendance rows; of the %s ms median, %s ms is SQL", thousands(longest.Events),
						thousands(int(longest.Rows)), fmtNum(q.Dist.P50), fmtNum(q.DBP50))
				}
			}
		}
		days := 0
		if n := len(r.cfg.GrowthDays); n > 0 {
			days = r.cfg.GrowthDays[n-1]
		}
		judge(9, fmt.Sprintf("query p95: %s over %s days of %d members", cmd, thousands(days), r.cfg.GrowthMembers), "≤ 200 ms", p95, " ms",
			func(v float64) bool { return v <= 200 }, note)
	}
	var over, lost *float64
	shardNote := ""
	if sh := r.Shards; sh != nil {
		n := 0
		var rss []string
		for _, p := range sh.Processes {
			n += p.WritesOver1s
			rss = append(rss, fmt.Sprintf("%s MB", fmtNum(p.PeakRSSMB)))
		}
		over, lost = ptr(float64(n)), ptr(float64(sh.MinutesLost))
		shardNote = fmt.Sprintf("peak RSS per process (VmHWM, without Chromium): %s", strings.Join(rss, ", "))
	}
	what := fmt.Sprintf("%s present in %d guilds, %d processes, %d shards", thousands(r.cfg.ShardPresent), r.cfg.ShardGuilds, r.cfg.ShardProcs, r.cfg.ShardCount)
	judge(10, what+": writes longer than 1 s, any process", "0", over, "", func(v float64) bool { return v == 0 }, shardNote)
	judge(10, what+": member-minutes lost", "0", lost, "", func(v float64) bool { return v == 0 }, "")
}

func storageNote(s *Storage) string {
	if s == nil {
		return ""
	}
	if s.TotalsAgree {
		att := ""
		for _, t := range s.Ours {
			if t.Table == "attendance" && t.Rows > 0 {
				att = fmt.Sprintf(" rollcall's attendance rows are %s bytes each with %s bytes of indexes (the primary key); "+
					"each carries four voice-state masks besides the present one (NULL when empty), so rules about muting can be changed and history recomputed, which the baseline cannot do.",
					fmtNum(float64(t.Bytes-t.IndexBytes)/float64(t.Rows)), fmtNum(float64(t.IndexBytes)/float64(t.Rows)))
			}
		}
		return fmt.Sprintf("attended minutes agree: %d on both sides.%s", s.OursMinutes, att)
	}
	return fmt.Sprintf("TOTALS DISAGREE: rollcall %d minutes, baseline %d", s.OursMinutes, s.BaseMinutes)
}

func fmtNum(v float64) string {
	switch {
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}
