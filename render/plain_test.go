package render

import (
	"context"
	"encoding/json"
	"image"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// markupNames are names that ECharts or a canvas would draw as something
// else if they went into the option raw.
var markupNames = []string{"{a|Bob Bobson}", "{b}: {c}", "x{big|y}z", "\u202eevil", "two\nlines", "<b>html</b>"}

// walkStrings calls f with every string in an option and the key it is under.
func walkStrings(v any, key string, f func(key, s string)) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			walkStrings(e, k, f)
		}
	case []any:
		for _, e := range x {
			walkStrings(e, key, f)
		}
	case string:
		f(key, x)
	}
}

// The option of every chart holds names as plain text: no rich-text style
// is defined anywhere (it would turn "{a|…}" in a name into markup), every
// formatter is one of our functions (a template string would expand {b}),
// and no "{" reaches ECharts without the word joiner that breaks its
// rich-text pattern.
func TestChartOptionsKeepNamesPlain(t *testing.T) {
	bars := BarChart{Title: "{a|Title}", Subtitle: "{a|sub}\nline two"}
	tl := TimelineChart{Title: "{a|Title}", Start: time.Date(2026, 1, 1, 16, 0, 0, 0, time.UTC), Minutes: 60}
	for i, n := range markupNames {
		bars.Bars = append(bars.Bars, Bar{Label: n, Value: float64(i + 1), Highlight: i == 0})
		tl.Rows = append(tl.Rows, TimelineRow{Name: n, Present: []bool{true, true}})
	}
	bs, err := barsOption(bars)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := timelineOption(tl)
	if err != nil {
		t.Fatal(err)
	}
	for name, option := range map[string]map[string]any{"bars": bs.option, "timeline": ts.option} {
		t.Run(name, func(t *testing.T) {
			b, _ := json.Marshal(option)
			var generic any
			_ = json.Unmarshal(b, &generic)
			walkStrings(generic, "", func(key, s string) {
				if strings.HasPrefix(s, "__f__") {
					return // our own function (an axis label formatter, renderItem)
				}
				if key == "formatter" {
					t.Errorf("string formatter %q: templates expand {b} and {c}", s)
				}
				for i := strings.Index(s, "{"); i >= 0; i = strings.Index(s[i+1:], "{") + i + 1 {
					if !strings.HasPrefix(s[i+1:], wordJoiner) {
						t.Errorf("%s: %q has a bare {", key, s)
						break
					}
					if strings.Index(s[i+1:], "{") < 0 {
						break
					}
				}
				if strings.ContainsAny(s, "\u202e") {
					t.Errorf("%s: %q keeps a bidi override", key, s)
				}
				if key == "data" && strings.Contains(s, "\n") {
					t.Errorf("%s: %q keeps a newline", key, s)
				}
			})
			if strings.Contains(string(b), `"rich"`) {
				t.Errorf("the option defines a rich-text style: %s", b)
			}
		})
	}
}

// inkSpan is the leftmost and rightmost x of text-coloured pixels (dark
// grey, not the blue bars or the light grid) in rows y0..y1, x < xMax.
func inkSpan(img image.Image, y0, y1, xMax int) (int, int) {
	lo, hi := -1, -1
	for y := y0; y < y1; y++ {
		for x := 0; x < xMax; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if max(r, g, b)>>8 < 140 {
				if lo < 0 || x < lo {
					lo = x
				}
				hi = max(hi, x)
			}
		}
	}
	return lo, hi
}

func redPixels(img image.Image) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r>>8 > 200 && g>>8 < 80 && bl>>8 < 80 {
				n++
			}
		}
	}
	return n
}

