// Package app wires rollcall together: store, settings, renderer, report
// pipeline, job queue, bot and commands. main and the end-to-end tests (and
// the demo) start the bot through it, so tests run exactly what the binary
// runs. It is the only package besides main that reads the configuration.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	disgobot "github.com/disgoorg/disgo/bot"

	"rollcall/bot"
	"rollcall/clock"
	"rollcall/commands"
	"rollcall/compose"
	"rollcall/config"
	"rollcall/health"
	"rollcall/jobs"
	"rollcall/render"
	"rollcall/settings"
	"rollcall/store"
)

// Deps are the parts a caller may supply; zero values get production defaults.
type Deps struct {
	Schema string // schema.sql, required
	Clock  clock.Clock
	Logger *slog.Logger
	// ClientOpts are extra disgo options (the simulator's URLs in tests and the demo).
	ClientOpts []disgobot.ConfigOpt
	// Renderer, when set, is used instead of starting a browser; it is not closed.
	Renderer compose.Renderer
	// RenderOptions configure the browser started when Renderer is nil.
	RenderOptions render.Options
	// ProcessID names this process to the job queue and in shard leases;
	// default host:pid:random.
	ProcessID string
	// WriteTimeout bounds one write of samples (default 5 s); PostBackoff
	// is a failing post's first retry delay (default 5 s). Tests shorten them.
	WriteTimeout, PostBackoff time.Duration
	// PrivateDB, when rollcall runs its own PostgreSQL, reports whether it
	// still runs (rollcall_private_database_up); nil with a database URL.
	PrivateDB func() bool
}

// App is a wired, not yet running rollcall.
type App struct {
	Bot      *bot.Bot
	Store    *store.Store
	Settings *settings.Registry
	Reports  *compose.Reports
	Jobs     *jobs.Queue
	Commands *commands.Commands
	sync     *settingsSync
	close    []func()
	log      *slog.Logger
	clock    clock.Clock
	poll     time.Duration
	metrics  *metrics
	http     *health.Server // nil unless http_listen is set
}

// New opens and migrates the database, starts the renderer and builds the
// job queue, the bot and the commands. Close releases what New opened.
func New(ctx context.Context, cfg *config.Config, d Deps) (*App, error) {
	if d.Clock == nil {
		d.Clock = clock.Real{}
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	// Every log line passes the redactor, not only disgo's: rollcall's own
	// errors quote request URLs, and interaction tokens live in them.
	d.Logger = slog.New(bot.RedactingHandler(d.Logger.Handler(), cfg.Token.Value()))
	a := &App{log: d.Logger, clock: d.Clock, poll: cfg.PollInterval.D(), metrics: newMetrics()}
	st, err := store.Open(ctx, cfg.DatabaseURL.Value())
	if err != nil {
		return nil, err
	}
	a.Store = st
	a.close = append(a.close, st.Close)
	if err := st.Migrate(ctx, d.Schema); err != nil {
		a.Close()
		return nil, err
	}
	renderer := d.Renderer
	if renderer == nil {
		opts := d.RenderOptions
		opts.Logger = d.Logger
		r, err := render.New(ctx, opts)
		if err != nil {
			// Reports still go out as text tables; say how to get charts.
			d.Logger.Error("charts are disabled, reports will be text tables", slog.Any("error", err))
		} else {
			renderer = r
			a.close = append(a.close, func() { _ = r.Close() })
		}
	}
	a.Settings = settings.NewRegistry(cfg.Validated...)
	a.sync = &settingsSync{store: st, reg: a.Settings, log: d.Logger.With(slog.String("component", "settings")), url: cfg.DatabaseURL.Value()}
	if err := a.sync.loadAll(ctx); err != nil {
		a.Close()
		return nil, fmt.Errorf("load the settings of guilds managed from Discord: %w", err)
	}
	charts := renderer != nil
	if charts {
		renderer = timedRenderer{renderer, a.metrics}
	}
	a.Reports = &compose.Reports{Store: st, Renderer: renderer, Log: d.Logger.With(slog.String("component", "reports"))}
	var b *bot.Bot
	a.Commands = commands.New(commands.Deps{Settings: a.Settings, Scope: cfg.Commands, Store: st, Reports: a.Reports, Clock: d.Clock, Logger: d.Logger,
		PrivacyURL: cfg.PrivacyURL, Observer: a.metrics,
		Refresh:       func(ctx context.Context, guild uint64) error { return a.sync.loadOne(ctx, guild) },
		MemberChanged: func(guild, user uint64, paused *bool) { b.MemberChanged(guild, user, paused) }})
	if d.ProcessID == "" {
		d.ProcessID = jobs.NewProcessID()
	}
	b, err = bot.New(bot.Options{
		Settings: a.Settings, Token: cfg.Token.Value(),
		PollInterval: cfg.PollInterval.D(), DBOutageWindow: cfg.DBOutageWindow.D(), CatchUp: cfg.CatchUp.D(), WriteTimeout: d.WriteTimeout,
		Store: st, Clock: d.Clock, Logger: d.Logger, ClientOpts: d.ClientOpts,
		Listeners: []disgobot.EventListener{a.Commands.Listener()},
		// Any guild the bot is in can be set up from Discord.
		FromDiscord:  true,
		Unconfigured: a.Commands.GuildJoined,
		Observer:     a.metrics,
		Sharding:     bot.Sharding{Count: int(cfg.Shards), IDs: cfg.ShardIDs, Lease: cfg.ShardLease.D(), Holder: d.ProcessID},
	})
	if err != nil {
		a.Close()
		return nil, err
	}
	a.Bot = b
	a.sync.member = b.MemberChanged
	q, err := jobs.New(jobs.Options{Store: st, Reports: a.Reports, Settings: a.Settings, Discord: jobs.FromBot(b), Roles: jobs.RolesFromBot(b),
		Clock: d.Clock, Logger: d.Logger, ProcessID: d.ProcessID, Backoff: d.PostBackoff})
	if err != nil {
		a.Close()
		return nil, err
	}
	a.Jobs = q
	b.SetPoster(q)
	a.Commands.SetPoster(q)
	a.metrics.exposeParts(b, q, charts, d.PrivateDB)
	if cfg.HTTPListen != "" {
		if err := a.listen(cfg.HTTPListen); err != nil {
			a.Close()
			return nil, err
		}
	}
	return a, nil
}

// listen starts the HTTP listener: last, so that every part its checks
// read exists. It is closed first.
func (a *App) listen(addr string) error {
	log := a.log.With(slog.String("component", "http"))
	srv, err := health.Listen(addr, a.metrics.reg, a.checks(), log)
	if err != nil {
		return err
	}
	a.http = srv
	a.close = append(a.close, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
	})
	if health.IsLoopback(addr) {
		log.Info("serving /healthz, /readyz and /metrics", slog.String("addr", srv.Addr()))
	} else {
		log.Warn("serving /healthz, /readyz and /metrics on an address other machines may reach: they have no authentication, so anyone who reaches it reads the metrics; prefer 127.0.0.1 behind a proxy or firewall",
			slog.String("addr", srv.Addr()))
	}
	return nil
}

