package legacy

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"rollcall/config"
	"rollcall/localpg"
	"rollcall/settings"
	"rollcall/store"
)

// Usage is the help text of `rollcall import-legacy`; the flags follow it.
const Usage = `rollcall import-legacy: import attendance recorded by the original Python bot.

Usage:
  rollcall import-legacy --config FILE --from URL --table NAME --guild ID --schedule NAME [--tz ZONE] [--dry-run]
  rollcall import-legacy --config FILE --csv FILE --guild ID --schedule NAME [--tz ZONE] [--dry-run]

The original table has one row per member, date and hour (id, player_id,
score integer[] of minutes 0-59, data_bzs date, hour). Each date and hour
becomes an event of the schedule, starting at that local time; each row's
minutes are merged into the member's attendance. Members rollcall does not
know yet are added without a name; the bot fills names in when it next sees
them. Importing the same rows again changes nothing. The target is the
configuration's database (DATABASE_URL overrides it), or with neither the
bot's private database under --data-dir (stop the bot first); its tables are
created if needed. The bot token is not needed.

A CSV file may start with a byte-order mark and quote every field (as
PowerShell's Export-Csv and Python's csv with utf-8-sig write it); a #TYPE
line above the header is ignored.

Exit status:
  0  every row was imported (with --dry-run: would be)
  3  the rest was imported, but some rows were skipped: they are listed with
     the reason (minutes outside 0-59, empty arrays, hours outside 0-23,
     unreadable CSV lines, missing values)
  1  the import failed; no attendance was written
  2  wrong command line

Flags:
`

// ExitSkipped is the exit status of an import that skipped rows: a script
// can tell that some of its rows were not imported, though the rest were.
const ExitSkipped = 3

// placeholderToken satisfies config validation: the import never talks to
// Discord, so it must not demand (or print) the bot token.
var placeholderToken = base64.RawStdEncoding.EncodeToString([]byte("1")) + ".import-legacy.placeholder"

// options are the parsed flags.
type options struct {
	configPath string
	from       string
	table      string
	csvPath    string
	guild      uint64
	schedule   string
	tz         string
	dryRun     bool
	schema     string // schema.sql, to migrate the target like the bot does
	dataDir    string
}

// Main runs `rollcall import-legacy` with args (those after the command
// name) and returns the exit code: 0 done, ExitSkipped done but rows were
// skipped, 1 failed, 2 bad usage. schema is schema.sql: the target database
// is migrated first, like the bot does.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, schema string) int {
	return run(ctx, args, schema, os.Getenv, stdout, stderr)
}

func run(ctx context.Context, args []string, schema string, getenv func(string) string, stdout, stderr io.Writer) int {
	opts, code := parseFlags(args, getenv, stdout, stderr)
	if code >= 0 {
		return code
	}
	opts.schema = schema
	skipped, err := importLegacy(ctx, opts, getenv, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "rollcall import-legacy: %v\n", err)
		return 1
	}
	if skipped > 0 {
		fmt.Fprintf(stderr, "rollcall import-legacy: %d rows skipped (listed above); exit status %d\n", skipped, ExitSkipped)
		return ExitSkipped
	}
	return 0
}

