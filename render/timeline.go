package render

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
)

// Colours and sizes shared by the charts. Tests sample these colours in the PNGs.
const (
	colorPresent = "#2f6fdb" // present minutes, bars
	colorMuted   = "#a7c2f2" // present but self-muted/deafened
	colorDeaf    = "#8e7cc3" // present but deafened (a one-member timeline)
	colorAdded   = "#2f9e44" // added by a moderator's correction
	colorRemoved = "#e03131" // removed by a moderator's correction
	colorUnknown = "#ced4da" // not recorded: the bot was not sampling
	colorAbsent  = "#eef0f3" // absent, where a chart shows it (ShowAbsent)
	colorAccent  = "#f08c00" // highlighted bar
	colorText    = "#1f2937"
	colorSubtext = "#6b7280"
	colorAxis    = "#4b5563"
	colorGrid    = "#e5e7eb"

	chartWidth = 1100
	fontFamily = "'DejaVu Sans', 'Noto Sans', Arial, sans-serif, 'Noto Color Emoji'"
)

// timelineRenderItem draws one run of consecutive minutes [value0, value1) of row value2 as a
// rounded bar filling 64 % of the row, so adjacent rows stay visibly apart. ECharts has no series
// type for "intervals on a category row" (a heatmap fills whole cells and needs a visualMap), so
// this is a custom series; go-echarts carries the function as a types.FuncStr.
const timelineRenderItem = `function (params, api) {
	var row = api.value(2);
	var a = api.coord([api.value(0), row]);
	var b = api.coord([api.value(1), row]);
	var h = api.size([0, 1])[1] * 0.64;
	var cs = params.coordSys;
	var rect = echarts.graphic.clipRectByRect(
		{x: a[0], y: a[1] - h / 2, width: Math.max(b[0] - a[0], 1), height: h},
		{x: cs.x, y: cs.y, width: cs.width, height: cs.height});
	if (!rect) return null;
	rect.r = Math.min(3, rect.width / 2);
	return {type: 'rect', shape: rect, style: api.style()};
}`

// timelineRows picks the row height so a short event stays airy and a big one stays compact.
func timelineRowHeight(rows int) int {
	switch {
	case rows <= 30:
		return 28
	case rows <= 80:
		return 22
	default:
		return 18
	}
}

// timelineStep is the label interval in minutes: the smallest nice step giving at most 8 labels.
func timelineStep(minutes int) int {
	for _, s := range []int{5, 15, 30, 60, 120, 180, 240} {
		if minutes/s <= 8 {
			return s
		}
	}
	return 360
}

// state is what a minute (or a grouped cell) of a timeline row shows.
type state int

const (
	absent state = iota
	present
	muted
	deafened
	added
	removed
	notRecorded
	states
)

// presentLike are the states of a member in the channel.
func (s state) presentLike() bool { return s >= present && s <= added }

// minuteState is one minute of a row: a moderator's correction wins over what was recorded,
// deafened over muted, and "not recorded" shows only where the member is not present.
func minuteState(row TimelineRow, m int) state {
	at := func(b []bool) bool { return m < len(b) && b[m] }
	switch {
	case at(row.Added):
		return added
	case at(row.Removed):
		return removed
	case at(row.Present) && at(row.Deafened):
		return deafened
	case at(row.Present) && at(row.Muted):
		return muted
	case at(row.Present):
		return present
	case at(row.NotRecorded):
		return notRecorded
	}
	return absent
}

// cellState is the state of minutes [from, to) of a row drawn as one cell: present (in its most
// frequent present state, earlier states winning ties) when at least half the minutes are,
// else the most frequent other state, absent winning ties.
func cellState(row TimelineRow, from, to int) state {
	var n [states]int
	for m := from; m < to; m++ {
		n[minuteState(row, m)]++
	}
	in := n[present] + n[muted] + n[deafened] + n[added]
	best := absent
	if in > 0 && in*2 >= to-from {
		best = present
		for s := present; s <= added; s++ {
			if n[s] > n[best] {
				best = s
			}
		}
		return best
	}
	for _, s := range []state{removed, notRecorded} {
		if n[s] > n[best] {
			best = s
		}
	}
	return best
}

// run is a stretch of consecutive minutes [from, to) of one row in one state.
type run struct{ from, to, row int }

// maxRuns bounds the shapes of one timeline. A custom-series shape costs about 0.3 ms to draw,
// so a pathological chart (200 rows flapping every few minutes for a whole day: 13,500 runs)
// took 5 s; past this budget the minutes are grouped into coarser steps (see timelineRuns).
const maxRuns = 2500

// timelineRuns splits the rows into runs of minutes in each drawn state. Drawing runs rather
// than one cell per minute keeps a typical timeline to a few dozen shapes. When the runs exceed
// maxRuns, minutes are grouped into steps of `step` minutes (see cellState); step is 1 when no
// grouping was needed.
func timelineRuns(c TimelineChart) (runs [states][]run, step int) {
	for _, step = range []int{1, 2, 3, 5, 10, 15, 30, 60} {
		runs = timelineRunsStep(c, step)
		n := 0
		for _, r := range runs {
			n += len(r)
		}
		if n <= maxRuns {
			break
		}
	}
	return runs, step
}

