package render

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"log/slog"
	"time"
)

// TimelineChart is one row per participant and one column per minute of the event, present
// minutes filled. Used for post-event reports and /event.
type TimelineChart struct {
	Title, Subtitle string
	// Start is the event's local start (already in the guild's zone); x labels are local HH:MM.
	Start time.Time
	// Minutes is the number of columns (1..1440).
	Minutes int
	// Rows are drawn top to bottom in this order.
	Rows   []TimelineRow
	Labels Labels
	// ShowAbsent draws absent minutes too, in a faint shade with a legend entry: one member's
	// timeline accounts for every minute.
	ShowAbsent bool
}

// TimelineRow is one participant of a TimelineChart. Each slice has one entry per minute (len
// Minutes); shorter slices count as false. Every state that occurs gets its colour and a legend
// entry; see minuteState for which wins when several are set.
type TimelineRow struct {
	Name string
	// Present marks the minutes the member was in the channel (moderators' corrections applied).
	Present []bool
	// Muted optionally marks minutes present but muted (or, when Deafened is not given, muted or
	// deafened), drawn in a lighter shade; Deafened minutes present but deafened.
	Muted, Deafened []bool
	// Added marks minutes a moderator added (present), Removed minutes a moderator removed (not
	// present); NotRecorded minutes the bot was not sampling.
	Added, Removed, NotRecorded []bool
}

// BarChart is horizontal bars, e.g. the weekly leaderboard (name -> total minutes) or one
// member's minutes per event.
type BarChart struct {
	Title, Subtitle string
	// Bars are drawn top to bottom in this order. With more than MaxBars, only the MaxBars
	// highest values are drawn (sorted, highest first) and a "top 50 of N" subtitle line is added;
	// the caller attaches the full list (CSV).
	Bars []Bar
	// ValueLabel names the value axis, e.g. "minutes"; default Labels.Minutes.
	ValueLabel string
	Labels     Labels
}

// Bar is one bar of a BarChart. Highlight draws it in the accent colour (e.g. the caller), with
// a legend entry (Labels.You) saying whose it is.
type Bar struct {
	Label string
	Value float64
	// Text, when set, is written beside the bar instead of its value, e.g. "3 of 13" where the
	// bar's length alone would compare counts of different totals. Drawn as plain text.
	Text      string
	Highlight bool
}

// Labels are the localized strings drawn on charts. Empty fields take the English defaults.
type Labels struct {
	// Minutes names minute counts (the timeline's totals column, the bars' default value axis),
	// Participants the timeline's name column, Time the timeline's time axis.
	Minutes, Participants, Time string
	// Present, Muted, Deafened, Added, Removed and NotRecorded name a timeline's states in its
	// legend; Partly marks a text table cell present for part of its minutes.
	Present, Muted, Deafened, Added, Removed, NotRecorded, Absent, Partly string
	// TopOf formats the cap line of a long chart, with the shown and the total count,
	// default "top %d of %d". FirstOf is the same for timelines (kept in order, not ranked),
	// default "first %d of %d".
	TopOf, FirstOf string
	// Grouped notes a timeline too busy to draw minute by minute, with the step in minutes,
	// default "drawn in %d-minute steps".
	Grouped string
	// You names the highlighted bar in a bar chart's legend (the member who asked), default "you".
	You string
}

func (l Labels) withDefaults() Labels {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&l.Minutes, "minutes")
	def(&l.Participants, "participants")
	def(&l.Time, "time")
	def(&l.Present, "present")
	def(&l.Muted, "muted / deafened")
	def(&l.Deafened, "deafened")
	def(&l.Added, "added by a moderator")
	def(&l.Removed, "removed by a moderator")
	def(&l.NotRecorded, "not recorded")
	def(&l.Absent, "absent")
	def(&l.Partly, "partly")
	def(&l.TopOf, "top %d of %d")
	def(&l.FirstOf, "first %d of %d")
	def(&l.Grouped, "drawn in %d-minute steps")
	def(&l.You, "you")
	return l
}

const (
	// MaxBars caps a bar chart; see BarChart.Bars.
	MaxBars = 50
	// MaxTimelineRows caps a timeline; more rows are cut with a "first N of M" line.
	MaxTimelineRows = 200
	// maxPNG is Discord-friendly and what the callers promise; larger PNGs are recompressed.
	maxPNG = 1 << 20
)

// Timeline renders c as a PNG.
func (r *Renderer) Timeline(ctx context.Context, c TimelineChart) ([]byte, error) {
	spec, err := timelineOption(c)
	if err != nil {
		return nil, err
	}
	return r.draw(ctx, "timeline", spec)
}

// Bars renders c as a PNG.
func (r *Renderer) Bars(ctx context.Context, c BarChart) ([]byte, error) {
	spec, err := barsOption(c)
	if err != nil {
		return nil, err
	}
	return r.draw(ctx, "bars", spec)
}

// chartSpec is a chart ready for the page: the ECharts option (from go-echarts) and the size.
type chartSpec struct {
	option        map[string]any
	width, height int
	plotTop       int // y of the plot area's top edge, for tests
}

func (r *Renderer) draw(ctx context.Context, kind string, spec chartSpec) ([]byte, error) {
	start := time.Now()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(spec.option); err != nil {
		return nil, fmt.Errorf("render %s: marshal option: %w", kind, err)
	}
	out, err := r.render(ctx, bytes.TrimSpace(buf.Bytes()), spec.width, spec.height)
	if err != nil {
		r.log.Warn("render failed", slog.String("chart", kind), slog.Duration("took", time.Since(start)),
			slog.Any("error", err))
		return nil, fmt.Errorf("render %s: %w", kind, err)
	}
	if len(out) > maxPNG {
		// Chromium's PNG encoder favours speed; Go's best compression usually wins 20-40 %.
		if smaller, err := recompress(out); err == nil && len(smaller) < len(out) {
			out = smaller
		}
		if len(out) > maxPNG {
			r.log.Warn("chart PNG over 1 MB", slog.String("chart", kind), slog.Int("bytes", len(out)))
		}
	}
	r.log.Debug("rendered", slog.String("chart", kind), slog.Int("bytes", len(out)),
		slog.Duration("took", time.Since(start)))
	return out, nil
}

func recompress(b []byte) ([]byte, error) {
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
