package app_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"

	"rollcall/app"
	"rollcall/clock"
	"rollcall/config"
	"rollcall/discordsim"
	"rollcall/render"
	"rollcall/store/storetest"
)

var (
	rendererOnce sync.Once
	renderer     *render.Renderer
	rendererErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if renderer != nil {
		_ = renderer.Close()
	}
	os.Exit(code)
}

// sharedRenderer is one browser for the whole test binary: starting
// Chromium costs about a second.
func sharedRenderer(t *testing.T) *render.Renderer {
	t.Helper()
	rendererOnce.Do(func() {
		renderer, rendererErr = render.New(context.Background(), render.Options{Timeout: 20 * time.Second})
	})
	if rendererErr != nil {
		msg := fmt.Sprintf("Chromium renderer unavailable: %v (run `make test`, which installs chromium and fonts-noto-color-emoji)", rendererErr)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return renderer
}

// world is a guild in the simulator shaped like the original community's.
type world struct {
	sim                   *discordsim.Server
	guild                 snowflake.ID
	bzs, bzs2, chill, afk snowflake.ID
	reports, reports2     snowflake.ID
	members               map[string]snowflake.ID
}

func newWorld(t *testing.T, clk *clock.Fake) *world {
	t.Helper()
	sim := startSim(t, discordsim.Options{Now: clk.Now})
	w := &world{sim: sim, members: map[string]snowflake.ID{}}
	w.guild = sim.AddGuild("Клан")
	w.bzs = sim.AddChannel(w.guild, "БЗС основной", discord.ChannelTypeGuildVoice)
	w.bzs2 = sim.AddChannel(w.guild, "бзс резерв", discord.ChannelTypeGuildVoice)
	w.chill = sim.AddChannel(w.guild, "Чилл", discord.ChannelTypeGuildVoice)
	w.afk = sim.AddChannel(w.guild, "AFK", discord.ChannelTypeGuildVoice)
	sim.SetAFKChannel(w.guild, w.afk)
	w.reports = sim.AddChannel(w.guild, "отчёты", discord.ChannelTypeGuildText)
	w.reports2 = sim.AddChannel(w.guild, "mod-log", discord.ChannelTypeGuildText)
	joined := clk.Now().AddDate(0, -1, 0)
	for _, m := range []discordsim.MemberSpec{
		{Username: "alexey", GlobalName: "Алексей 🎮"},
		{Username: "zoe", GlobalName: "Zoë ⚔️"},
		{Username: "afk_andy", GlobalName: "Andy"},
		{Username: "chill_chris"},
		{Username: "muted_masha", Nick: "Маша 🎧"},
		{Username: "late_lena"},
		{Username: "musicbot", Bot: true},
	} {
		m.JoinedAt = joined
		w.members[m.Username] = sim.AddMember(w.guild, m)
	}
	return w
}

// configText is a config for w with one schedule.
func (w *world) configText(times, duration string) string {
	return fmt.Sprintf(`
poll_interval = "5s"
[[guilds]]
id = "%d"
timezone = "Europe/Moscow"
report_channels = ["%d", "%d"]
  [[guilds.schedules]]
  name = "БЗС"
  times = [%s]
  duration = %q
  voice_channel_names = ["БЗС"]
`, w.guild, w.reports, w.reports2, times, duration)
}

// harness runs the real app against the simulator, a fresh database and
// a fake clock.
type harness struct {
	t      *testing.T
	w      *world
	clk    *clock.Fake
	cfg    *config.Config
	dbURL  string
	app    *app.App
	cancel context.CancelFunc
	done   chan error
	logs   *logCapture
	log    *slog.Logger
}

func newHarness(t *testing.T, w *world, clk *clock.Fake, cfgText string) *harness {
	t.Helper()
	dbURL := storetest.URL(t)
	cfg, err := config.Parse(cfgText, func(k string) string {
		return map[string]string{"DISCORD_TOKEN": w.sim.Token(), "DATABASE_URL": dbURL}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	log, logs := newLogCapture(t)
	h := &harness{t: t, w: w, clk: clk, cfg: cfg, dbURL: dbURL, logs: logs, log: log}
	t.Cleanup(func() {
		h.stop()
		if strings.Contains(logs.Text(), w.sim.Token()) {
			t.Error("the bot token appears in the logs")
		}
	})
	return h
}

// start starts the app and returns once it is parked waiting for its first tick.
func (h *harness) start() {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, h.cfg, app.Deps{
		Schema: storetest.Schema(h.t), Clock: h.clk, Logger: h.log,
		ClientOpts: h.w.sim.ClientOpts(), Renderer: sharedRenderer(h.t),
		Instance: fmt.Sprintf("test-%d", time.Now().UnixNano()),
	})
	if err != nil {
		cancel()
		h.t.Fatal(err)
	}
	h.app, h.cancel, h.done = a, cancel, make(chan error, 1)
	go func() { h.done <- a.Run(ctx) }()
	h.waitParked()
}

// waitParked waits until the bot's loop sits in clock.After, i.e. the
// previous tick is complete.
func (h *harness) waitParked() {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for h.clk.Waiters() < 1 {
		select {
		case err := <-h.done:
			h.t.Fatalf("bot stopped: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			h.t.Fatal("the bot never waited for its next tick")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (h *harness) stop() {
	if h.app == nil {
		return
	}
	h.cancel()
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("bot stopped with an error: %v", err)
		}
	case <-time.After(20 * time.Second):
		h.t.Error("bot did not stop")
	}
	h.app.Close()
	h.app = nil
}

// runUntil ticks the fake clock in poll steps up to and including t,
// running each scripted action just before the tick at its time.
func (h *harness) runUntil(t time.Time, script map[time.Time]func()) {
	h.t.Helper()
	for h.clk.Now().Before(t) {
		next := h.clk.Now().Truncate(5 * time.Second).Add(5 * time.Second)
		for at, f := range script {
			if at.After(h.clk.Now()) && !at.After(next) {
				f()
			}
		}
		h.waitParked()
		h.clk.Set(next)
		h.waitParked()
	}
}

// setVoice moves a member in the simulator and waits until the bot's cache
// shows it, so the next tick sees the change.
func (h *harness) setVoice(user, channel snowflake.ID, f discordsim.VoiceFlags) {
	h.t.Helper()
	h.w.sim.SetVoice(h.w.guild, user, channel, f)
	deadline := time.Now().Add(10 * time.Second)
	for {
		vs, ok := h.app.Bot.Client().Caches.VoiceState(h.w.guild, user)
		if channel == 0 && !ok || ok && vs.ChannelID != nil && *vs.ChannelID == channel && vs.SelfMute == f.SelfMute && vs.SelfDeaf == f.SelfDeaf {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("the bot never saw user %d move to %d", user, channel)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func decodePNG(t *testing.T, data []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("attachment is not a PNG: %v", err)
	}
	return img
}

// filledBands counts horizontal bands of the timeline's present colour
// (#2f6fdb) or muted colour (#a7c2f2): one band per participant row, plus
// the legend's swatches, which sit above the plot.
func filledBands(img image.Image, minPixels int) int {
	b := img.Bounds()
	bands, in := 0, false
	for y := b.Min.Y; y < b.Max.Y; y++ {
		n := 0
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if near(r, g, bl, 0x2f, 0x6f, 0xdb) || near(r, g, bl, 0xa7, 0xc2, 0xf2) {
				n++
			}
		}
		if n >= minPixels && !in {
			bands++
		}
		in = n >= minPixels
	}
	return bands
}

func near(r, g, b uint32, R, G, B int) bool {
	d := func(a uint32, c int) int { x := int(a>>8) - c; return x * x }
	return d(r, R)+d(g, G)+d(b, B) < 300
}

// startNoWait starts the app and returns its stop function and the channel
// Run's result arrives on, for tests of start-up failures.
func (h *harness) startNoWait() (func(), chan error) {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, h.cfg, app.Deps{
		Schema: storetest.Schema(h.t), Clock: h.clk, Logger: h.log,
		ClientOpts: h.w.sim.ClientOpts(), Renderer: sharedRenderer(h.t),
	})
	if err != nil {
		cancel()
		h.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	return func() { cancel(); a.Close() }, done
}

// TODO(simtest): replace with discordsim/simtest once it lands.
func startSim(t *testing.T, opts discordsim.Options) *discordsim.Server {
	t.Helper()
	sim, err := discordsim.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = sim.Close()
		if u := sim.UnknownRoutes(); len(u) > 0 {
			t.Errorf("unknown routes: %v", u)
		}
		if f := sim.FailedInteractions(); len(f) > 0 {
			t.Errorf("failed interactions: %v", f)
		}
	})
	return sim
}

type logCapture struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (c *logCapture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Write(p)
}

func (c *logCapture) Text() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

func newLogCapture(t *testing.T) (*slog.Logger, *logCapture) {
	c := &logCapture{}
	t.Cleanup(func() {
		if t.Failed() {
			// The last lines say what the bot did just before the failure.
			lines := strings.Split(c.Text(), "\n")
			t.Log("bot log (tail):\n" + strings.Join(lines[max(0, len(lines)-40):], "\n"))
		}
	})
	// Debug level, so the token check also covers disgo's frame logging.
	return slog.New(slog.NewTextHandler(c, &slog.HandlerOptions{Level: slog.LevelDebug})), c
}