func timelineRunsStep(c TimelineChart, step int) (runs [states][]run) {
	cells := (c.Minutes + step - 1) / step
	for i, row := range c.Rows {
		st := func(cell int) state { return cellState(row, cell*step, min((cell+1)*step, c.Minutes)) }
		for cell := 0; cell < cells; {
			s := st(cell)
			end := cell + 1
			for end < cells && st(end) == s {
				end++
			}
			if s != absent || c.ShowAbsent {
				runs[s] = append(runs[s], run{cell * step, min(end*step, c.Minutes), i})
			}
			cell = end
		}
	}
	return runs
}

// presentMinutes counts a row's present minutes within the chart.
func presentMinutes(row TimelineRow, minutes int) int {
	n := 0
	for m := 0; m < minutes && m < len(row.Present); m++ {
		if row.Present[m] {
			n++
		}
	}
	return n
}

func validateTimeline(c TimelineChart) error {
	if c.Minutes < 1 || c.Minutes > 1440 {
		return fmt.Errorf("render timeline: minutes %d out of range 1..1440", c.Minutes)
	}
	if c.Start.IsZero() {
		return fmt.Errorf("render timeline: zero start time")
	}
	return nil
}

// timelineOption builds the ECharts option of a timeline with go-echarts.
func timelineOption(c TimelineChart) (chartSpec, error) {
	if err := validateTimeline(c); err != nil {
		return chartSpec{}, err
	}
	l := c.Labels.withDefaults()
	subtitle := c.Subtitle
	if len(c.Rows) > MaxTimelineRows {
		subtitle = joinLines(subtitle, fmt.Sprintf(l.FirstOf, MaxTimelineRows, len(c.Rows)))
		c.Rows = c.Rows[:MaxTimelineRows]
	}
	rows := len(c.Rows)
	if rows == 0 {
		// An empty chart still renders (axes and title); one blank row keeps the grid sane.
		c.Rows = []TimelineRow{{Name: ""}}
		rows = 1
	}

	// The x axis counts minutes from the last wall-clock multiple of the label step before the
	// start, so labels fall on 16:00, 16:15 ... even for an event starting at 16:07. Labels are
	// computed here with Start.Add, which is right across a DST change, and looked up by the
	// formatter; ECharts never sees a time zone.
	step := timelineStep(c.Minutes)
	offset := (c.Start.Hour()*60 + c.Start.Minute()) % step
	labels := map[string]string{}
	for v := ((offset + step - 1) / step) * step; v <= offset+c.Minutes; v += step {
		labels[strconv.Itoa(v)] = c.Start.Add(timeMinutes(v - offset)).Format("15:04")
	}
	if len(labels) < 2 {
		// A few minutes off the step grid: label the start and the end instead (ECharts puts
		// ticks on a fixed min and max).
		labels[strconv.Itoa(offset)] = c.Start.Format("15:04")
		labels[strconv.Itoa(offset+c.Minutes)] = c.Start.Add(timeMinutes(c.Minutes)).Format("15:04")
	}
	labelJSON, err := json.Marshal(labels)
	if err != nil {
		return chartSpec{}, err
	}
	formatter := fmt.Sprintf("function (v) { var L = %s; return L[String(v)] || ''; }", labelJSON)

	runs, grouped := timelineRuns(c)
	if grouped > 1 {
		subtitle = joinLines(subtitle, fmt.Sprintf(l.Grouped, grouped))
	}
	names := make([]string, rows)
	totals := make([]string, rows)
	for i, row := range c.Rows {
		names[i] = chartText(row.Name)
		totals[i] = strconv.Itoa(presentMinutes(row, c.Minutes))
	}

	// containLabel makes room for the names but not for the column heading above them; when the
	// names are shorter than the heading, widen the left margin (about 7.5 px a character).
	longest := 0
	for _, n := range names {
		longest = max(longest, displayWidth(n))
	}
	left := max(20, int(7.5*float64(displayWidth(l.Participants)-min(longest, 30)))+20)

	// Present is always in the legend; every other state only when some minute shows it.
	type entry struct {
		state       state
		name, color string
	}
	series := []entry{{present, l.Present, colorPresent}, {muted, l.Muted, colorMuted}, {deafened, l.Deafened, colorDeaf},
		{added, l.Added, colorAdded}, {removed, l.Removed, colorRemoved}, {notRecorded, l.NotRecorded, colorUnknown},
		{absent, l.Absent, colorAbsent}}
	series = slices.DeleteFunc(series, func(s entry) bool { return len(runs[s.state]) == 0 && s.state != present })

	rowH := timelineRowHeight(rows)
	// The axis names sit in the 30 px above the plot; the legend needs the first 44 px, right of
	// the title. A legend too wide for that (a member's timeline names every state) gets a line
	// of its own under the title. Widths are estimated: 12 px a character of the 20 px bold
	// title, 7.5 of the 13 px legend, plus each entry's swatch and gaps.
	legendW := 0
	for _, s := range series {
		legendW += 18 + 5 + int(7.5*float64(displayWidth(s.name))) + 10
	}
	titleW := 0
	for _, line := range strings.Split(c.Title, "\n") {
		titleW = max(titleW, 12*displayWidth(line))
	}
	legend := opts.Legend{Show: opts.Bool(true), Right: "24", Top: "18", ItemWidth: 18, ItemHeight: 12,
		TextStyle: &opts.TextStyle{Color: colorAxis, FontSize: 13, FontFamily: fontFamily}}
	top := max(titleHeight(c.Title, subtitle), 44) + 30
	if 20+titleW+24+legendW+24 > chartWidth {
		legend.Right, legend.Left, legend.Top = "", "20", strconv.Itoa(titleHeight(c.Title, subtitle)+4)
		top = titleHeight(c.Title, subtitle) + 28 + 30
	}
	bottom := 54
	height := top + rows*rowH + bottom

	ch := charts.NewCustom()
	ch.SetGlobalOptions(
		charts.WithInitializationOpts(opts.Initialization{Width: px(chartWidth), Height: px(height),
			BackgroundColor: "#ffffff"}),
		charts.WithAnimation(false),
		charts.WithTitleOpts(titleOpts(c.Title, subtitle)),
		charts.WithLegendOpts(legend),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(false)}),
		charts.WithGridOpts(opts.Grid{Left: strconv.Itoa(left), Right: "24", Top: strconv.Itoa(top),
			Bottom: "28", ContainLabel: opts.Bool(true)}),
		charts.WithXAxisOpts(opts.XAxis{
			Type: "value", Min: offset, Max: offset + c.Minutes,
			Name: l.Time, NameLocation: "middle", NameGap: 28,
			// Both bounds pin the tick interval to step; opts.AxisLabel.Interval would reach
			// ECharts as a string, which breaks the labels (rendering.md).
			MinInterval: float64(step), MaxInterval: float64(step),
			AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), Formatter: opts.FuncOpts(formatter),
				Color: colorAxis, FontSize: 13, FontFamily: fontFamily, HideOverlap: opts.Bool(true)},
			AxisLine:  &opts.AxisLine{Show: opts.Bool(true), LineStyle: &opts.LineStyle{Color: "#9ca3af"}},
			AxisTick:  &opts.AxisTick{Show: opts.Bool(true), LineStyle: &opts.LineStyle{Color: "#9ca3af"}},
			SplitLine: &opts.SplitLine{Show: opts.Bool(true), LineStyle: &opts.LineStyle{Color: colorGrid, Type: "dashed"}},
		}),
		charts.WithYAxisOpts(opts.YAxis{
			Type: "category", Data: names, Inverse: opts.Bool(true),
			Name: l.Participants, NameLocation: "start", NameGap: 10,
			AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), Color: colorText, FontSize: 13,
				FontFamily: fontFamily, Width: 220, Overflow: "truncate"},
			AxisLine:  &opts.AxisLine{Show: opts.Bool(false)},
			SplitLine: &opts.SplitLine{Show: opts.Bool(true), LineStyle: &opts.LineStyle{Color: "#f0f1f4"}},
		}),
	)
	// The right-hand axis lists each row's present minutes.
	ch.ExtendYAxis(opts.YAxis{
		Type: "category", Data: totals, Inverse: opts.Bool(true), Position: "right",
		Name: l.Minutes, NameLocation: "start", NameGap: 10,
		AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), Color: colorAxis, FontSize: 13,
			FontFamily: fontFamily, Align: "right", Margin: 44},
		AxisLine: &opts.AxisLine{Show: opts.Bool(false)},
	})

	for _, s := range series {
		data := make([]opts.CustomData, len(runs[s.state]))
		for i, r := range runs[s.state] {
			data[i] = opts.CustomData{Value: [3]int{offset + r.from, offset + r.to, r.row}}
		}
		ch.AddSeries(s.name, data,
			charts.WithCustomChartOpts(opts.CustomChart{RenderItem: opts.FuncOpts(timelineRenderItem)}),
			charts.WithEncodeOpts(opts.Encode{X: []int{0, 1}, Y: 2}),
			charts.WithItemStyleOpts(opts.ItemStyle{Color: s.color}),
		)
	}
	option, err := finish(ch)
	if err != nil {
		return chartSpec{}, err
	}
	// go-echarts' YAxis has no nameTextStyle: right-align the name column's heading over the
	// names (centred on the axis line it is cut off when the names are short).
	if y, ok := option["yAxis"].([]any); ok && len(y) > 0 {
		if axis, ok := y[0].(map[string]any); ok {
			axis["nameTextStyle"] = map[string]any{"align": "right", "color": colorSubtext}
		}
		if axis, ok := y[len(y)-1].(map[string]any); ok && len(y) > 1 {
			axis["nameTextStyle"] = map[string]any{"color": colorSubtext}
		}
	}
	return chartSpec{option: option, width: chartWidth, height: height, plotTop: top}, nil
}
