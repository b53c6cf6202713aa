package commands_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/disgoorg/disgo"
	disgobot "github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/snowflake/v2"

	"rollcall/app/apptest"
	"rollcall/clock"
	"rollcall/commands"
	"rollcall/compose"
	"rollcall/config"
	"rollcall/discordsim"
	"rollcall/discordsim/conformance"
	"rollcall/discordsim/simtest"
	"rollcall/render"
	"rollcall/settings"
	"rollcall/store"
	"rollcall/store/storetest"
)

// brokenRenderer fails like a crashed browser, and panics on demand as a
// bug in building a reply would.
type brokenRenderer struct{ panicking *atomic.Bool }

func (brokenRenderer) Timeline(context.Context, render.TimelineChart) ([]byte, error) {
	return nil, fmt.Errorf("%w: browser exited", render.ErrUnavailable)
}

func (r brokenRenderer) Bars(context.Context, render.BarChart) ([]byte, error) {
	if r.panicking.Load() {
		var m map[string]int
		m["boom"]++ // a nil-map write, as a real bug would panic
	}
	return nil, errors.New("render bars: ECharts threw")
}

// seedEvent stores one event with alexey present for its first 45 minutes.
func seedEvent(t *testing.T, st *store.Store, guild, user uint64, start time.Time) {
	t.Helper()
	ctx := context.Background()
	if err := st.UpsertMembers(ctx, guild, []store.Member{{UserID: user, Username: "alexey", DisplayName: "Алексей 🎮", JoinedAt: start.AddDate(0, -1, 0)}}); err != nil {
		t.Fatal(err)
	}
	id, err := st.EnsureOccurrence(ctx, guild, "БЗС", start, start.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var present uint64 = 1<<45 - 1
	if err := st.Record(ctx, []store.Sample{{OccurrenceID: id, UserID: user, Present: present}},
		[]store.Coverage{{OccurrenceID: id, Sampled: 1<<60 - 1}}); err != nil {
		t.Fatal(err)
	}
}

// TestE2ECommandFaults runs the commands alone on a disgo client against the
// simulator, with a store that panics and a renderer that fails, to check
// that neither reaches the user as "interaction failed".
func TestE2ECommandFaults(t *testing.T) {
	clk := clock.NewFake(at(27, 15, 59, 50))
	opts := discordsim.Options{Now: clk.Now}
	// With DISCORD_OPENAPI_SPEC set (scripts/test.sh does), every request
	// the commands make is checked against Discord's published API.
	checker, err := conformance.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if checker != nil {
		opts.CheckRequest = checker.Check
	}
	sim := apptest.StartSim(t, opts)
	t.Cleanup(func() {
		if errs := sim.ConformanceErrors(); len(errs) > 0 {
			t.Errorf("requests that break Discord's API spec:\n%s", strings.Join(errs, "\n"))
		}
	})
	guild := sim.AddGuild("Клан")
	sim.AddChannel(guild, "general", discord.ChannelTypeGuildText)
	user := sim.AddMember(guild, discordsim.MemberSpec{Username: "alexey", GlobalName: "Алексей 🎮"})
	owner := sim.GuildOwner(guild)
	cfg, err := config.Parse(fmt.Sprintf(`
[[guilds]]
id = "%d"
timezone = "Europe/Moscow"
report_channels = ["1"]
  [[guilds.schedules]]
  name = "БЗС"
  times = ["16:00"]
  voice_channel_names = ["БЗС"]
`, guild), func(k string) string {
		return map[string]string{"DISCORD_TOKEN": sim.Token(), "DATABASE_URL": "postgres://unused@127.0.0.1/unused"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	st := storetest.New(t)
	seedEvent(t, st, uint64(guild), uint64(user), at(26, 16, 0, 0))
	var panicking atomic.Bool
	log, logs := simtest.NewLogCapture(t)
	cmds := commands.New(commands.Deps{Settings: settings.NewRegistry(cfg.Validated...), Store: st,
		Reports: &compose.Reports{Store: st, Renderer: brokenRenderer{&panicking}, Log: log}, Clock: clk, Logger: log})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client, err := disgo.New(sim.Token(), append(sim.ClientOpts(),
		disgobot.WithGatewayConfigOpts(gateway.WithIntents(gateway.IntentGuilds)),
		disgobot.WithEventListeners(cmds.Listener()))...)
	if err != nil {
		t.Fatal(err)
	}
	if err := cmds.Register(ctx, client); err != nil {
		t.Fatal(err)
	}
	if err := client.OpenGateway(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmds.Drain(10 * time.Second)
		client.Close(context.Background())
	}()
	for client.Gateway.Status() != gateway.StatusReady {
		if ctx.Err() != nil {
			t.Fatal("the gateway never became ready")
		}
		time.Sleep(5 * time.Millisecond)
	}
	invoke := func(t *testing.T, user snowflake.ID, command string, opts ...discordsim.Option) *discordsim.Response {
		t.Helper()
		r, err := sim.Invoke(ctx, discordsim.Invocation{GuildID: guild, UserID: user, Command: command, Options: opts})
		if err != nil {
			t.Fatal(err)
		}
		if r.Failed {
			t.Fatalf("/%s was not acknowledged", command)
		}
		return r
	}

	t.Run("timeline falls back to a text table", func(t *testing.T) {
		r := invoke(t, user, "event")
		wantFields(t, r, map[string]string{"Participants": "1", "Total minutes": "45"})
		e := r.Embeds[0]
		if len(r.Files) != 0 || e.Image != nil {
			t.Errorf("files %d, image %+v: want the table inline", len(r.Files), e.Image)
		}
		if !strings.Contains(e.Description, "```") || !strings.Contains(e.Description, "Алексей 🎮") || !strings.Contains(e.Description, "45") {
			t.Errorf("description:\n%s", e.Description)
		}
	})

	t.Run("bars fall back to a text table", func(t *testing.T) {
		r := invoke(t, owner, "week")
		e := r.Embeds[0]
		if !strings.Contains(e.Description, "```") || !strings.Contains(e.Description, "█") {
			t.Errorf("description:\n%s", e.Description)
		}
	})

	t.Run("a panic while preparing becomes a message", func(t *testing.T) {
		panicking.Store(true)
		defer panicking.Store(false)
		r := invoke(t, user, "member")
		refusal(t, r, "Something went wrong on our side", "ref ")
		if !strings.Contains(logs.Text(), "command panicked") || !strings.Contains(logs.Text(), "assignment to entry in nil map") {
			t.Error("the panic was not logged with its cause")
		}
	})

	t.Run("the bot still answers after a panic", func(t *testing.T) {
		r := invoke(t, user, "member")
		wantFields(t, r, map[string]string{"Events attended of expected": "1 of 1", "Total minutes": "45"})
	})

	t.Run("a public request that fails answers privately", func(t *testing.T) {
		r := invoke(t, user, "event", discordsim.Option{Name: "event", Value: "7"}, discordsim.Option{Name: "public", Value: true})
		if r.Message != nil {
			t.Errorf("the public placeholder stayed: %+v", r.Message)
		}
		cmds.Drain(10 * time.Second) // the follow-up is sent after the placeholder is deleted
	})

	t.Run("a command of an older version", func(t *testing.T) {
		// Registered by someone else (or an older rollcall) and still offered.
		if _, err := client.Rest.SetGuildCommands(client.ApplicationID, guild, append(commands.Definitions(),
			discord.SlashCommandCreate{Name: "stats", Description: "old"})); err != nil {
			t.Fatal(err)
		}
		r := invoke(t, user, "stats")
		refusal(t, r, "has no such command")
	})
}
