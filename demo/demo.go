// Package demo runs rollcall for someone who has no Discord application
// and no database: the Discord simulator with a synthetic community, the
// real bot on a compressed clock, and a feed page showing everything the
// bot posted as a person would see it in Discord.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/disgoorg/snowflake/v2"

	"rollcall/app"
	"rollcall/clock"
	"rollcall/config"
	"rollcall/discordsim"
	"rollcall/render"
	"rollcall/settings"
	"rollcall/store"
)

// Options configure a demo run.
type Options struct {
	Out   string  // output folder for index.html and the PNGs
	Speed float64 // how many times faster than real time the clock runs
	Serve bool    // serve the feed on 127.0.0.1 while the demo runs
	Addr  string  // listen address for Serve; default 127.0.0.1:8080
	// DatabaseURL is the PostgreSQL to use; the caller starts a private one
	// when none is configured.
	DatabaseURL string
	Schema      string // schema.sql
	Render      render.Options
	Logger      *slog.Logger
	Stdout      io.Writer
}

// tz is the community's zone, as in the original bot's guild.
var tz = mustZone("Europe/Moscow")

func mustZone(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// Run plays the scripted demo and writes the feed; it returns when done.
// Interrupted (ctx cancelled, as Ctrl-C does through main's signal
// context), it writes the feed so far, says so, and returns nil: stopping
// the demo is a normal way to end it, not an error.
func Run(ctx context.Context, o Options) error {
	_, err := run(ctx, o)
	return err
}

// played is what a run leaves behind for its tests: the community it
// scripted and the feed it wrote.
type played struct {
	c              *community
	f              *feed
	setUp          *settings.Guild // the bot's settings for the guild right after /rollcall schedule add
	regulars       int             // members given the Regular role by the rule's first evaluation
	event, evening time.Time       // the two Sunday events the demo plays
	eventStories   []story         // the 16:00 event's
	eveningStories []story         // the 21:00 event's
}

func run(ctx context.Context, o Options) (*played, error) {
	if o.Speed <= 0 {
		return nil, errors.New("--speed must be positive (60 makes a one-hour event take a minute)")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, fmt.Errorf("--out: %w", err)
	}
	// Sunday 22 Nov 2026, a few minutes before the 16:00 event: time for
	// the moderator to set rollcall up. A week of history before it, so the
	// weekly report at Monday 00:00 has something to say.
	start := time.Date(2026, 11, 22, 15, 55, 0, 0, tz)
	clk := clock.NewFake(start)
	sim, err := discordsim.New(discordsim.Options{Now: clk.Now, Logger: o.Logger.With(slog.String("component", "discordsim"))})
	if err != nil {
		return nil, err
	}
	defer sim.Close()
	c := newCommunity(sim, start)
	cfg, err := config.Parse(configText, func(k string) string {
		return map[string]string{"DISCORD_TOKEN": sim.Token(), "DATABASE_URL": o.DatabaseURL}[k]
	})
	if err != nil {
		return nil, fmt.Errorf("demo config: %w", err)
	}
	if err := seedHistory(ctx, o, c, start); err != nil {
		return nil, early(ctx, o, err)
	}
	f := &feed{dir: o.Out, Title: "rollcall demo", channels: map[snowflake.ID]string{c.general: "общий", c.reports: "отчёты", c.commands: "команды"}, mention: c.mention}
	if o.Serve {
		stop, err := serve(o, f)
		if err != nil {
			return nil, err
		}
		defer stop()
	}
	a, err := app.New(ctx, cfg, app.Deps{Schema: o.Schema, Clock: clk, Logger: o.Logger, ClientOpts: sim.ClientOpts(), RenderOptions: o.Render})
	if err != nil {
		return nil, early(ctx, o, err)
	}
	defer a.Close()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()
	d := &driver{clk: clk, speed: o.Speed, done: done, sim: sim, c: c, f: f, out: o.Stdout, app: a}
	p := &played{c: c, f: f, event: time.Date(2026, 11, 22, 16, 0, 0, 0, tz), evening: time.Date(2026, 11, 22, 21, 0, 0, 0, tz),
		eventStories: c.eventStories(1), eveningStories: c.eveningStories()}
	playErr := d.play(ctx, p)
	cancel()
	if err := d.wait(); err != nil && playErr == nil {
		playErr = err
	}
	if playErr != nil && !stopped(ctx) {
		return nil, playErr
	}
	f.collect(sim)
	if err := f.write(); err != nil {
		return nil, err
	}
	if stopped(ctx) {
		fmt.Fprintf(o.Stdout, "demo interrupted: %d messages so far, %d images. Open %s\n", f.messages(), f.images(), filepath.Join(o.Out, "index.html"))
		return p, nil
	}
	fmt.Fprintf(o.Stdout, "demo done: %d messages, %d images. Open %s\n", f.messages(), f.images(), filepath.Join(o.Out, "index.html"))
	return p, nil
}

// stopped reports whether the demo was interrupted: ctx cancelled, as
// main's signal context is on Ctrl-C or SIGTERM. A deadline is not a stop
// but a failure.
func stopped(ctx context.Context) bool { return errors.Is(ctx.Err(), context.Canceled) }

// early is what an error before the bot runs returns: nil when it came of an
// interrupt, which is said instead.
func early(ctx context.Context, o Options, err error) error {
	if stopped(ctx) {
		fmt.Fprintln(o.Stdout, "demo interrupted before it started.")
		return nil
	}
	return err
}

// seedHistory writes Monday to Saturday of the week under the schedule's
// name, as import-legacy brings in what a community's previous bot
// recorded, so the weekly report has a week to rank. The schedule itself
// does not exist yet: the moderator adds it from Discord (setUp).
func seedHistory(ctx context.Context, o Options, c *community, sunday time.Time) error {
	st, err := store.Open(ctx, o.DatabaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx, o.Schema); err != nil {
		return err
	}
	// The simulator hands out the same ids on every run: start the demo
	// server afresh, or the last run's reports would count as posted.
	if _, err := st.PurgeGuild(ctx, uint64(c.guild), false); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(22, 11))
	for d := 6; d >= 1; d-- {
		day := sunday.AddDate(0, 0, -d)
		for _, hh := range []int{16, 21} {
			s := time.Date(day.Year(), day.Month(), day.Day(), hh, 0, 0, 0, tz)
			id, err := st.EnsureOccurrence(ctx, uint64(c.guild), "БЗС", s, s.Add(time.Hour))
			if err != nil {
				return err
			}
			var samples []store.Sample
			for i, p := range c.people {
				if i%9 == 8 || i == len(c.people)-1 || rng.IntN(10) < 3 {
					continue // the never-comers, the newcomer, and a few absences
				}
				from := rng.IntN(20)
				to := 30 + rng.IntN(30)
				var mask uint64
				for m := from; m < to; m++ {
					mask |= 1 << m
				}
				samples = append(samples, store.Sample{OccurrenceID: id, UserID: uint64(p.id), Present: mask})
			}
			full := uint64(1)<<60 - 1
			if err := st.Record(ctx, samples, []store.Coverage{{OccurrenceID: id, Sampled: full}}); err != nil {
				return err
			}
		}
	}
	return nil
}

