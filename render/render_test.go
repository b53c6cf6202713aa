package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// requireChromium skips (or, in CI, fails) when there is no browser to test against.
func requireChromium(tb testing.TB) {
	tb.Helper()
	if _, err := FindChromium(); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("CI=true but no Chromium: %v; the CI image must apt-get install chromium fonts-noto-color-emoji", err)
		}
		tb.Skipf("no Chromium (%v): apt-get install chromium fonts-noto-color-emoji to run the render tests", err)
	}
	if _, err := loadECharts(""); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("CI=true but %v", err)
		}
		tb.Skipf("%v", err)
	}
}

func testLogger(tb testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

var (
	sharedOnce sync.Once
	shared     *Renderer
	sharedErr  error
)

// sharedRenderer is one warm renderer for the tests that do not break it; TestMain closes it.
func sharedRenderer(tb testing.TB) *Renderer {
	tb.Helper()
	requireChromium(tb)
	sharedOnce.Do(func() {
		shared, sharedErr = New(context.Background(), Options{Tabs: 2, Logger: testLogger(tb)})
	})
	if sharedErr != nil {
		tb.Fatalf("New: %v", sharedErr)
	}
	return shared
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		_ = shared.Close()
	}
	os.Exit(code)
}

// savePNG writes a PNG under $RENDER_OUT (if set) so a person can look at it.
func savePNG(tb testing.TB, name string, b []byte) {
	if dir := os.Getenv("RENDER_OUT"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

func decodePNG(tb testing.TB, b []byte) image.Image {
	tb.Helper()
	if len(b) == 0 {
		tb.Fatal("empty PNG")
	}
	if len(b) >= maxPNG {
		tb.Errorf("PNG is %d bytes, want < 1 MB", len(b))
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		tb.Fatalf("decode PNG: %v", err)
	}
	// Opaque white background: a transparent PNG shows dark text on Discord's dark theme.
	for _, p := range []image.Point{img.Bounds().Min, img.Bounds().Max.Sub(image.Pt(1, 1))} {
		if r, g, b, a := img.At(p.X, p.Y).RGBA(); r>>8 != 255 || g>>8 != 255 || b>>8 != 255 || a>>8 != 255 {
			tb.Errorf("pixel %v is %v, want opaque white", p, img.At(p.X, p.Y))
		}
	}
	return img
}

func hexColor(s string) color.RGBA {
	var c color.RGBA
	if _, err := fmt.Sscanf(s, "#%02x%02x%02x", &c.R, &c.G, &c.B); err != nil {
		panic(err)
	}
	c.A = 255
	return c
}

// near reports whether pixel (x, y) is within tol per channel of want.
func near(img image.Image, x, y int, want color.RGBA, tol int) bool {
	r, g, b, _ := img.At(x, y).RGBA()
	d := func(a uint32, w uint8) bool { v := int(a>>8) - int(w); return v >= -tol && v <= tol }
	return d(r, want.R) && d(g, want.G) && d(b, want.B)
}

// sampleTimeline is 20 participants over 60 minutes from 16:00: row 0 present for minutes
// 0-29 only, row 1 the whole hour with minutes 40-49 muted, rows 5 and 12 never present.
func sampleTimeline() TimelineChart {
	names := []string{"Алексей 🎮", "Zoë ⚔️", "Mira", "Дмитрий", "Kenji 🍣", "Absent Al", "Ola", "Sasha",
		"Nikolai Vasilyevich Gogol-Yanovsky the Third", "Eve", "Борис", "Li", "Nobody", "Pat 🎧", "Quinn",
		"Rosa", "Ștefan", "Tomás", "Uma", "Viktor"}
	c := TimelineChart{
		Title:    "Raid night — attendance",
		Subtitle: "Friday 16:00–17:00 · 20 members",
		Start:    time.Date(2025, 3, 14, 16, 0, 0, 0, time.UTC),
		Minutes:  60,
	}
	for i, n := range names {
		row := TimelineRow{Name: n, Present: make([]bool, 60), Muted: make([]bool, 60)}
		for m := 0; m < 60; m++ {
			switch i {
			case 0:
				row.Present[m] = m < 30
			case 1:
				row.Present[m] = true
				row.Muted[m] = m >= 40 && m < 50
			case 5, 12:
			default:
				// Deterministic variety: late joiners, early leavers, a break.
				row.Present[m] = m >= (i*3)%25 && m < 60-(i*7)%20 && (m < 20+i || m > 27+i)
				row.Muted[m] = i%4 == 0 && m%15 < 4
			}
		}
		c.Rows = append(c.Rows, row)
	}
	return c
}

func TestTimeline(t *testing.T) {
	r := sharedRenderer(t)
	c := sampleTimeline()
	spec, err := timelineOption(c)
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.Timeline(context.Background(), c)
	if err != nil {
		t.Fatalf("Timeline: %v", err)
	}
	savePNG(t, "timeline20.png", b)
	img := decodePNG(t, b)
	if got := img.Bounds().Size(); got != image.Pt(spec.width, spec.height) || got.X != 1100 {
		t.Fatalf("size %v, want %dx%d (width 1100)", got, spec.width, spec.height)
	}

	present, muted := hexColor(colorPresent), hexColor(colorMuted)
	filled := func(x, y int) bool { return near(img, x, y, present, 6) || near(img, x, y, muted, 6) }
	bounds := img.Bounds()
	// Bands: maximal runs of pixel rows below the plot's top edge (so the legend swatches do
	// not count) that contain filled pixels.
	type band struct{ y0, y1 int }
	var bands []band
	in := false
	for y := spec.plotTop; y < bounds.Max.Y; y++ {
		any := false
		for x := 0; x < bounds.Max.X && !any; x++ {
			any = filled(x, y)
		}
		switch {
		case any && !in:
			bands = append(bands, band{y, y})
			in = true
		case any:
			bands[len(bands)-1].y1 = y
		default:
			in = false
		}
	}
	want := 0
	for _, row := range c.Rows {
		if presentMinutes(row, c.Minutes) > 0 {
			want++
		}
	}
	if len(bands) != want {
		t.Fatalf("found %d filled row bands, want %d (participants with any present minute): %v", len(bands), want, bands)
	}
	// Band heights are equal (one row each), not merged pairs.
	for _, bd := range bands {
		if h := bd.y1 - bd.y0 + 1; h < 10 || h > 24 {
			t.Errorf("band %v is %d px tall, want one row (10-24 px)", bd, h)
		}
	}

	// The plot's left and right edges are where row 1 (present all hour) starts and ends.
	xs := func(bd band, col color.RGBA) []int {
		y := (bd.y0 + bd.y1) / 2
		var out []int
		for x := 0; x < bounds.Max.X; x++ {
			if near(img, x, y, col, 6) {
				out = append(out, x)
			}
		}
		return out
	}
	full := append(xs(bands[1], present), xs(bands[1], muted)...)
	slices.Sort(full)
	left, right := full[0], full[len(full)-1]
	if right-left < 600 {
		t.Fatalf("plot is %d px wide (%d..%d), want most of the 1100 px", right-left, left, right)
	}
	mid := (left + right) / 2
	row0 := xs(bands[0], present)
	if len(row0) == 0 || row0[0] > left+2 {
		t.Fatalf("row 0 (minutes 0-29) has no filled pixels at the left edge: %v", row0)
	}
	if last := row0[len(row0)-1]; last > mid+2 || last < mid-25 {
		t.Errorf("row 0 (minutes 0-29) fills up to x=%d, want just under the middle %d", last, mid)
	}
	// Row 1's muted minutes 40-49 are drawn in the lighter shade at 2/3 of the width.
	m := xs(bands[1], muted)
	if len(m) == 0 {
		t.Fatal("row 1 has no muted (lighter) pixels")
	}
	if at := float64(m[0]-left) / float64(right-left); at < 0.64 || at > 0.69 {
		t.Errorf("muted run starts at %.2f of the width, want 40/60", at)
	}
}

func TestTimelineEdgeCases(t *testing.T) {
	r := sharedRenderer(t)
	start := time.Date(2025, 3, 30, 0, 7, 0, 0, time.FixedZone("X", 3600))
	long := TimelineChart{Title: "A day", Start: start, Minutes: 1440}
	for i := 0; i < MaxTimelineRows+30; i++ {
		row := TimelineRow{Name: fmt.Sprintf("member %d", i), Present: make([]bool, 1440)}
		for m := range row.Present {
			row.Present[m] = (m/(i%17+3))%3 != 0 // many short runs
		}
		long.Rows = append(long.Rows, row)
	}
	tests := []struct {
		name string
		c    TimelineChart
	}{
		{"no rows", TimelineChart{Title: "Empty", Start: start, Minutes: 30}},
		{"one minute", TimelineChart{Start: start, Minutes: 1, Rows: []TimelineRow{{Name: "x", Present: []bool{true}}}}},
		{"full day, capped rows", long},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := r.Timeline(context.Background(), tt.c)
			if err != nil {
				t.Fatalf("Timeline: %v", err)
			}
			savePNG(t, "timeline-"+strings.ReplaceAll(tt.name, " ", "-")+".png", b)
			decodePNG(t, b)
		})
	}
	if _, err := r.Timeline(context.Background(), TimelineChart{Start: start, Minutes: 0}); err == nil {
		t.Error("Minutes 0: want an error")
	}
}

