package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"time"

	disgobot "github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"

	"rollcall/bot"
	"rollcall/clock"
	"rollcall/config"
	"rollcall/discordsim"
	"rollcall/settings"
	"rollcall/store"
)

// membersPerChannel spreads people over voice channels as a big guild
// would (Discord caps a voice channel at 99 users).
const membersPerChannel = 99

var msk = mustLoc("Europe/Moscow")

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// eventStart is when every simulated event of figures 1, 5 and 6 starts: a
// Wednesday, so no weekly report falls due.
var eventStart = time.Date(2026, 11, 25, 12, 0, 0, 0, msk)

// world is one guild in the Discord simulator: members, watched voice
// channels named like the original community's ("БЗС ..."), one text
// channel for reports.
type world struct {
	sim      *discordsim.Server
	guild    snowflake.ID
	reports  snowflake.ID
	members  []snowflake.ID
	channels []snowflake.ID
	inVoice  int
}

func newWorld(members int, now func() time.Time) (*world, error) {
	sim, err := discordsim.New(discordsim.Options{Now: now})
	if err != nil {
		return nil, err
	}
	w := &world{sim: sim}
	w.guild = sim.AddGuild("Клан")
	w.reports = sim.AddChannel(w.guild, "отчёты", discord.ChannelTypeGuildText)
	sim.AddChannel(w.guild, "Чилл", discord.ChannelTypeGuildVoice) // not watched
	// The watched channels exist before the bot starts: it checks at
	// start-up that the configured names match a voice channel.
	for c := 0; c == 0 || c*membersPerChannel < members; c++ {
		w.channels = append(w.channels, sim.AddChannel(w.guild, fmt.Sprintf("БЗС %d", c+1), discord.ChannelTypeGuildVoice))
	}
	joined := eventStart.AddDate(-1, 0, 0)
	for i := range members {
		w.members = append(w.members, sim.AddMember(w.guild, discordsim.MemberSpec{
			Username: fmt.Sprintf("member%05d", i), GlobalName: memberName(i), JoinedAt: joined,
		}))
	}
	return w, nil
}

func (w *world) close() { _ = w.sim.Close() }

// memberName mixes Latin, Cyrillic and emoji as the real guild's names do.
func memberName(i int) string {
	switch i % 4 {
	case 0:
		return fmt.Sprintf("Игрок %d", i)
	case 1:
		return fmt.Sprintf("player_%d", i)
	case 2:
		return fmt.Sprintf("Зоя %d ⚔️", i)
	default:
		return fmt.Sprintf("Ann %d 🎮", i)
	}
}

// fillVoice puts the first n members in the watched channels.
func (w *world) fillVoice(n int) {
	for ; w.inVoice < n && w.inVoice < len(w.members); w.inVoice++ {
		c := w.inVoice / membersPerChannel
		w.sim.SetVoice(w.guild, w.members[w.inVoice], w.channels[c], discordsim.VoiceFlags{SelfMute: w.inVoice%7 == 0})
	}
}

// configText is a one-guild config: one schedule, events at 12:00 lasting
// two hours, watching every channel whose name contains "БЗС".
func configText(guild, reports snowflake.ID) string {
	return fmt.Sprintf(`
poll_interval = "5s"
[[guilds]]
id = "%d"
timezone = "Europe/Moscow"
report_channels = ["%d"]
  [guilds.weekly_report]
  enabled = false
  [[guilds.schedules]]
  name = "БЗС"
  times = ["12:00"]
  duration = "2h"
  voice_channel_names = ["БЗС"]
`, guild, reports)
}

// placeholderToken satisfies config validation where nothing talks to Discord.
var placeholderToken = base64.RawStdEncoding.EncodeToString([]byte("1")) + ".bench.placeholder"

func parseConfig(text, token, dbURL string) (*config.Config, error) {
	return config.Parse(text, func(k string) string {
		return map[string]string{"DISCORD_TOKEN": token, "DATABASE_URL": dbURL}[k]
	})
}

// runningBot is the real bot (bot.New and Run, as app.New wires it, minus
// the browser) on a fake clock that nobody advances: its Run loop stays
// parked, and the benchmark calls Tick itself with the time it wants.
type runningBot struct {
	bot    *bot.Bot
	clk    *clock.Fake
	cancel context.CancelFunc
	done   chan error
}

func startBot(cfg *config.Config, st *store.Store, clk *clock.Fake, clientOpts []disgobot.ConfigOpt, log *slog.Logger) (*runningBot, error) {
	b, err := bot.New(bot.Options{Settings: settings.NewRegistry(cfg.Validated...), Token: cfg.Token.Value(), PollInterval: cfg.PollInterval.D(), DBOutageWindow: cfg.DBOutageWindow.D(), CatchUp: cfg.CatchUp.D(), Store: st, Clock: clk, Logger: log, ClientOpts: clientOpts})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	rb := &runningBot{bot: b, clk: clk, cancel: cancel, done: make(chan error, 1)}
	go func() { rb.done <- b.Run(ctx) }()
	// disgo waits a second before its first gateway open; chunking a large
	// member list takes a few more.
	deadline := time.Now().Add(2 * time.Minute)
	for !b.Ready() || clk.Waiters() < 1 {
		select {
		case err := <-rb.done:
			cancel()
			return nil, fmt.Errorf("bot stopped while starting: %w", err)
		default:
		}
		if time.Now().After(deadline) {
			rb.stop()
			return nil, errors.New("bot did not become ready within 2 minutes")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return rb, nil
}

func (rb *runningBot) stop() {
	rb.cancel()
	select {
	case <-rb.done:
	case <-time.After(20 * time.Second):
	}
}

// waitVoice waits until the bot's cache shows n members in voice, so the
// next tick sees them all.
func (rb *runningBot) waitVoice(guild snowflake.ID, n int) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		got := 0
		for vs := range rb.bot.Client().Caches.VoiceStates(guild) {
			if vs.ChannelID != nil {
				got++
			}
		}
		if got >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the bot's cache shows %d members in voice, want %d", got, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