// parseFlags returns the options, or an exit code >= 0 when the program
// should stop (help shown, or bad usage).
func parseFlags(args []string, getenv func(string) string, stdout, stderr io.Writer) (options, int) {
	var o options
	fs := flag.NewFlagSet("import-legacy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	defConfig := getenv("ROLLCALL_CONFIG")
	if defConfig == "" {
		defConfig = "config.toml"
	}
	fs.StringVar(&o.configPath, "config", defConfig, "path of the TOML configuration file (env ROLLCALL_CONFIG)")
	fs.StringVar(&o.from, "from", "", "PostgreSQL URL of the original bot's database")
	fs.StringVar(&o.table, "table", "", "the original bot's table, e.g. bzs_stats or public.bzs_stats (with --from)")
	fs.StringVar(&o.csvPath, "csv", "", "a CSV export of the table instead of --from/--table (\\copy TABLE TO 'FILE' CSV HEADER)")
	guild := fs.String("guild", "", "id of the Discord server, as configured")
	fs.StringVar(&o.schedule, "schedule", "", "name of the guild's schedule the events belong to, as configured")
	fs.StringVar(&o.tz, "tz", "", "IANA time zone of the dates and hours in the table (default: the guild's timezone)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "show what would be imported and write nothing")
	dataDir := getenv("ROLLCALL_DATA_DIR")
	if dataDir == "" {
		dataDir = "rollcall-data"
	}
	fs.StringVar(&o.dataDir, "data-dir", dataDir, "the private PostgreSQL's folder, used when no database URL is configured (as rollcall run does; env ROLLCALL_DATA_DIR)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), Usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, 0
		}
		return o, 2
	}
	usageErr := func(format string, a ...any) (options, int) {
		fmt.Fprintf(stderr, "rollcall import-legacy: "+format+"\n\nRun rollcall import-legacy --help for the flags.\n", a...)
		return o, 2
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected argument %q", fs.Arg(0))
	}
	switch {
	case o.csvPath == "" && o.from == "":
		return usageErr("say where to read from: --from URL --table NAME, or --csv FILE")
	case o.csvPath != "" && (o.from != "" || o.table != ""):
		return usageErr("--csv reads a file: do not combine it with --from or --table")
	case o.from != "" && o.table == "":
		return usageErr("--from needs --table, the original bot's table name (e.g. bzs_stats)")
	case o.from == "" && o.table != "":
		return usageErr("--table needs --from, the URL of the original bot's database")
	case *guild == "":
		return usageErr("--guild is required: the id of the configured Discord server")
	case o.schedule == "":
		return usageErr("--schedule is required: the name of one of the guild's schedules")
	}
	id, err := strconv.ParseUint(strings.TrimSpace(*guild), 10, 64)
	if err != nil || id == 0 {
		return usageErr("--guild %q is not a Discord id (digits, e.g. 123456789012345678)", *guild)
	}
	o.guild = id
	return o, -1
}

// importLegacy resolves the options against the configuration and runs the
// import; it returns how many rows were skipped.
func importLegacy(ctx context.Context, o options, getenv func(string) string, stdout, stderr io.Writer) (int64, error) {
	text, err := os.ReadFile(o.configPath)
	if err != nil {
		return 0, fmt.Errorf("read config: %w", err)
	}
	cfg, err := config.Parse(string(text), func(k string) string {
		if k == "DISCORD_TOKEN" {
			return placeholderToken
		}
		return getenv(k)
	})
	if err != nil {
		return 0, err
	}
	var g *settings.Guild
	for _, x := range cfg.Validated {
		if x.ID == o.guild {
			g = x
		}
	}
	if g == nil {
		var ids []string
		for _, x := range cfg.Validated {
			ids = append(ids, strconv.FormatUint(x.ID, 10))
		}
		return 0, fmt.Errorf("guild %d is not configured in %s (configured: %s): add it as a [[guilds]] table first", o.guild, o.configPath, strings.Join(ids, ", "))
	}
	sched := g.ScheduleByName(o.schedule)
	if sched == nil {
		var names []string
		for _, s := range g.Schedules {
			names = append(names, strconv.Quote(s.Name))
		}
		return 0, fmt.Errorf("guild %d has no schedule %q (its schedules: %s)", o.guild, o.schedule, strings.Join(names, ", "))
	}
	if sched.Duration < time.Hour {
		return 0, fmt.Errorf("schedule %q lasts %d minutes, but the original bot's events lasted an hour: minutes 0-59 would not fit; import into a schedule of 60m or more", sched.Name, int(sched.Duration/time.Minute))
	}
	loc := g.Location
	if o.tz != "" {
		loc, err = time.LoadLocation(o.tz)
		if err != nil || o.tz == "Local" {
			return 0, fmt.Errorf("--tz %q is not an IANA time zone: use a name such as Europe/Moscow", o.tz)
		}
	}

	var (
		src      reader
		estimate int64 = -1
		from     string
	)
	if o.csvPath != "" {
		c, err := openCSV(o.csvPath)
		if err != nil {
			return 0, err
		}
		src, from = c, "file "+o.csvPath
	} else {
		table, err := parseTable(o.table)
		if err != nil {
			return 0, err
		}
		t, est, err := openTable(ctx, o.from, table)
		if err != nil {
			return 0, err
		}
		src, estimate, from = t, est, "table "+table.Sanitize()
	}
	defer src.close()

	url := cfg.DatabaseURL.Value()
	if url == "" {
		// The bot's own private database, as `rollcall run` uses it (stop
		// the bot first: one server per data folder).
		srv, err := localpg.Start(ctx, localpg.Options{DataDir: filepath.Join(o.dataDir, "postgres"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			return 0, fmt.Errorf("no database_url configured, and the private database under --data-dir %s: %w", o.dataDir, err)
		}
		defer func() {
			stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = srv.Stop(stopCtx)
		}()
		url = srv.URL()
	}
	st, err := store.Open(ctx, url)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	// The same migrations as the bot, so an import can come first.
	if err := st.Migrate(ctx, o.schema); err != nil {
		return 0, err
	}

	ents := newEntries(src, loc)
	if isTerminal(stderr) {
		ents.progress = progressLine(stderr, estimate)
	}
	res, err := st.ImportLegacy(ctx, store.LegacyTarget{
		GuildID:  o.guild,
		Schedule: sched.Name,
		Duration: sched.Duration,
		Sampled:  allMinutes,
		DryRun:   o.dryRun,
	}, ents)
	if err != nil {
		if ents.err != nil {
			// The source's error is the cause; the store's wrapping of it
			// only says the copy stopped.
			return 0, ents.err
		}
		return 0, err
	}
	printSummary(stdout, summary{
		from: from, guild: o.guild, schedule: sched.Name, duration: sched.Duration, loc: loc, dryRun: o.dryRun,
		read: ents.read, skipped: ents.skipped, listed: ents.listed, res: res,
	})
	return ents.skipped, nil
}

// isTerminal reports whether w is a terminal; progress lines would only
// clutter a redirected log.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progressLine rewrites one line on w at most a few times a second.
func progressLine(w io.Writer, estimate int64) func(read int64, done bool) {
	var last time.Time
	return func(read int64, done bool) {
		if !done && time.Since(last) < 250*time.Millisecond {
			return
		}
		last = time.Now()
		of := ""
		if estimate > 0 {
			of = fmt.Sprintf(" of about %d", estimate)
		}
		if done {
			fmt.Fprintf(w, "\rread %d rows; merging into rollcall's tables...\033[K\n", read)
			return
		}
		fmt.Fprintf(w, "\rread %d rows%s\033[K", read, of)
	}
}

// summary is what printSummary reports.
type summary struct {
	from     string
	guild    uint64
	schedule string
	duration time.Duration
	loc      *time.Location
	dryRun   bool
	read     int64
	skipped  int64
	listed   []string
	res      store.LegacyResult
}

func printSummary(w io.Writer, s summary) {
	verb := func(done, would string) string {
		if s.dryRun {
			return would
		}
		return done
	}
	if s.dryRun {
		fmt.Fprintln(w, "Dry run: nothing was written.")
	}
	fmt.Fprintf(w, "%s %s into guild %d, schedule %q (%d-minute events, local times in %s).\n",
		verb("Imported", "Would import"), s.from, s.guild, s.schedule, int(s.duration/time.Minute), s.loc)
	r := s.res
	fmt.Fprintf(w, "rows read:       %d\n", s.read)
	fmt.Fprintf(w, "  imported:      %d (%d merged into a member's event already seen in this import)\n", r.Entries, r.Entries-r.Keys)
	fmt.Fprintf(w, "  skipped:       %d\n", s.skipped)
	if r.Occurrences > 0 {
		f := "Mon 2 Jan 2006 15:04 MST"
		fmt.Fprintf(w, "events:          %d, from %s to %s; %d %s\n", r.Occurrences,
			r.First.In(s.loc).Format(f), r.Last.In(s.loc).Format(f), r.NewOccurrences, verb("created", "to create"))
	} else {
		fmt.Fprintf(w, "events:          0\n")
	}
	fmt.Fprintf(w, "members:         %d; %d %s without a name (the bot fills names in when it next sees them)\n",
		r.Members, r.NewMembers, verb("added", "to add"))
	fmt.Fprintf(w, "attendance rows: %d %s\n", r.ChangedAttendance, verb("added or given new minutes", "to add or give new minutes"))
	if s.skipped > 0 {
		fmt.Fprintln(w, "Skipped rows:")
		for _, l := range s.listed {
			fmt.Fprintf(w, "  %s\n", l)
		}
		if more := s.skipped - int64(len(s.listed)); more > 0 {
			fmt.Fprintf(w, "  and %d more\n", more)
		}
	}
}

var _ store.LegacySource = (*entries)(nil)