func TestTimelineLabels(t *testing.T) {
	c := TimelineChart{Start: time.Date(2025, 1, 1, 16, 7, 0, 0, time.UTC), Minutes: 60}
	spec, err := timelineOption(c)
	if err != nil {
		t.Fatal(err)
	}
	x := spec.option["xAxis"].([]any)[0].(map[string]any)
	f := x["axisLabel"].(map[string]any)["formatter"].(string)
	for _, want := range []string{`"15":"16:15"`, `"30":"16:30"`, `"60":"17:00"`} {
		if !strings.Contains(f, want) {
			t.Errorf("formatter %s lacks %s", f, want)
		}
	}
	if x["min"] != float64(7) || x["max"] != float64(67) {
		t.Errorf("x axis %v..%v, want 7..67 (minutes from 16:00)", x["min"], x["max"])
	}
}

func sampleBars(n int) BarChart {
	c := BarChart{Title: "Weekly leaderboard", Subtitle: "Mon 10 – Sun 16 March", ValueLabel: "minutes"}
	names := []string{"Алексей 🎮", "Zoë ⚔️", "Дмитрий", "Kenji 🍣", "Ștefan"}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("member %03d", i)
		if i < len(names) {
			name = names[i]
		}
		c.Bars = append(c.Bars, Bar{Label: name, Value: float64((n - i) * 7 % 600), Highlight: i == 3})
	}
	return c
}

