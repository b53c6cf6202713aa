package render

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
)

// capBars returns the bars to draw and the cap line for the subtitle ("" when not capped).
func capBars(c BarChart, l Labels) ([]Bar, string) {
	if len(c.Bars) <= MaxBars {
		return c.Bars, ""
	}
	bars := slices.Clone(c.Bars)
	slices.SortStableFunc(bars, func(a, b Bar) int {
		switch {
		case a.Value > b.Value:
			return -1
		case a.Value < b.Value:
			return 1
		}
		return 0
	})
	return bars[:MaxBars], fmt.Sprintf(l.TopOf, MaxBars, len(c.Bars))
}

// barsOption builds the ECharts option of a horizontal bar chart with go-echarts.
func barsOption(c BarChart) (chartSpec, error) {
	l := c.Labels.withDefaults()
	valueLabel := c.ValueLabel
	if valueLabel == "" {
		valueLabel = l.Minutes
	}
	bars, capLine := capBars(c, l)
	subtitle := joinLines(c.Subtitle, capLine)
	n := max(len(bars), 1)

	// The highlighted bars are a series of their own, stacked onto the same category slots as
	// the others, so that the legend can name them ("you"): ECharts' legend lists series, not
	// data items. Each slot holds a value in exactly one of the two series ("-" is ECharts'
	// empty value), so every bar keeps the full row width.
	names := make([]string, len(bars))
	data := make([]opts.BarData, len(bars))
	mine := make([]opts.BarData, len(bars))
	highlighted := false
	for i, b := range bars {
		if math.IsNaN(b.Value) || math.IsInf(b.Value, 0) {
			return chartSpec{}, fmt.Errorf("render bars: bar %q has value %v", b.Label, b.Value)
		}
		names[i] = chartText(b.Label)
		d := opts.BarData{Value: b.Value}
		if b.Text != "" {
			d.Label = &opts.Label{Formatter: labelText(b.Text)}
		}
		data[i], mine[i] = d, opts.BarData{Value: "-"}
		if b.Highlight {
			data[i], mine[i] = opts.BarData{Value: "-"}, d
			highlighted = true
		}
	}

	const rowH = 24
	top := titleHeight(c.Title, subtitle) + 12
	if highlighted {
		// The legend sits top right, level with the title; a long title wraps nothing, so
		// leave room under it only when the title block is shorter than the legend.
		top = max(top, legendTop+legendHeight+12)
	}
	bottom := 56
	height := top + n*rowH + bottom

	legend := opts.Legend{Show: opts.Bool(false)}
	if highlighted {
		legend = opts.Legend{Show: opts.Bool(true), Right: "24", Top: strconv.Itoa(legendTop),
			ItemWidth: 18, ItemHeight: 12, Data: []string{chartText(l.You)},
			TextStyle: &opts.TextStyle{Color: colorAxis, FontSize: 13, FontFamily: fontFamily}}
	}
	ch := charts.NewBar()
	ch.SetGlobalOptions(
		charts.WithInitializationOpts(opts.Initialization{Width: px(chartWidth), Height: px(height),
			BackgroundColor: "#ffffff"}),
		charts.WithAnimation(false),
		charts.WithTitleOpts(titleOpts(c.Title, subtitle)),
		charts.WithLegendOpts(legend),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(false)}),
		charts.WithGridOpts(opts.Grid{Left: "20", Right: "64", Top: strconv.Itoa(top),
			Bottom: "30", ContainLabel: opts.Bool(true)}),
		charts.WithXAxisOpts(opts.XAxis{
			Type: "value", Name: valueLabel, NameLocation: "middle", NameGap: 30,
			AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), Color: colorAxis, FontSize: 13, FontFamily: fontFamily},
			SplitLine: &opts.SplitLine{Show: opts.Bool(true), LineStyle: &opts.LineStyle{Color: colorGrid, Type: "dashed"}},
		}),
		charts.WithYAxisOpts(opts.YAxis{
			Type: "category", Inverse: opts.Bool(true),
			AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), Color: colorText, FontSize: 13,
				FontFamily: fontFamily, Width: 260, Overflow: "truncate"},
			AxisLine: &opts.AxisLine{Show: opts.Bool(true), LineStyle: &opts.LineStyle{Color: "#9ca3af"}},
		}),
	)
	ch.SetXAxis(names).XYReversal()
	ch.AddSeries(chartText(valueLabel), data,
		charts.WithItemStyleOpts(opts.ItemStyle{Color: colorPresent}),
		charts.WithBarChartOpts(opts.BarChart{Stack: "bars", BarCategoryGap: "28%"}),
		charts.WithLabelOpts(opts.Label{Show: opts.Bool(true), Position: "right", Color: colorAxis, FontSize: 12}),
	)
	if highlighted {
		ch.AddSeries(chartText(l.You), mine,
			charts.WithItemStyleOpts(opts.ItemStyle{Color: colorAccent}),
			charts.WithBarChartOpts(opts.BarChart{Stack: "bars", BarCategoryGap: "28%"}),
			charts.WithLabelOpts(opts.Label{Show: opts.Bool(true), Position: "right", Color: colorText,
				FontSize: 12, FontWeight: "bold"}),
		)
	}
	option, err := finish(ch)
	if err != nil {
		return chartSpec{}, err
	}
	return chartSpec{option: option, width: chartWidth, height: height, plotTop: top}, nil
}

// Where a bar chart's legend sits (top right, level with the title).
const (
	legendTop    = 18
	legendHeight = 14
)

// labelText is chartText for a label drawn through a formatter string, where ECharts would
// also expand "{a}"-style templates (chartText's word joiner after "{" stops those too), and
// where the page turns a string wrapped in "__f__" markers into a function (page.go): a text
// starting with the marker gets a word joiner in front.
func labelText(s string) string {
	s = chartText(s)
	if strings.HasPrefix(s, "__f__") {
		s = wordJoiner + s
	}
	return s
}
