// Package apptest runs the real rollcall app in tests: a guild in the
// Discord simulator, a fresh Postgres database, a shared Chromium renderer
// and a fake clock. End-to-end tests of every package start the bot through
// it, exactly as the binary does.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
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
	"rollcall/compose"
	"rollcall/config"
	"rollcall/discordsim"
	"rollcall/discordsim/simtest"
	"rollcall/render"
	"rollcall/store"
	"rollcall/store/storetest"
)

var (
	rendererOnce sync.Once
	renderer     *render.Renderer
	rendererErr  error
)

// CloseRenderer closes the shared browser and removes the rollcall binary
// Binary built; call it from TestMain after m.Run.
func CloseRenderer() {
	if renderer != nil {
		_ = renderer.Close()
	}
	removeBinary()
}

// SharedRenderer is one browser for the whole test binary: starting
// Chromium costs about a second.
func SharedRenderer(t testing.TB) *render.Renderer {
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

// World is a guild in the simulator shaped like the original community's.
type World struct {
	Sim                   *discordsim.Server
	Guild                 snowflake.ID
	BZS, BZS2, Chill, AFK snowflake.ID            // two watched voice channels, one not watched, the AFK channel
	Reports, Reports2     snowflake.ID            // text channels receiving reports
	Members               map[string]snowflake.ID // by username
}

// NewWorld builds the guild: six people (Cyrillic and emoji names among
// them) and a music bot, all members for a month.
func NewWorld(t testing.TB, clk *clock.Fake) *World {
	t.Helper()
	return NewWorldAt(t, clk.Now)
}

// NewWorldAt is NewWorld on any clock: time.Now for a world that a real
// rollcall process, which runs on real time, connects to.
func NewWorldAt(t testing.TB, now func() time.Time) *World {
	t.Helper()
	sim := StartSim(t, discordsim.Options{Now: now})
	w := &World{Sim: sim, Members: map[string]snowflake.ID{}}
	w.Guild = sim.AddGuild("Клан")
	w.BZS = sim.AddChannel(w.Guild, "БЗС основной", discord.ChannelTypeGuildVoice)
	w.BZS2 = sim.AddChannel(w.Guild, "бзс резерв", discord.ChannelTypeGuildVoice)
	w.Chill = sim.AddChannel(w.Guild, "Чилл", discord.ChannelTypeGuildVoice)
	w.AFK = sim.AddChannel(w.Guild, "AFK", discord.ChannelTypeGuildVoice)
	sim.SetAFKChannel(w.Guild, w.AFK)
	w.Reports = sim.AddChannel(w.Guild, "отчёты", discord.ChannelTypeGuildText)
	w.Reports2 = sim.AddChannel(w.Guild, "mod-log", discord.ChannelTypeGuildText)
	joined := now().AddDate(0, -1, 0)
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
		w.Members[m.Username] = sim.AddMember(w.Guild, m)
	}
	return w
}