func TestBars(t *testing.T) {
	r := sharedRenderer(t)
	c := sampleBars(50)
	spec, err := barsOption(c)
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.Bars(context.Background(), c)
	if err != nil {
		t.Fatalf("Bars: %v", err)
	}
	savePNG(t, "bars50.png", b)
	img := decodePNG(t, b)
	if got := img.Bounds().Size(); got != image.Pt(1100, spec.height) {
		t.Fatalf("size %v, want 1100x%d", got, spec.height)
	}
	bar, accent := hexColor(colorPresent), hexColor(colorAccent)
	var nBar, nAccent int
	for y := 0; y < img.Bounds().Max.Y; y++ {
		for x := 0; x < img.Bounds().Max.X; x++ {
			if near(img, x, y, bar, 4) {
				nBar++
			}
			if near(img, x, y, accent, 4) {
				nAccent++
			}
		}
	}
	if total := img.Bounds().Dx() * img.Bounds().Dy(); nBar < total/20 {
		t.Errorf("%d bar-coloured pixels of %d, want a chart full of bars", nBar, total)
	}
	if nAccent < 200 {
		t.Errorf("%d highlight-coloured pixels, want the highlighted bar drawn", nAccent)
	}
}

func TestBarsCapped(t *testing.T) {
	r := sharedRenderer(t)
	c := sampleBars(500)
	spec, err := barsOption(c)
	if err != nil {
		t.Fatal(err)
	}
	title := spec.option["title"].(map[string]any)
	if sub := title["subtext"].(string); !strings.Contains(sub, "top 50 of 500") {
		t.Errorf("subtitle %q lacks %q", sub, "top 50 of 500")
	}
	series := spec.option["series"].([]any)[0].(map[string]any)
	data := series["data"].([]any)
	if len(data) != MaxBars {
		t.Fatalf("%d bars drawn, want %d", len(data), MaxBars)
	}
	first := data[0].(map[string]any)["value"].(float64)
	for _, bar := range c.Bars {
		if bar.Value > first {
			t.Fatalf("first bar %v is not the top value (%v exists)", first, bar.Value)
		}
	}
	b, err := r.Bars(context.Background(), c)
	if err != nil {
		t.Fatalf("Bars: %v", err)
	}
	savePNG(t, "bars500.png", b)
	if img := decodePNG(t, b); img.Bounds().Dy() != spec.height || spec.height > 1600 {
		t.Errorf("height %d (spec %d), want the 50-bar height", img.Bounds().Dy(), spec.height)
	}
}

