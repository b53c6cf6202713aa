// Package app wires rollcall together: store, renderer, bot and commands.
// main and the end-to-end tests (and the demo) start the bot through it, so
// tests run exactly what the binary runs.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	disgobot "github.com/disgoorg/disgo/bot"

	"rollcall/bot"
	"rollcall/clock"
	"rollcall/commands"
	"rollcall/config"
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
	Renderer bot.Renderer
	// RenderOptions configure the browser started when Renderer is nil.
	RenderOptions render.Options
	// Instance names this process in report claims; default host:pid.
	Instance string
}

// App is a wired, not yet running rollcall.
type App struct {
	Bot      *bot.Bot
	Store    *store.Store
	Commands *commands.Commands
	close    []func()
	log      *slog.Logger
}

// New opens and migrates the database, starts the renderer and builds the
// bot. Close releases what New opened.
func New(ctx context.Context, cfg *config.Config, d Deps) (*App, error) {
	if d.Clock == nil {
		d.Clock = clock.Real{}
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Instance == "" {
		host, _ := os.Hostname()
		d.Instance = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	a := &App{log: d.Logger}
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
		opts.Logger = d.Logger.With(slog.String("component", "render"))
		r, err := render.New(ctx, opts)
		if err != nil {
			// Reports still go out as text tables; say how to get charts.
			d.Logger.Error("charts are disabled, reports will be text tables", slog.Any("error", err))
		} else {
			renderer = r
			a.close = append(a.close, func() { _ = r.Close() })
		}
	}
	// The commands share the store and the browser with the posts; their
	// router listens to the bot's gateway.
	reg := settings.NewRegistry(cfg.Validated...)
	a.Commands = commands.New(commands.Deps{Settings: reg, Scope: cfg.Commands, Store: st, Renderer: renderer, Clock: d.Clock, Logger: d.Logger})
	b, err := bot.New(bot.Options{
		Settings: reg, Token: cfg.Token.Value(), PollInterval: cfg.PollInterval.D(), DBOutageWindow: cfg.DBOutageWindow.D(), CatchUp: cfg.CatchUp.D(),
		Store: st, Renderer: renderer, Clock: d.Clock, Logger: d.Logger,
		ClientOpts: d.ClientOpts, Instance: d.Instance,
		Listeners: []disgobot.EventListener{a.Commands.Listener()},
	})
	if err != nil {
		a.Close()
		return nil, err
	}
	a.Bot = b
	return a, nil
}

// Run registers the slash commands, then runs the bot until ctx ends or it
// fails. Registration needs only REST, so it happens before the gateway
// connects: a command is never offered before it can be answered.
//
// On shutdown the gateway stays open until replies being prepared are sent
// (at most drainTimeout): they need the Discord client the bot closes.
func (a *App) Run(ctx context.Context) error {
	if err := a.Commands.Register(ctx, a.Bot.Client()); err != nil {
		return err
	}
	botCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	go func() {
		select {
		case <-ctx.Done():
			a.Commands.Drain(drainTimeout)
			stop()
		case <-botCtx.Done():
		}
	}()
	return a.Bot.Run(botCtx)
}

// drainTimeout bounds how long shutdown waits for command replies.
const drainTimeout = 10 * time.Second

// Close releases the browser and the database, in reverse order of opening.
func (a *App) Close() {
	for i := len(a.close) - 1; i >= 0; i-- {
		a.close[i]()
	}
	a.close = nil
}