// driver moves the fake clock at the chosen speed, one poll at a time,
// and plays the script.
type driver struct {
	clk   *clock.Fake
	speed float64
	done  chan error
	ended bool  // done has been received from
	err   error // what it gave
	sim   *discordsim.Server
	c     *community
	f     *feed
	out   io.Writer // progress lines for the person waiting
	app   *app.App
}

// timedMove is a move at a time of the clock.
type timedMove struct {
	at time.Time
	move
}

// timed places an event's moves at their times; those before the start
// happen a second from now.
func (d *driver) timed(event time.Time, ms []move) []timedMove {
	out := make([]timedMove, len(ms))
	for i, m := range ms {
		at := event.Add(time.Duration(m.minute) * time.Minute)
		if m.minute < 0 {
			at = d.clk.Now().Add(time.Second)
		}
		out[i] = timedMove{at: at, move: m}
	}
	return out
}

// step advances to t in 5-second polls, running each move due on the way
// before the poll that should see it; speed is how much faster than real
// time the polls go by.
func (d *driver) step(ctx context.Context, t time.Time, moves []timedMove, speed float64) error {
	for d.clk.Now().Before(t) {
		if err := d.parked(ctx); err != nil {
			return err
		}
		next := d.clk.Now().Truncate(5 * time.Second).Add(5 * time.Second)
		for _, m := range moves {
			if m.at.After(d.clk.Now()) && !m.at.After(next) {
				if err := d.setVoice(ctx, m.move); err != nil {
					return err
				}
			}
		}
		time.Sleep(time.Duration(float64(5*time.Second) / speed))
		d.clk.Set(next)
	}
	return d.parked(ctx)
}

