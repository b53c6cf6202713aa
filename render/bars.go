package render

import (
	"fmt"
	"math"
	"slices"
	"strconv"

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

	names := make([]string, len(bars))
	data := make([]opts.BarData, len(bars))
	for i, b := range bars {
		if math.IsNaN(b.Value) || math.IsInf(b.Value, 0) {
			return chartSpec{}, fmt.Errorf("render bars: bar %q has value %v", b.Label, b.Value)
		}
		names[i] = chartText(b.Label)
		data[i] = opts.BarData{Value: b.Value}
		if b.Highlight {
			data[i].ItemStyle = &opts.ItemStyle{Color: colorAccent}
			data[i].Label = &opts.Label{Show: opts.Bool(true), Position: "right", FontWeight: "bold",
				Color: colorText}
		}
	}

	const rowH = 24
	top := titleHeight(c.Title, subtitle) + 12
	bottom := 56
	height := top + n*rowH + bottom

	ch := charts.NewBar()
	ch.SetGlobalOptions(
		charts.WithInitializationOpts(opts.Initialization{Width: px(chartWidth), Height: px(height),
			BackgroundColor: "#ffffff"}),
		charts.WithAnimation(false),
		charts.WithTitleOpts(titleOpts(c.Title, subtitle)),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
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
	ch.AddSeries(valueLabel, data,
		charts.WithItemStyleOpts(opts.ItemStyle{Color: colorPresent}),
		charts.WithBarChartOpts(opts.BarChart{BarCategoryGap: "28%"}),
		charts.WithLabelOpts(opts.Label{Show: opts.Bool(true), Position: "right", Color: colorAxis, FontSize: 12}),
	)
	option, err := finish(ch)
	if err != nil {
		return chartSpec{}, err
	}
	return chartSpec{option: option, width: chartWidth, height: height, plotTop: top}, nil
}