// TestEmojiDrawn renders a title that is only an emoji and compares it with a blank title:
// with Noto Color Emoji the difference holds saturated (coloured) pixels; without the font it
// would be an empty box or nothing.
func TestEmojiDrawn(t *testing.T) {
	r := sharedRenderer(t)
	render := func(title string) image.Image {
		b, err := r.Bars(context.Background(), BarChart{Title: title, Bars: []Bar{{Label: "a", Value: 1}}})
		if err != nil {
			t.Fatalf("Bars: %v", err)
		}
		savePNG(t, "emoji-"+fmt.Sprint(len(title))+".png", b)
		return decodePNG(t, b)
	}
	withEmoji, blank := render("🎮🍣"), render(" ")
	coloured := 0
	for y := 0; y < 60; y++ {
		for x := 0; x < 200; x++ {
			if withEmoji.At(x, y) == blank.At(x, y) {
				continue
			}
			r, g, b, _ := withEmoji.At(x, y).RGBA()
			hi, lo := max(r, g, b)>>8, min(r, g, b)>>8
			if hi-lo > 60 {
				coloured++
			}
		}
	}
	if coloured < 50 {
		t.Errorf("%d coloured pixels where the emoji title is, want a colour emoji (is fonts-noto-color-emoji installed?)", coloured)
	}
}