// ConfigText is a config for w with one schedule.
func (w *World) ConfigText(times, duration string) string {
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
`, w.Guild, w.Reports, w.Reports2, times, duration)
}

// Harness runs the real app against the simulator, a fresh database and
// a fake clock.
type Harness struct {
	W      *World
	Clock  *clock.Fake
	Config *config.Config
	DBURL  string
	App    *app.App // nil while stopped
	Logs   *LogCapture
	// Renderer replaces the shared browser for the next Start, e.g. a failing one.
	Renderer    compose.Renderer
	t           testing.TB
	cancel      context.CancelFunc
	done        chan error
	log         *slog.Logger
	parked      *[]*Harness // running bots sharing this clock; a tick is over when all wait again
	directStore *store.Store
}

// New prepares a harness for w with the config text (the token and a fresh
// database are filled in); nothing runs until Start. It fails t if the
// token ever reaches the log.
func New(t testing.TB, w *World, clk *clock.Fake, cfgText string) *Harness {
	t.Helper()
	dbURL := storetest.URL(t)
	cfg, err := config.Parse(cfgText, func(k string) string {
		return map[string]string{"DISCORD_TOKEN": w.Sim.Token(), "DATABASE_URL": dbURL}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	log, logs := newLogCapture(t)
	h := &Harness{t: t, W: w, Clock: clk, Config: cfg, DBURL: dbURL, Logs: logs, log: log, parked: new([]*Harness)}
	// The log is captured at debug level: neither the bot token nor any
	// interaction token the simulator issued may appear in it.
	simtest.WatchLog(t, w.Sim, logs)
	t.Cleanup(func() {
		h.Stop()
		CheckNoMentions(t, w.Sim)
	})
	return h
}

// CheckNoMentions fails t for every create or edit of a message the bot
// made (posts, command replies, follow-ups, errors) that lets Discord ping
// anyone: names and report text come from members, and none of it may
// mention anybody. disgo sends its own default (users, roles, everyone,
// replied user) when a message sets none, so nil is not what is checked:
// the value must mention nobody. Every end-to-end test runs it at cleanup;
// that each write sets exactly {"parse": []} is TestFaultAllowedMentions'.
func CheckNoMentions(t testing.TB, sim *discordsim.Server) {
	t.Helper()
	for _, m := range sim.BotMessages() {
		for i, wr := range m.Writes {
			if am := wr.AllowedMentions; !MentionsNobody(am) {
				t.Errorf("message %d in channel %d (write %d of %d, interaction %v) allows mentions %s, want {\"parse\":[]}",
					m.ID, m.ChannelID, i+1, len(m.Writes), m.Interaction, DescribeMentions(am))
			}
		}
	}
}

// NoMentions reports whether am is exactly what rollcall means by "mention
// nobody": {"parse": []} and nothing else.
func NoMentions(am *discord.AllowedMentions) bool {
	return am != nil && am.Parse != nil && len(am.Parse) == 0 && len(am.Users) == 0 && len(am.Roles) == 0 && !am.RepliedUser
}

// MentionsNobody reports whether am, as Discord reads it, pings nobody: it
// was sent, parses nothing (an empty or null parse) and lists no one.
func MentionsNobody(am *discord.AllowedMentions) bool {
	return am != nil && len(am.Parse) == 0 && len(am.Users) == 0 && len(am.Roles) == 0 && !am.RepliedUser
}

// DescribeMentions is am as the JSON the bot sent.
func DescribeMentions(am *discord.AllowedMentions) string {
	if am == nil {
		return "(none sent)"
	}
	b, _ := json.Marshal(am)
	return string(b)
}

// Start starts the app and returns once it is parked waiting for its first tick.
func (h *Harness) Start() {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, h.Config, app.Deps{
		Schema: storetest.Schema(h.t), Clock: h.Clock, Logger: h.log,
		ClientOpts: h.W.Sim.ClientOpts(), Renderer: h.renderer(),
		ProcessID:    fmt.Sprintf("test-%d", time.Now().UnixNano()),
		WriteTimeout: 2 * time.Second, PostBackoff: 100 * time.Millisecond,
	})
	if err != nil {
		cancel()
		h.t.Fatal(err)
	}
	h.App, h.cancel, h.done = a, cancel, make(chan error, 1)
	*h.parked = append(*h.parked, h)
	go func() { h.done <- a.Run(ctx) }()
	h.WaitParked()
}

// WaitParked waits until every bot's loop sits in clock.After and its
// recorder has written what the last tick handed it, i.e. the previous tick
// is complete.
func (h *Harness) WaitParked() {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !h.parkedAll() {
		for _, x := range *h.parked {
			select {
			case err := <-x.done:
				h.t.Fatalf("bot stopped: %v", err)
			default:
			}
		}
		if time.Now().After(deadline) {
			h.t.Fatal("the bot never waited for its next tick")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (h *Harness) parkedAll() bool {
	if h.Clock.Waiters() < len(*h.parked) {
		return false
	}
	now := h.Clock.Now()
	for _, x := range *h.parked {
		if !x.App.Bot.Settled(now) {
			return false
		}
	}
	return true
}

// Settle waits until the posts that fell due so far are sent (or given
// up, or waiting for a retry later than a moment from now).
func (h *Harness) Settle() {
	h.t.Helper()
	h.WaitParked()
	deadline := time.Now().Add(60 * time.Second)
	// The jobs are counted on a connection of the harness's own, straight to
	// the database: the bot's may go through a proxy a test has cut.
	st := h.direct()
	for {
		n, err := st.PendingJobs(context.Background(), 2*time.Second)
		if err != nil {
			h.t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatal("posts still pending after a minute")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (h *Harness) Stop() {
	if h.App == nil {
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
	h.App.Close()
	h.App = nil
	kept := (*h.parked)[:0]
	for _, x := range *h.parked {
		if x != h {
			kept = append(kept, x)
		}
	}
	*h.parked = kept
}

// RunUntil ticks the fake clock in poll steps up to and including t,
// running each scripted action just before the tick at its time.
func (h *Harness) RunUntil(t time.Time, script map[time.Time]func()) {
	h.t.Helper()
	for h.Clock.Now().Before(t) {
		next := h.Clock.Now().Truncate(5 * time.Second).Add(5 * time.Second)
		for at, f := range script {
			if at.After(h.Clock.Now()) && !at.After(next) {
				f()
			}
		}
		h.WaitParked()
		h.Clock.Set(next)
		h.WaitParked()
	}
	if len(*h.parked) > 0 {
		h.Settle()
	}
}

// SetVoice moves a member in the simulator and waits until the bot's cache
// shows it, so the next tick sees the change.
func (h *Harness) SetVoice(user, channel snowflake.ID, f discordsim.VoiceFlags) {
	h.t.Helper()
	h.W.Sim.SetVoice(h.W.Guild, user, channel, f)
	deadline := time.Now().Add(10 * time.Second)
	for {
		vs, ok := h.App.Bot.Client().Caches.VoiceState(h.W.Guild, user)
		if channel == 0 && !ok || ok && vs.ChannelID != nil && *vs.ChannelID == channel && vs.SelfMute == f.SelfMute && vs.SelfDeaf == f.SelfDeaf {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("the bot never saw user %d move to %d", user, channel)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func DecodePNG(t testing.TB, data []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("attachment is not a PNG: %v", err)
	}
	return img
}

// FilledBands counts horizontal bands of the timeline's present colour
// (#2f6fdb) or muted colour (#a7c2f2): one band per participant row, plus
// the legend's swatches, which sit above the plot.
func FilledBands(img image.Image, minPixels int) int {
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

// StartNoWait starts the app and returns its stop function and the channel
// Run's result arrives on, for tests of start-up failures.
func (h *Harness) StartNoWait() (func(), chan error) {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, h.Config, app.Deps{
		Schema: storetest.Schema(h.t), Clock: h.Clock, Logger: h.log,
		ClientOpts: h.W.Sim.ClientOpts(), Renderer: SharedRenderer(h.t),
	})
	if err != nil {
		cancel()
		h.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	return func() { cancel(); a.Close() }, done
}

// StartSim starts a simulator for t: every REST request is checked against
// Discord's OpenAPI spec (DISCORD_OPENAPI_SPEC), and t fails on a request
// that does not conform, an unknown route or an interaction not answered
// properly.
func StartSim(t testing.TB, opts discordsim.Options) *discordsim.Server {
	t.Helper()
	return simtest.Start(t, opts)
}

// LogCapture keeps the bot's log for assertions.
type LogCapture = simtest.LogCapture

// newLogCapture records the bot's log at debug level (so the token check
// also covers disgo's frame logging), fails t if disgo could not decode
// anything the simulator sent, and prints the tail of the log when t fails.
func newLogCapture(t testing.TB) (*slog.Logger, *LogCapture) {
	log, c := simtest.NewLogCapture(t)
	c.FailOnParseErrors(t)
	t.Cleanup(func() {
		if t.Failed() {
			lines := c.Lines()
			t.Log("bot log (tail):\n" + strings.Join(lines[max(0, len(lines)-40):], "\n"))
		}
	})
	return log, c
}

// direct is a store on the test database itself, never through a proxy,
// opened once.
func (h *Harness) direct() *store.Store {
	if h.directStore == nil {
		st, err := store.Open(context.Background(), h.DBURL)
		if err != nil {
			h.t.Fatal(err)
		}
		h.t.Cleanup(st.Close)
		h.directStore = st
	}
	return h.directStore
}

// Store opens the harness's database (migrated) for seeding or checking,
// whether or not the bot is running; it is closed when the test ends.
func (h *Harness) Store() *store.Store {
	h.t.Helper()
	st, err := store.Open(context.Background(), h.DBURL)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(st.Close)
	if err := st.Migrate(context.Background(), storetest.Schema(h.t)); err != nil {
		h.t.Fatal(err)
	}
	return st
}

func secretOf(s string) config.Secret { return config.Secret(s) }

// Twin is a second bot process on the same guild, database and clock, as
// in a rolling deploy. Start and stop it like the first; RunUntil on either
// waits for both to finish each tick.
func (h *Harness) Twin() *Harness { return h.TwinWith("twin", nil) }

// TwinWith is Twin with its own name in the log ("process" attribute) and
// its config changed by edit (e.g. other shard ids).
func (h *Harness) TwinWith(name string, edit func(*config.Config)) *Harness {
	h.t.Helper()
	cfg := *h.Config
	if edit != nil {
		edit(&cfg)
	}
	t := &Harness{t: h.t, W: h.W, Clock: h.Clock, Config: &cfg, DBURL: h.DBURL, Logs: h.Logs, log: h.log.With(slog.String("process", name)), parked: h.parked}
	h.t.Cleanup(t.Stop)
	return t
}

// WaitReady waits until the bot is connected and every guild is ready
// again, after a gateway disconnect or an invalid session.
func (h *Harness) WaitReady() {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !h.App.Bot.Ready() {
		if time.Now().After(deadline) {
			h.t.Fatal("the bot did not become ready again")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (h *Harness) renderer() compose.Renderer {
	if h.Renderer != nil {
		return h.Renderer
	}
	return SharedRenderer(h.t)
}
