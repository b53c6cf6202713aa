package demo_test

import (
	"bytes"
	"context"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"rollcall/demo"
	"rollcall/render"
	"rollcall/store/storetest"
)

// TestE2EDemoFeedShowsEveryPostAndImage plays the whole demo fast, then
// opens the generated page in real headless Chromium and checks what a
// person would see: every message, every image loaded.
func TestE2EDemoFeedShowsEveryPostAndImage(t *testing.T) {
	chromium, err := render.FindChromium()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// Twice on one database: the second run must not find its reports
	// "already posted" by the first.
	db := storetest.URL(t)
	var out string
	var stdout bytes.Buffer
	for range 2 {
		out = t.TempDir()
		stdout.Reset()
		err = demo.Run(ctx, demo.Options{
			Out: out, Speed: 600, DatabaseURL: db, Schema: storetest.Schema(t),
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Stdout: &stdout,
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(stdout.String(), filepath.Join(out, "index.html")) {
		t.Errorf("the demo does not say where to open it: %q", stdout.String())
	}
	// The charts on disk: two post-event timelines, one weekly leaderboard,
	// and the images of all five commands (/member twice: for a week and
	// for one event), each a PNG that decodes.
	pngs := map[string]int{}
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".png") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(out, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(bytes.NewReader(b)); err != nil {
			t.Errorf("%s does not decode: %v", e.Name(), err)
		}
		pngs[strings.SplitN(e.Name(), "-", 2)[1]]++
	}
	for _, want := range []string{"timeline.png", "week.png", "absent.png", "member.png", "member-timeline.png"} {
		if pngs[want] == 0 {
			t.Errorf("no %s among the charts: %v", want, pngs)
		}
	}
	if pngs["week.png"] < 2 { // the weekly post and /week
		t.Errorf("want the weekly report's and /week's charts: %v", pngs)
	}

	// The page, as a person sees it.
	actx, acancel := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true), chromedp.UserDataDir(t.TempDir()))...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	type pageView struct {
		Messages, Images, Loaded, Ephemeral int
		Commands                            []string // the invocations shown above the replies
		Text                                string
	}
	if _, err := chromedp.Run(bctx, chromedp.Navigate("file://"+filepath.Join(out, "index.html"))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`Array.from(document.images).every(i => i.complete)`, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(bctx, chromedp.Evaluate[pageView](`({
		Messages: document.querySelectorAll('.msg').length,
		Images: document.images.length,
		Loaded: Array.from(document.images).filter(i => i.naturalWidth > 0).length,
		Ephemeral: document.querySelectorAll('.eph').length,
		Commands: Array.from(document.querySelectorAll('.cmd')).map(e => e.innerText),
		Text: document.body.innerText,
	})`))
	if err != nil {
		t.Fatal(err)
	}
	// The bot's hello, the moderator's three /rollcall commands, the 16:00
	// report, seven command replies (all ephemeral: only who asked sees them), the 21:00
	// report, one weekly report.
	if got.Messages != 14 || got.Images != 9 || got.Loaded != got.Images || got.Ephemeral != 10 {
		t.Fatalf("page shows %d messages, %d images (%d loaded), %d ephemeral; want 14 messages, 9 images all loaded, the ten replies marked ephemeral",
			got.Messages, got.Images, got.Loaded, got.Ephemeral)
	}
	// The set-up as the moderator did it, and the bot's answers, with
	// channels and roles by name as Discord shows them.
	if len(got.Commands) < 3 || !strings.HasPrefix(got.Commands[0], "↪ /rollcall setup timezone: Europe/Moscow report_channel: #отчёты") ||
		!strings.HasPrefix(got.Commands[1], "↪ /rollcall schedule add name: БЗС times: 16:00,21:00") ||
		!strings.HasPrefix(got.Commands[2], "↪ /rollcall roles add role: @Regular") {
		t.Errorf("the page does not open with the set-up commands: %q", got.Commands)
	}
	for _, want := range []string{"Thanks for adding rollcall!", "rollcall настроен: часовой пояс Europe/Moscow, отчёты в #отчёты",
		"Событие БЗС добавлено", "#БЗС основной, #БЗС резерв", "Правило сохранено: @Regular"} {
		if !strings.Contains(got.Text, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(got.Text, "<#") || strings.Contains(got.Text, "<@") {
		t.Error("the page shows a mention as its raw id")
	}
}

// syncBuffer is a bytes.Buffer safe to read while the demo writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// With --serve the feed is on 127.0.0.1 while the demo runs, refreshing
// itself until the end.
func TestE2EDemoServesTheFeedLive(t *testing.T) {
	if _, err := render.FindChromium(); err != nil && os.Getenv("CI") != "true" {
		t.Skip(err)
	}
	var stdout syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- demo.Run(ctx, demo.Options{
			Out: t.TempDir(), Speed: 600, Serve: true, Addr: "127.0.0.1:0", DatabaseURL: storetest.URL(t), Schema: storetest.Schema(t),
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Stdout: &stdout,
		})
	}()
	addr := regexp.MustCompile(`http://127\.0\.0\.1:\d+/`)
	var url string
	for url == "" {
		select {
		case err := <-done:
			t.Fatalf("the demo ended before serving: %v (%q)", err, stdout.String())
		case <-time.After(10 * time.Millisecond):
		}
		url = addr.FindString(stdout.String())
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "rollcall demo") || !strings.Contains(string(body), `http-equiv="refresh"`) {
		t.Fatalf("live feed: %d %q", resp.StatusCode, body)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
