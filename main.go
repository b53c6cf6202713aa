// Command rollcall is a self-hosted Discord bot that measures who actually
// shows up to a community's events. See README.md.
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	disgobot "github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/rest"

	"rollcall/app"
	"rollcall/config"
	"rollcall/demo"
	"rollcall/legacy"
	"rollcall/localpg"
	"rollcall/render"
	"rollcall/version"
)

//go:embed schema.sql
var schema string

const usage = `rollcall: measures who actually shows up to your Discord community's events.

Usage:
  rollcall [run] [flags]         connect to Discord and record events (the default)
  rollcall check-config [flags]  validate the configuration and exit
  rollcall import-legacy [flags] import the original bot's attendance (rollcall import-legacy -h)
  rollcall demo [flags]          try it: a simulated Discord server, the real bot on a fast clock,
                                 and a page of everything it posted (no token, no database needed)` + opsUsage + `
  rollcall help                  show this help

Flags:
`

const envHelp = `
Environment:
  DISCORD_TOKEN   the bot token (overrides token in the config file)
  DATABASE_URL    PostgreSQL URL (overrides database_url); with neither, rollcall runs
                  a private PostgreSQL under --data-dir (needs Debian's postgresql package)
  CHROMIUM_PATH   the Chromium binary used for charts (overrides the search)
  ROLLCALL_CONFIG, ROLLCALL_DATA_DIR
                  defaults of --config and --data-dir
  PG_BIN_DIR      where PostgreSQL's programs are: the server's for the private database,
                  pg_dump and pg_restore for backup and restore
  HTTPS_PROXY     an HTTP proxy through which Discord (its API and gateway) is reached

The configuration is a TOML file; config.example.toml documents every key.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program; it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := "run"
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		cmd, args = "version", args[1:]
	} else if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	if code, ok := runOps(ctx, cmd, args, stdout, stderr); ok {
		return code
	}
	if cmd == "import-legacy" {
		return legacy.Main(ctx, args, stdout, stderr, schema)
	}
	flags := flag.NewFlagSet("rollcall", flag.ContinueOnError)
	flags.SetOutput(stderr)
	cfgPath := flags.String("config", envOr("ROLLCALL_CONFIG", "config.toml"), "path of the TOML configuration file (env ROLLCALL_CONFIG)")
	chromium := flags.String("chromium", "", "path of the Chromium binary for charts (default: CHROMIUM_PATH, then the usual places)")
	echarts := flags.String("echarts", "", "path of echarts.min.js, overriding the copy built into the binary")
	logFormat := flags.String("log-format", "text", "log format: text or json")
	out := flags.String("out", "demo-out", "demo: the folder for index.html and the charts")
	speed := flags.Float64("speed", 60, "demo: how many times faster than real time (60: a one-hour event takes a minute)")
	serveFeed := flags.Bool("serve", false, "demo: also serve the feed on 127.0.0.1 while the demo runs")
	addr := flags.String("addr", "127.0.0.1:8080", "demo: the address --serve listens on")
	dataDir := flags.String("data-dir", envOr("ROLLCALL_DATA_DIR", "rollcall-data"), "where the private PostgreSQL keeps its data when no database URL is configured; relative to the working directory, so a service should pass an absolute path (env ROLLCALL_DATA_DIR)")
	flags.Usage = func() {
		fmt.Fprint(stderr, usage)
		flags.PrintDefaults()
		fmt.Fprint(stderr, envHelp)
	}
	switch cmd {
	case "help":
		flags.SetOutput(stdout)
		fmt.Fprint(stdout, usage)
		flags.PrintDefaults()
		fmt.Fprint(stdout, envHelp)
		return 0
	case "run", "check-config", "demo":
	default:
		fmt.Fprintf(stderr, "rollcall: unknown command %q\n\n", cmd)
		flags.Usage()
		return 2
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "rollcall: unexpected argument %q\n", flags.Arg(0))
		return 2
	}
	if *logFormat != "text" && *logFormat != "json" {
		fmt.Fprintf(stderr, "rollcall: --log-format: %q is not a format: use text or json\n", *logFormat)
		return 2
	}
	// Resolved once, so that a later chdir cannot move it and the log says
	// which folder it is: started from another directory, a relative
	// default would silently make a second, empty database.
	if abs, err := filepath.Abs(*dataDir); err == nil {
		*dataDir = abs
	}
	if cmd == "demo" {
		return runDemo(ctx, demo.Options{Out: *out, Speed: *speed, Serve: *serveFeed, Addr: *addr, Schema: schema,
			Render: render.Options{ChromiumPath: *chromium, EChartsPath: *echarts}, Stdout: stdout},
			*dataDir, stderr, newLogger(stderr, *logFormat, "warn"))
	}
	cfg, err := config.Load(*cfgPath)
	if errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(stderr, "rollcall: no configuration at %s: copy config.example.toml to config.toml and edit it, or pass --config FILE (rollcall help)\n", *cfgPath)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "rollcall: %v\n", err)
		return 1
	}
	if cmd == "check-config" {
		fmt.Fprintf(stdout, "%s: ok (%s, %s)\n", *cfgPath, plural(len(cfg.Guilds), "guild"), plural(countSchedules(cfg), "schedule"))
		return 0
	}
	log := newLogger(stderr, *logFormat, cfg.LogLevel)
	log.Info("starting "+version.String(), slog.String("version", version.Get().Version), slog.String("data_dir", *dataDir))
	var privateUp func() bool
	if cfg.DatabaseURL == "" {
		srv, stopDB, err := openPrivateDB(ctx, cfg, *dataDir, log)
		if err != nil {
			return startFailed(ctx, log, "start the private database", err)
		}
		defer stopDB()
		privateUp = srv.Running
	}
	a, err := app.New(ctx, cfg, app.Deps{
		Schema:        schema,
		Logger:        log,
		RenderOptions: render.Options{ChromiumPath: *chromium, EChartsPath: *echarts},
		// REST goes to discord_api_url; the gateway's address is what its
		// GET /gateway answers, so a local Discord needs no second key.
		ClientOpts: []disgobot.ConfigOpt{disgobot.WithRestClientConfigOpts(rest.WithURL(cfg.DiscordAPIURL))},
		PrivateDB:  privateUp,
	})
	if err != nil {
		return startFailed(ctx, log, "start", err)
	}
	defer a.Close()
	if err := a.Run(ctx); err != nil {
		log.Error("stopped", slog.Any("error", err))
		return 1
	}
	log.Info("stopped")
	return 0
}

// runDemo plays the demo against a private database of its own, never the
// bot's (nor DATABASE_URL's): the demo's data is simulated.
func runDemo(ctx context.Context, o demo.Options, dataDir string, stderr io.Writer, log *slog.Logger) int {
	if o.Speed <= 0 || o.Speed > 10000 {
		fmt.Fprintf(stderr, "rollcall: --speed %v is out of range: use more than 0 and at most 10000 (60: an hour takes a minute)\n", o.Speed)
		return 2
	}
	o.Logger = log
	cfg := &config.Config{}
	stop, err := startPrivateDB(ctx, cfg, filepath.Join(dataDir, "demo"), log)
	if err != nil {
		log.Error("start the demo's private database", slog.Any("error", err))
		return 1
	}
	defer stop()
	o.DatabaseURL = cfg.DatabaseURL.Value()
	if err := demo.Run(ctx, o); err != nil {
		log.Error("demo", slog.Any("error", err))
		return 1
	}
	return 0
}

// startFailed ends a start that did not finish: exit 1, unless a signal
// asked to stop meanwhile (systemctl stop while Discord, the database or
// the private database's start was being waited for), which is a normal
// stop. Whatever was started is stopped by the deferred calls.
func startFailed(ctx context.Context, log *slog.Logger, what string, err error) int {
	if ctx.Err() != nil {
		log.Info("stopped before start-up finished", slog.String("during", what), slog.Any("reason", err))
		return 0
	}
	log.Error(what, slog.Any("error", err))
	return 1
}

// startPrivateDB runs rollcall's own PostgreSQL under dataDir when no
// database URL is configured, and points cfg at it. The returned func stops
// it, with its own timeout: ctx is already cancelled at shutdown.
func startPrivateDB(ctx context.Context, cfg *config.Config, dataDir string, log *slog.Logger) (func(), error) {
	_, stop, err := openPrivateDB(ctx, cfg, dataDir, log)
	return stop, err
}

// openPrivateDB is startPrivateDB that also returns the server.
func openPrivateDB(ctx context.Context, cfg *config.Config, dataDir string, log *slog.Logger) (*localpg.Server, func(), error) {
	srv, err := localpg.Start(ctx, localpg.Options{DataDir: filepath.Join(dataDir, "postgres"), Logger: log.With(slog.String("component", "postgres"))})
	if err != nil {
		return nil, nil, err
	}
	// The URL holds no secret (the socket's directory is what keeps other
	// accounts out), so it is logged for whoever wants psql or a backup.
	log.Info("using the private database (no database_url configured); connect with psql \"$(rollcall db-url)\", back up with rollcall backup --out FILE",
		slog.String("data_dir", dataDir), slog.String("url", srv.URL()), slog.String("log", srv.LogPath()))
	cfg.DatabaseURL = config.Secret(srv.URL())
	return srv, func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Stop(stopCtx); err != nil {
			log.Error("stop the private database", slog.Any("error", err))
		}
	}, nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func countSchedules(c *config.Config) int {
	n := 0
	for _, g := range c.Guilds {
		n += len(g.Schedules)
	}
	return n
}

func newLogger(w io.Writer, format, level string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