func TestConcurrentRenders(t *testing.T) {
	r := sharedRenderer(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if i%2 == 0 {
				_, err = r.Timeline(context.Background(), sampleTimeline())
			} else {
				_, err = r.Bars(context.Background(), sampleBars(20))
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// TestNoStateLeak: the tabs reuse one ECharts instance, so a chart drawn after other charts (of
// another type and size) must come out exactly as when drawn first.
func TestNoStateLeak(t *testing.T) {
	requireChromium(t)
	r, err := New(context.Background(), Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	first, err := r.Timeline(ctx, sampleTimeline())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Bars(ctx, sampleBars(500)); err != nil {
		t.Fatal(err)
	}
	short := sampleTimeline()
	short.Rows = short.Rows[:3]
	if _, err := r.Timeline(ctx, short); err != nil {
		t.Fatal(err)
	}
	again, err := r.Timeline(ctx, sampleTimeline())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, again) {
		savePNG(t, "leak-first.png", first)
		savePNG(t, "leak-again.png", again)
		t.Error("the same timeline rendered differently after other charts")
	}
}

func TestBrowserKilled(t *testing.T) {
	requireChromium(t)
	r, err := New(context.Background(), Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	if _, err := r.Bars(ctx, sampleBars(5)); err != nil {
		t.Fatal(err)
	}
	old := r.b
	if err := old.proc.Kill(); err != nil {
		t.Fatal(err)
	}
	_, _ = old.proc.Wait()
	b, err := r.Bars(ctx, sampleBars(5))
	if err != nil {
		t.Fatalf("render after the browser was killed: %v", err)
	}
	decodePNG(t, b)
	if r.launches != 2 || r.b == old {
		t.Errorf("launches %d, want 2 (a relaunch)", r.launches)
	}
}

func TestRenderTimeout(t *testing.T) {
	requireChromium(t)
	r, err := New(context.Background(), Options{Timeout: 500 * time.Millisecond, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()

	// A page stuck in a script: the render times out and the browser is replaced.
	start := time.Now()
	_, err = r.eval(ctx, "(function(){ for(;;){} })()")
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("hung script: err %v, want ErrTimeout", err)
	}
	// Not a speed check (the machine may be loaded): a render that did not
	// time out would never return at all.
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("hung render took %s: the timeout did not cut it short", d)
	}
	if _, err := r.Timeline(ctx, sampleTimeline()); err != nil {
		t.Fatalf("render after a hang: %v", err)
	}

	// A tiny timeout: an error quickly, then a normal render works.
	r.opts.Timeout = time.Millisecond
	start = time.Now()
	if _, err := r.Timeline(ctx, sampleTimeline()); !errors.Is(err, ErrTimeout) {
		t.Fatalf("1 ms timeout: err %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("timed-out render took %s: the timeout did not cut it short", d)
	}
	r.opts.Timeout = 10 * time.Second
	if _, err := r.Timeline(ctx, sampleTimeline()); err != nil {
		t.Fatalf("render after a timeout: %v", err)
	}
	if r.launches != 3 {
		t.Errorf("launches %d, want 3 (one per timeout)", r.launches)
	}

	// A chart ECharts rejects is an error, and the tab stays usable without a relaunch.
	if _, err := r.eval(ctx, "Promise.reject(new Error('bad chart'))"); err == nil || errors.Is(err, ErrTimeout) {
		t.Fatalf("rejected render: err %v, want a non-timeout error", err)
	}
	if _, err := r.Bars(ctx, sampleBars(3)); err != nil || r.launches != 3 {
		t.Fatalf("after a chart error: err %v, launches %d (want 3)", err, r.launches)
	}
}

func TestClose(t *testing.T) {
	requireChromium(t)
	r, err := New(context.Background(), Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	dir := r.b.dirs.root
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("temp dir %s still there after Close (err %v)", dir, err)
	}
	if _, err := r.Bars(context.Background(), sampleBars(3)); !errors.Is(err, ErrClosed) {
		t.Errorf("render after Close: %v, want ErrClosed", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestMissingECharts(t *testing.T) {
	_, err := New(context.Background(), Options{EChartsPath: filepath.Join(t.TempDir(), "nope.js")})
	if err == nil || !strings.Contains(err.Error(), "nope.js") {
		t.Fatalf("missing EChartsPath: %v", err)
	}
	if !strings.Contains(ErrNoECharts.Error(), "make assets") || !strings.Contains(ErrNoECharts.Error(), "--echarts") {
		t.Errorf("ErrNoECharts does not say how to supply the asset: %v", ErrNoECharts)
	}
}

// benchmark renders warm, reporting ms/op and the p50/p95 of the individual renders.
func benchmark(b *testing.B, render func(*Renderer) error) {
	r := sharedRenderer(b)
	if err := render(r); err != nil { // warm
		b.Fatal(err)
	}
	var ds []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if err := render(r); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(ds)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(b.Elapsed())/float64(b.N), "ms/op")
	b.ReportMetric(ms(ds[len(ds)/2]), "p50-ms")
	b.ReportMetric(ms(ds[min(len(ds)-1, len(ds)*95/100)]), "p95-ms")
}

func BenchmarkTimeline20(b *testing.B) {
	c := sampleTimeline()
	benchmark(b, func(r *Renderer) error { _, err := r.Timeline(context.Background(), c); return err })
}

func BenchmarkBars50(b *testing.B) {
	c := sampleBars(50)
	benchmark(b, func(r *Renderer) error { _, err := r.Bars(context.Background(), c); return err })
}

// BenchmarkColdTimeline20 is a cold start: launch the browser, load ECharts, first timeline.
func BenchmarkColdTimeline20(b *testing.B) {
	requireChromium(b)
	c := sampleTimeline()
	for i := 0; i < b.N; i++ {
		r, err := New(context.Background(), Options{Logger: testLogger(b)})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.Timeline(context.Background(), c); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		_ = r.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed())/float64(time.Millisecond)/float64(b.N), "ms/op")
}

// inkRows are the y of rows holding a pixel within tol of col, between y0 and y1 and x0 and x1.
func inkRows(img image.Image, col color.RGBA, tol, x0, x1, y0, y1 int) []int {
	var ys []int
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			if near(img, x, y, col, tol) {
				ys = append(ys, y)
				break
			}
		}
	}
	return ys
}

// The highlighted bar (who asked) gets a legend entry in the accent colour, named in the
// chart's language, and keeps the full row height of the other bars; without a highlight
// there is no legend and no accent anywhere.
func TestBarsHighlightLegend(t *testing.T) {
	r := sharedRenderer(t)
	tests := []struct {
		name      string
		highlight int // index of the highlighted bar, -1 none
		labels    Labels
		legend    string
	}{
		{"english", 3, Labels{}, "you"},
		{"russian", 0, Labels{You: "вы"}, "вы"},
		{"none", -1, Labels{}, ""},
	}
	accent, bar := hexColor(colorAccent), hexColor(colorPresent)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := sampleBars(8)
			c.Labels = tt.labels
			for i := range c.Bars {
				c.Bars[i].Highlight = i == tt.highlight
			}
			spec, err := barsOption(c)
			if err != nil {
				t.Fatal(err)
			}
			legend, _ := spec.option["legend"].(map[string]any)
			data, _ := legend["data"].([]any)
			if tt.legend != "" && (len(data) != 1 || data[0] != tt.legend) {
				t.Errorf("legend data %v, want [%s]", data, tt.legend)
			}
			b, err := r.Bars(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			savePNG(t, "bars-legend-"+tt.name+".png", b)
			img := decodePNG(t, b)
			w, h := img.Bounds().Dx(), img.Bounds().Dy()
			if tt.highlight < 0 {
				if ys := inkRows(img, accent, 4, 0, w, 0, h); len(ys) > 0 {
					t.Errorf("accent colour at rows %v, want none without a highlighted bar", ys)
				}
				return
			}
			// The swatch: accent pixels above the plot, at the right, about 18 x 12 px.
			x0, y0, x1, y1, n := w, h, -1, -1, 0
			for y := 0; y < spec.plotTop; y++ {
				for x := w / 2; x < w; x++ {
					if near(img, x, y, accent, 4) {
						x0, y0, x1, y1, n = min(x0, x), min(y0, y), max(x1, x), max(y1, y), n+1
					}
				}
			}
			if n < 100 || x1-x0+1 < 14 || x1-x0+1 > 22 || y1-y0+1 < 8 || y1-y0+1 > 14 {
				t.Fatalf("legend swatch: %d accent pixels in (%d,%d)-(%d,%d), want an 18x12 swatch above the plot (top %d)", n, x0, y0, x1, y1, spec.plotTop)
			}
			// Its word, right of the swatch in the same rows.
			text := 0
			for y := y0; y <= y1; y++ {
				for x := x1 + 2; x < w; x++ {
					if r, g, b, _ := img.At(x, y).RGBA(); r>>8 < 160 && g>>8 < 160 && b>>8 < 160 {
						text++
					}
				}
			}
			if text < 10 {
				t.Errorf("%d dark pixels right of the swatch, want the legend's word", text)
			}
			// The highlighted bar is as tall as the others (one slot, not half of one):
			// measured down a column just right of where the bars start.
			col := w
			for y := spec.plotTop; y < h; y++ {
				for x := 0; x < col; x++ {
					if near(img, x, y, bar, 4) || near(img, x, y, accent, 4) {
						col = x
					}
				}
			}
			mine := inkRows(img, accent, 4, col+2, col+4, spec.plotTop, h)
			theirs := inkRows(img, bar, 4, col+2, col+4, spec.plotTop, h)
			bands := func(ys []int) []int {
				var out []int
				for i, y := range ys {
					if i == 0 || y != ys[i-1]+1 {
						out = append(out, 1)
						continue
					}
					out[len(out)-1]++
				}
				return out
			}
			mb, tb := bands(mine), bands(theirs)
			if len(mb) != 1 || len(tb) < 1 || mb[0] < tb[0]-1 || mb[0] > tb[0]+1 {
				t.Errorf("highlighted bar bands %v, others %v: want one bar as tall as the others", mb, tb)
			}
		})
	}
}

// A subtitle leaves no more blank space under it than a title alone does: an empty line
// added under every subtitle made a gap of 18 px more (the /absent chart).
func TestBarsNoGapUnderSubtitle(t *testing.T) {
	r := sharedRenderer(t)
	bar := hexColor(colorPresent)
	gap := func(c BarChart, ink color.RGBA) int {
		t.Helper()
		b, err := r.Bars(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		savePNG(t, "bars-gap-"+fmt.Sprint(len(c.Subtitle))+".png", b)
		img := decodePNG(t, b)
		first := inkRows(img, bar, 4, 0, img.Bounds().Dx(), 0, img.Bounds().Dy())
		if len(first) == 0 {
			t.Fatal("no bars drawn")
		}
		text := inkRows(img, ink, 40, 0, 600, 0, first[0])
		if len(text) == 0 {
			t.Fatal("no title or subtitle drawn")
		}
		return first[0] - text[len(text)-1]
	}
	bars := []Bar{{Label: "Noah", Value: 13, Text: "13 of 13"}, {Label: "Owner", Value: 1, Text: "1 of 1"}}
	underTitle := gap(BarChart{Title: "Absent · 16–22 Nov 2026", Bars: bars}, hexColor(colorText))
	underSub := gap(BarChart{Title: "Absent · 16–22 Nov 2026", Subtitle: "Events missed (no minutes at all)", Bars: bars}, hexColor(colorSubtext))
	if underSub > underTitle+6 {
		t.Errorf("%d px from the subtitle to the first bar, %d px from a title alone: want the same spacing", underSub, underTitle)
	}
}

// A bar's Text is written beside it instead of the value, as plain text: never as a
// template ({c} is the value), nor as a function (the page revives "__f__" strings).
func TestBarText(t *testing.T) {
	r := sharedRenderer(t)
	tests := []struct{ text, want string }{
		{"3 of 13", "3 of 13"},
		{"{c} of {b}", "{\u2060c} of {\u2060b}"},
		{"__f__function(){throw new Error('ran')}__f__", "\u2060__f__function(){\u2060throw new Error('ran')}__f__"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			c := BarChart{Title: "t", Bars: []Bar{{Label: "a", Value: 3, Text: tt.text}, {Label: "b", Value: 1}}}
			spec, err := barsOption(c)
			if err != nil {
				t.Fatal(err)
			}
			series := spec.option["series"].([]any)[0].(map[string]any)
			item := series["data"].([]any)[0].(map[string]any)
			if got := item["label"].(map[string]any)["formatter"]; got != tt.want {
				t.Errorf("formatter %q, want %q", got, tt.want)
			}
			if other := series["data"].([]any)[1].(map[string]any); other["label"] != nil {
				t.Errorf("a bar without Text has label %v, want the series' (its value)", other["label"])
			}
			b, err := r.Bars(context.Background(), c)
			if err != nil {
				t.Fatalf("Bars: %v", err)
			}
			decodePNG(t, b)
		})
	}
}

// statesTimeline is one member's 20 minutes in every state, four minutes
// each: removed, present, muted, deafened, added; then not recorded and
// absent (two each, drawn with ShowAbsent).
func statesTimeline() TimelineChart {
	row := TimelineRow{Name: "Алексей 🎮", Present: make([]bool, 24), Muted: make([]bool, 24), Deafened: make([]bool, 24),
		Added: make([]bool, 24), Removed: make([]bool, 24), NotRecorded: make([]bool, 24)}
	for m := range 24 {
		switch m / 4 {
		case 0:
			row.Removed[m] = true
		case 1:
			row.Present[m] = true
		case 2:
			row.Present[m], row.Muted[m] = true, true
		case 3:
			row.Present[m], row.Muted[m], row.Deafened[m] = true, true, true
		case 4:
			row.Present[m], row.Added[m] = true, true
		case 5:
			row.NotRecorded[m] = m < 22
		}
	}
	return TimelineChart{Title: "Алексей 🎮 · БЗС", Start: time.Date(2026, 11, 27, 16, 0, 0, 0, time.UTC), Minutes: 24,
		Rows: []TimelineRow{row}, ShowAbsent: true}
}

// Every state has its colour, cell by cell, and a legend entry.
func TestTimelineStates(t *testing.T) {
	r := sharedRenderer(t)
	c := statesTimeline()
	b, err := r.Timeline(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	savePNG(t, "timeline-states.png", b)
	img := decodePNG(t, b)
	spec, err := timelineOption(c)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{colorRemoved, colorPresent, colorMuted, colorDeaf, colorAdded, colorUnknown}
	var all []color.RGBA
	for _, h := range append(want, colorAbsent) {
		all = append(all, hexColor(h))
	}
	any := func(x, y int) bool {
		for _, c := range all {
			if near(img, x, y, c, 6) {
				return true
			}
		}
		return false
	}
	// The row's middle line is below the plot's top; its longest run of
	// state colours is the plot's width.
	bounds := img.Bounds()
	bestY, best := 0, 0
	for y := spec.plotTop; y < bounds.Max.Y; y++ {
		n := 0
		for x := 0; x < bounds.Max.X; x++ {
			if any(x, y) {
				n++
			}
		}
		if n > best {
			bestY, best = y, n
		}
	}
	left, right, runStart, last := -1, -1, -1, -10
	for x := 0; x < bounds.Max.X; x++ {
		if !any(x, bestY) {
			continue
		}
		if x-last > 4 {
			runStart = x
		}
		last = x
		if x-runStart > right-left {
			left, right = runStart, x
		}
	}
	w := float64(right - left + 1)
	for m := range 24 {
		col := colorAbsent
		if m/4 < len(want) && !(m >= 22) {
			col = want[m/4]
		}
		x := left + int((float64(m)+0.5)*w/24)
		if !near(img, x, bestY, hexColor(col), 6) {
			t.Errorf("minute %d (x=%d): %v, want %s", m, x, img.At(x, bestY), col)
		}
	}
	// Each state also has its swatch in the legend, above the plot.
	for _, h := range append(want, colorAbsent) {
		found := false
		for y := 0; y < spec.plotTop && !found; y++ {
			for x := 0; x < bounds.Max.X && !found; x++ {
				found = near(img, x, y, hexColor(h), 4)
			}
		}
		if !found {
			t.Errorf("no legend swatch of %s", h)
		}
	}
}