// TestNamesDrawnAsPlainText draws "{a|Bob Bobson}" beside "{a!Bob Bobson}"
// (the same characters but for one, which no rich-text pattern matches) in
// real Chromium, as a bar label and as a title, and compares how wide they
// come out. ECharts draws only "Bob Bobson" for the first when rich text
// applies: about 25 px narrower, or in the rich style. It is checked on
// the option as built, and again with a red, large `rich` style "a" added
// to the axis label and the title, as a later styling change might: the
// names must still be drawn in full, in the normal style.
func TestNamesDrawnAsPlainText(t *testing.T) {
	r := sharedRenderer(t)
	rich := map[string]any{"a": map[string]any{"color": "#ff0000", "fontSize": 28}}
	for _, withRich := range []bool{false, true} {
		c := BarChart{Bars: []Bar{{Label: "{a|Bob Bobson}", Value: 5}, {Label: "{a!Bob Bobson}", Value: 5}, {Label: "Bob Bobson", Value: 5}}}
		spec, err := barsOption(c)
		if err != nil {
			t.Fatal(err)
		}
		if withRich {
			axis := spec.option["yAxis"].([]any)[0].(map[string]any)
			axis["axisLabel"].(map[string]any)["rich"] = rich
		}
		b, err := r.draw(context.Background(), "bars", spec)
		if err != nil {
			t.Fatal(err)
		}
		savePNG(t, "markup-labels.png", b)
		img := decodePNG(t, b)
		const rowH = 24
		width := func(row int) int {
			y := spec.plotTop + row*rowH
			lo, hi := inkSpan(img, y+2, y+rowH-2, 300)
			return hi - lo
		}
		markup, same, bare := width(0), width(1), width(2)
		if d := markup - same; d < -3 || d > 3 || markup < bare+15 {
			t.Errorf("rich style defined %v: label \"{a|Bob Bobson}\" is %d px wide, \"{a!Bob Bobson}\" %d, \"Bob Bobson\" %d: the markup was interpreted",
				withRich, markup, same, bare)
		}
		if n := redPixels(img); n > 0 {
			t.Errorf("rich style defined %v: %d pixels in the rich style's red", withRich, n)
		}

		titled := func(title string) int {
			spec, err := barsOption(BarChart{Title: title, Bars: []Bar{{Label: "x", Value: 1}}})
			if err != nil {
				t.Fatal(err)
			}
			if withRich {
				ts := spec.option["title"].(map[string]any)["textStyle"].(map[string]any)
				ts["rich"] = rich
			}
			b, err := r.draw(context.Background(), "bars", spec)
			if err != nil {
				t.Fatal(err)
			}
			img := decodePNG(t, b)
			if n := redPixels(img); n > 0 {
				t.Errorf("title %q with rich %v: %d pixels in the rich style's red", title, withRich, n)
			}
			lo, hi := inkSpan(img, 10, 44, img.Bounds().Dx())
			return hi - lo
		}
		if m, s := titled("{a|Bob Bobson}"), titled("{a!Bob Bobson}"); m-s < -3 || m-s > 3 {
			t.Errorf("rich style defined %v: title \"{a|Bob Bobson}\" is %d px wide, \"{a!Bob Bobson}\" %d", withRich, m, s)
		}
	}
}

// The caller's logger already names the component (app passes one with
// component=render): render must not add it again (issue 21: every render
// line said component=render twice).
func TestLogLinesNameTheComponentOnce(t *testing.T) {
	requireChromium(t)
	var buf strings.Builder
	log := slog.New(slog.NewTextHandler(&syncWriter{w: &buf}, nil)).With(slog.String("component", "render"))
	r, err := New(context.Background(), Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	_ = r.Close()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) == 0 || lines[0] == "" {
		t.Fatal("the renderer logged nothing")
	}
	for _, l := range lines {
		if n := strings.Count(l, "component=render"); n != 1 {
			t.Errorf("component=render %d times in %q", n, l)
		}
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

// The text tables are posted inside a code block: a name with backticks
// would end the block and the rest would be markdown again.
func TestTextTablesStayInsideTheCodeBlock(t *testing.T) {
	name := "```\n# Big [x](https://e.x) `"
	tl := TimelineChart{Title: "t```", Start: time.Date(2026, 1, 1, 16, 0, 0, 0, time.UTC), Minutes: 10,
		Rows: []TimelineRow{{Name: name, Present: []bool{true}}}}
	bars := BarChart{Subtitle: "s```", Bars: []Bar{{Label: name, Value: 1}}}
	for kind, text := range map[string]string{"timeline": TimelineText(tl), "bars": BarsText(bars)} {
		if strings.Contains(text, "`") {
			t.Errorf("%s table keeps a backtick:\n%s", kind, text)
		}
		if strings.Count(text, "\n") != strings.Count(strings.ReplaceAll(text, "# Big", ""), "\n") || strings.Contains(text, "\n# Big") {
			t.Errorf("%s table lets a name start a line:\n%s", kind, text)
		}
	}
}