// HTTPAddr is the address the HTTP listener listens on (its port chosen by
// the system for :0), "" without http_listen.
func (a *App) HTTPAddr() string {
	if a.http == nil {
		return ""
	}
	return a.http.Addr()
}

// checks are /readyz's: the bot records (the gateway is ready for every
// guild), the database answers, and while an event is being recorded its
// samples reach the database (stored up to at most two poll intervals ago,
// by the bot's clock).
func (a *App) checks() []health.Check {
	return []health.Check{
		{Name: "gateway", Run: func(context.Context) (bool, string) { return a.Bot.GatewayState() }},
		{Name: "database", Run: func(ctx context.Context) (bool, string) {
			ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			t0 := time.Now()
			if err := a.Store.Pool().Ping(ctx); err != nil {
				return false, "unreachable: " + err.Error()
			}
			return true, "answered in " + time.Since(t0).Round(time.Millisecond).String()
		}},
		{Name: "samples", Run: func(context.Context) (bool, string) {
			n := a.Bot.Recording()
			if n == 0 {
				return true, "no event is being recorded"
			}
			stored := a.Bot.StoredThrough()
			if stored.IsZero() {
				return false, fmt.Sprintf("%d events being recorded, no sample stored yet", n)
			}
			lag := a.clock.Now().Sub(stored)
			if lag > 2*a.poll {
				return false, fmt.Sprintf("%d events being recorded, samples stored only up to %s ago (%d member-chunks waiting in memory)",
					n, lag.Round(time.Second), a.Bot.Buffered())
			}
			return true, fmt.Sprintf("%d events being recorded, samples stored up to %s ago", n, max(lag, 0).Round(time.Second))
		}},
	}
}

// Run connects to Discord (retrying while it cannot be reached), registers
// the slash commands, starts the job queue and runs the bot until ctx ends
// or it fails. Registration needs only REST, so it happens before the
// gateway connects: a command is never offered before it can be answered.
//
// On shutdown the posts being sent and the replies being prepared get time
// to finish (they need the Discord client, which the bot closes last), then
// the bot stores what it has buffered.
func (a *App) Run(ctx context.Context) error {
	if err := a.Bot.Connect(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	if err := a.Commands.Register(ctx, a.Bot.Client()); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	if err := a.Jobs.Start(ctx); err != nil {
		return err
	}
	botCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	go a.sync.listen(botCtx)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		select {
		case <-ctx.Done():
		case <-botCtx.Done():
		}
		a.Commands.Drain(drainTimeout)
		stopCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		a.Jobs.Stop(stopCtx)
		cancel()
		stop()
	}()
	err := a.Bot.Run(botCtx)
	stop()
	<-stopped
	return err
}

// drainTimeout bounds how long shutdown waits for command replies.
const drainTimeout = 10 * time.Second

// Settled reports whether everything the last tick at now started is done,
// including the posts due by then: tests wait for it before asserting.
func (a *App) Settled(ctx context.Context, now time.Time) (bool, error) {
	if !a.Bot.Settled(now) {
		return false, nil
	}
	n, err := a.Jobs.Pending(ctx, 2*time.Second)
	if err != nil {
		return false, fmt.Errorf("count pending posts: %w", err)
	}
	return n == 0, nil
}

// Close releases the browser and the database, in reverse order of opening.
func (a *App) Close() {
	for i := len(a.close) - 1; i >= 0; i-- {
		a.close[i]()
	}
	a.close = nil
}
