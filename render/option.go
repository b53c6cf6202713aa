package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-echarts/go-echarts/v2/opts"
)

// goechartsChart is what finish needs of a go-echarts chart (charts.Bar, charts.Custom, ...).
type goechartsChart interface {
	Validate()
	JSON() map[string]any
}

// finish validates a go-echarts chart and returns its option as a plain JSON map, with the few
// settings go-echarts v2.6.7 cannot express patched in:
//   - axisLabel.interval must be a number to show every row name of a category axis, and
//     go-echarts types it as a string ("0" breaks the labels, rendering.md);
//   - axisTick has no field on go-echarts' YAxis, and ticks between names are noise here;
//   - a chart-wide textStyle (font family) has no field on BaseConfiguration.
func finish(c goechartsChart) (map[string]any, error) {
	c.Validate()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c.JSON()); err != nil {
		return nil, fmt.Errorf("render: marshal go-echarts option: %w", err)
	}
	var option map[string]any
	if err := json.Unmarshal(buf.Bytes(), &option); err != nil {
		return nil, fmt.Errorf("render: reread go-echarts option: %w", err)
	}
	for _, key := range []string{"xAxis", "yAxis"} {
		axes, _ := option[key].([]any)
		for _, a := range axes {
			axis, _ := a.(map[string]any)
			if axis == nil || axis["type"] != "category" {
				continue
			}
			label, _ := axis["axisLabel"].(map[string]any)
			if label == nil {
				label = map[string]any{}
				axis["axisLabel"] = label
			}
			label["interval"] = 0
			axis["axisTick"] = map[string]any{"show": false}
		}
	}
	option["textStyle"] = map[string]any{"fontFamily": fontFamily, "color": colorText}
	// The PNG is a picture: no toolbox, no tooltip.
	delete(option, "toolbox")
	return option, nil
}

// titleOpts is the shared title block: bold title, grey subtitle lines under it.
func titleOpts(title, subtitle string) opts.Title {
	return opts.Title{
		Title: chartLines(title), Subtitle: chartLines(subtitle), Left: "20", Top: "14",
		TitleStyle:    &opts.TextStyle{Color: colorText, FontSize: 20, FontWeight: "bold", FontFamily: fontFamily},
		SubtitleStyle: &opts.TextStyle{Color: colorSubtext, FontSize: 13, LineHeight: 18, FontFamily: fontFamily},
	}
}

// titleHeight is the vertical space the title block takes.
func titleHeight(title, subtitle string) int {
	h := 14
	if title != "" {
		h += 28
	}
	if subtitle != "" {
		h += 6 + 18*(strings.Count(subtitle, "\n")+1)
	}
	return h
}

// joinLines puts b under a, either of which may be empty. An empty line is
// never added: ECharts draws it as a blank line, and titleHeight reserves
// room for it, which left an 18 px gap under every bar chart's subtitle.
func joinLines(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "\n" + b
}

func px(n int) string { return strconv.Itoa(n) + "px" }

func timeMinutes(n int) time.Duration { return time.Duration(n) * time.Minute }