// setVoice makes the move in the simulator and waits until the bot's cache
// shows it, so the next poll sees it whatever the machine's load: the
// simulator dispatches at once, disgo caches asynchronously.
func (d *driver) setVoice(ctx context.Context, m move) error {
	d.sim.SetVoice(d.c.guild, m.user, m.channel, m.flags)
	deadline := time.Now().Add(30 * time.Second)
	for {
		vs, ok := d.app.Bot.Client().Caches.VoiceState(d.c.guild, m.user)
		if m.channel == 0 && !ok || ok && vs.ChannelID != nil && *vs.ChannelID == m.channel && vs.SelfMute == m.flags.SelfMute && vs.SelfDeaf == m.flags.SelfDeaf {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the bot never saw %s move to channel %s", m.user, m.channel)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

// parked waits until the bot finished its tick (its samples written) and
// waits for the next.
func (d *driver) parked(ctx context.Context) error {
	for d.clk.Waiters() < 1 || !d.app.Bot.Settled(d.clk.Now()) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		select {
		case err := <-d.done:
			d.ended, d.err = true, err
			if ctx.Err() != nil {
				return ctx.Err() // stopped because the demo was
			}
			if err == nil {
				err = errors.New("the bot stopped before the demo ended")
			}
			return err
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
	return nil
}

// wait returns the bot's Run result once it has stopped.
func (d *driver) wait() error {
	if !d.ended {
		d.err, d.ended = <-d.done, true
	}
	return d.err
}

// eventMinutes is how long the demo's events last (the schedule's 60m).
const eventMinutes = 60

func (d *driver) play(ctx context.Context, p *played) error {
	c := d.c
	fmt.Fprintln(d.out, "Sunday 15:55 Moscow: rollcall joins the server; its owner sets it up from Discord (/rollcall setup, schedule add, roles add)...")
	if err := d.setUp(ctx, p); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "Sunday 16:00 Moscow: the БЗС event starts; %d people come and go (a simulated hour)...\n", len(c.people))
	moves := d.timed(p.event, c.script(p.eventStories, eventMinutes))
	if err := d.step(ctx, p.event.Add((eventMinutes+1)*time.Minute), moves, d.speed); err != nil {
		return err
	}
	if err := d.settle(ctx); err != nil {
		return err
	}
	fmt.Fprintln(d.out, "17:00: the event is over and reported; a moderator and members use the slash commands...")
	if err := d.runCommands(ctx, p); err != nil {
		return err
	}
	// The 21:00 event is played too, only faster: skipping it left the
	// week one event short of what the schedule holds.
	fmt.Fprintf(d.out, "21:00: the evening event, played %d times faster; %d people come...\n", eveningFaster, len(p.eveningStories))
	d.clk.Set(p.evening.Add(-30 * time.Second))
	moves = d.timed(p.evening, c.script(p.eveningStories, eventMinutes))
	if err := d.step(ctx, p.evening.Add((eventMinutes+1)*time.Minute), moves, d.speed*eveningFaster); err != nil {
		return err
	}
	if err := d.settle(ctx); err != nil {
		return err
	}
	// The rest of the evening passes; the week ends at Monday 00:00.
	fmt.Fprintln(d.out, "Monday 00:00: the week ends; the weekly report goes out...")
	d.clk.Set(time.Date(2026, 11, 22, 23, 59, 30, 0, tz))
	if err := d.step(ctx, time.Date(2026, 11, 23, 0, 1, 0, 0, tz), nil, d.speed); err != nil {
		return err
	}
	return d.settle(ctx)
}

// eveningFaster is how much faster than the chosen speed the 21:00 event
// goes by: the feed has one event told minute by minute already.
const eveningFaster = 10

// settle waits until the posts that fell due are sent, and takes them into
// the feed.
func (d *driver) settle(ctx context.Context) error {
	for {
		if err := d.parked(ctx); err != nil {
			return err
		}
		ok, err := d.app.Settled(ctx, d.clk.Now())
		if err != nil {
			return err
		}
		if ok {
			d.f.sync(d.sim)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// serve shows the feed on 127.0.0.1 while the demo runs.
func serve(o Options, f *feed) (func(), error) {
	addr := o.Addr
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--serve: %w", err)
	}
	srv := &http.Server{Handler: f.handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	fmt.Fprintf(o.Stdout, "serving the live feed at http://%s/\n", ln.Addr())
	return func() { _ = srv.Close() }, nil
}
