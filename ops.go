package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/jackc/pgx/v5"

	"rollcall/localpg"
	"rollcall/store"
	"rollcall/version"
)

// The commands for whoever operates rollcall. None needs the Discord token
// or a valid guild configuration: they read only database_url (and
// DATABASE_URL), so that a backup works from a shell that lacks the
// service's environment file.
const opsUsage = `
  rollcall version               show the version, commit and build date (also --version)
  rollcall db-url [flags]        print the database's URL (password hidden), for psql and pg_dump,
                                 and whether the private database is running
  rollcall backup --out FILE     back up the database with pg_dump (custom format)
  rollcall restore --from FILE   restore a backup with pg_restore into an empty database
                                 (--force: drop every table in it first); stop rollcall first
  rollcall purge --guild ID      delete everything stored about a guild, or with --member ID
                                 about one member of it; --dry-run only counts (per table)`

// The exit codes every command shares (README: Operate).
const (
	exitOK     = 0 // done; for run, stopped by a signal
	exitFailed = 1 // something failed: the message or the log says what
	exitUsage  = 2 // the command line is wrong
)

// clientAppName names pg_dump's and pg_restore's sessions in
// pg_stat_activity.
const clientAppName = "rollcall"

// runOps runs cmd when it is one of the operator's commands; ok is false
// for any other command.
func runOps(ctx context.Context, cmd string, args []string, stdout, stderr io.Writer) (code int, ok bool) {
	switch cmd {
	case "version":
		if len(args) > 0 {
			fmt.Fprintf(stderr, "rollcall: version takes no arguments\n")
			return exitUsage, true
		}
		fmt.Fprintln(stdout, version.String())
		return exitOK, true
	case "db-url", "backup", "restore", "purge":
	default:
		return 0, false
	}
	flags := flag.NewFlagSet("rollcall "+cmd, flag.ContinueOnError)
	flags.SetOutput(stderr)
	cfgPath := flags.String("config", envOr("ROLLCALL_CONFIG", "config.toml"), "the configuration file; only database_url is read (env ROLLCALL_CONFIG)")
	dataDir := flags.String("data-dir", envOr("ROLLCALL_DATA_DIR", "rollcall-data"), "the private database's folder, used when no database URL is configured; relative to the working directory (env ROLLCALL_DATA_DIR)")
	var out, from *string
	var force, dryRun *bool
	var guild, member *uint64
	switch cmd {
	case "purge":
		guild = flags.Uint64("guild", 0, "the guild (server) id whose data to delete")
		member = flags.Uint64("member", 0, "only this member's data in the guild (their user id)")
		dryRun = flags.Bool("dry-run", false, "count what would be deleted, delete nothing")
	case "backup":
		out = flags.String("out", "", "the backup file to write (pg_dump's custom format; replaced atomically, mode 0600)")
	case "restore":
		from = flags.String("from", "", "the backup file to restore (made by rollcall backup or pg_dump --format=custom)")
		force = flags.Bool("force", false, "restore into a database that is not empty: drop every table in it first")
	}
	flags.Usage = func() {
		fmt.Fprintf(stderr, "Usage of rollcall %s:\n", cmd)
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, true
		}
		return exitUsage, true
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "rollcall %s: unexpected argument %q\n", cmd, flags.Arg(0))
		return exitUsage, true
	}
	if guild != nil && *guild == 0 {
		fmt.Fprintf(stderr, "rollcall purge: say which guild: rollcall purge --guild 123456789012345678 [--member ID] [--dry-run]\n")
		return exitUsage, true
	}
	if (out != nil && *out == "") || (from != nil && *from == "") {
		fmt.Fprintf(stderr, "rollcall %s: say which file: rollcall backup --out FILE, rollcall restore --from FILE\n", cmd)
		return exitUsage, true
	}
	t, err := resolveTarget(*cfgPath, *dataDir)
	if err != nil {
		fmt.Fprintf(stderr, "rollcall %s: %v\n", cmd, err)
		return exitFailed, true
	}
	switch cmd {
	case "db-url":
		err = dbURL(t, stdout, stderr)
	case "backup":
		err = backup(ctx, t, *out, stdout, stderr)
	case "restore":
		err = restore(ctx, t, *from, *force, stdout, stderr)
	case "purge":
		err = purge(ctx, t, *guild, *member, *dryRun, stdout, stderr)
	}
	if err != nil {
		fmt.Fprintf(stderr, "rollcall %s: %v\n", cmd, err)
		return exitFailed, true
	}
	return exitOK, true
}

// target is the database a command works on: the configured one, or the
// private one under the data directory.
type target struct {
	url    string // with its password, if any: never printed
	source string // where the URL came from, for messages
	// pgDir is the private database's cluster directory (absolute), ""
	// when a URL is configured.
	pgDir string
}

// resolveTarget applies the same rule as rollcall run: DATABASE_URL, then
// database_url in the configuration file, else the private database.
func resolveTarget(cfgPath, dataDir string) (target, error) {
	if u := os.Getenv("DATABASE_URL"); u != "" {
		return configured(u, "DATABASE_URL")
	}
	b, err := os.ReadFile(cfgPath)
	if errors.Is(err, fs.ErrNotExist) {
		return target{}, fmt.Errorf("no configuration at %s: pass --config FILE (the one rollcall run uses), or set DATABASE_URL", cfgPath)
	}
	if err != nil {
		return target{}, fmt.Errorf("read config: %w", err)
	}
	var c struct {
		DatabaseURL string `toml:"database_url"`
	}
	if _, err := toml.Decode(string(b), &c); err != nil {
		// The decoder's message can quote the offending line, which may
		// hold the token: say only where to look.
		return target{}, fmt.Errorf("%s is not valid TOML: rollcall check-config --config %s shows where", cfgPath, cfgPath)
	}
	if c.DatabaseURL != "" {
		return configured(c.DatabaseURL, "database_url in "+cfgPath)
	}
	abs, err := filepath.Abs(filepath.Join(dataDir, "postgres"))
	if err != nil {
		return target{}, err
	}
	return target{source: "the private database under --data-dir " + filepath.Dir(abs), pgDir: abs}, nil
}

func configured(u, source string) (target, error) {
	if !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") {
		return target{}, fmt.Errorf("%s is not a PostgreSQL URL (postgres://user:password@host:5432/rollcall)", source)
	}
	if _, err := url.Parse(u); err != nil {
		return target{}, fmt.Errorf("%s is not a valid URL", source) // url's error quotes it, password included
	}
	return target{url: u, source: source}, nil
}

// redact replaces the password in u with xxxxx.
func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(not a valid URL)"
	}
	return p.Redacted()
}

func dbURL(t target, stdout, stderr io.Writer) error {
	if t.pgDir == "" {
		fmt.Fprintln(stdout, redact(t.url))
		note := ""
		if p, _ := url.Parse(t.url); p != nil {
			if _, has := p.User.Password(); has {
				note = "; the password is not shown"
			}
		}
		fmt.Fprintf(stderr, "the configured database (%s)%s\n", t.source, note)
		return nil
	}
	info, err := localpg.Inspect(t.pgDir)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, info.URL)
	var state string
	switch {
	case !info.Created:
		state = "not created yet (rollcall run creates it on first start)"
	case info.OwnerPID != 0:
		state = fmt.Sprintf("running, used by rollcall pid %d", info.OwnerPID)
	case info.InUse():
		state = fmt.Sprintf("running (postgres pid %d), started by something other than rollcall", info.PID)
	case info.Running():
		state = fmt.Sprintf("running (postgres pid %d), left behind by a rollcall that has exited; the next start stops it", info.PID)
	default:
		state = "not running (rollcall backup and restore start it for as long as they need it)"
	}
	fmt.Fprintf(stderr, "the private database in %s: %s.\n"+
		"Its socket lets in only the account that owns %s, and root: as one of them, psql \"$(rollcall db-url)\" (with the same --config and --data-dir).\n", info.DataDir, state, info.DataDir)
	return nil
}

// session is a connection-ready database: its URL and a way to give it
// back (stopping a private server started for the command).
type session struct {
	url   string
	major int // the server's major version
	close func()
}

// open gets the target's server ready for a client program. A private
// database used by a running rollcall is reached through its socket; one
// that is not running is started for the command and stopped after.
// forRestore refuses a private database in use: restoring under a running
// bot would mix its writes with the backup's rows.
func open(ctx context.Context, t target, forRestore bool, stderr io.Writer) (*session, error) {
	s := &session{url: t.url, close: func() {}}
	if t.pgDir != "" {
		info, err := localpg.Inspect(t.pgDir)
		if err != nil {
			return nil, err
		}
		switch {
		case forRestore && info.InUse():
			who := fmt.Sprintf("rollcall pid %d", info.OwnerPID)
			if info.OwnerPID == 0 {
				who = fmt.Sprintf("postgres pid %d, not started by rollcall", info.PID)
			}
			return nil, fmt.Errorf("the private database in %s is in use (%s): stop rollcall first (systemctl stop rollcall), then restore", info.DataDir, who)
		case !forRestore && !info.Created:
			return nil, fmt.Errorf("there is no private database in %s yet, so nothing to back up: check --data-dir (and --config: is a database_url configured?)", info.DataDir)
		case info.InUse():
			s.url = info.URL
		default:
			fmt.Fprintf(stderr, "starting the private database in %s for as long as this takes\n", info.DataDir)
			srv, err := localpg.Start(ctx, localpg.Options{DataDir: t.pgDir, Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
			if err != nil {
				return nil, err
			}
			s.url = srv.URL()
			s.close = func() {
				stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				if err := srv.Stop(stopCtx); err != nil {
					fmt.Fprintf(stderr, "stop the private database: %v\n", err)
				}
			}
		}
	}
	conn, err := pgx.Connect(ctx, s.url)
	if err != nil {
		s.close()
		err = fmt.Errorf("connect to %s: %w", redact(s.url), err)
		if t.pgDir != "" && strings.Contains(err.Error(), "permission denied") {
			err = fmt.Errorf("%w: only the account that owns %s (the one rollcall runs as, e.g. sudo -u rollcall) and root may connect", err, t.pgDir)
		}
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var num string
	if err := conn.QueryRow(ctx, `SHOW server_version_num`).Scan(&num); err != nil {
		s.close()
		return nil, fmt.Errorf("ask the server's version: %w", err)
	}
	n, _ := strconv.Atoi(num)
	s.major = n / 10000 // 150014: 15; rollcall needs PostgreSQL 14+, so never 9.x
	return s, nil
}

// pgClientRoot holds Debian's versioned client programs
// (postgresql-client-<major>); a variable for the tests.
var pgClientRoot = "/usr/lib/postgresql"

// findClient finds pg_dump or pg_restore of the server's major version:
// pg_dump refuses a newer server, and an archive from a newer pg_dump
// may not restore with an older pg_restore, so the tool and the server
// must agree. Looked for in PG_BIN_DIR, then Debian's directory for that
// version, then PATH (where Debian's wrapper picks a version itself).
func findClient(ctx context.Context, name string, serverMajor int) (string, error) {
	var candidates []string
	if d := os.Getenv("PG_BIN_DIR"); d != "" {
		candidates = append(candidates, filepath.Join(d, name))
	}
	candidates = append(candidates, filepath.Join(pgClientRoot, strconv.Itoa(serverMajor), "bin", name))
	if p, err := exec.LookPath(name); err == nil {
		candidates = append(candidates, p)
	}
	var mismatch error
	for _, c := range candidates {
		if fi, err := os.Stat(c); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			continue
		}
		out, err := exec.CommandContext(ctx, c, "--version").Output()
		if err != nil {
			continue
		}
		if err := checkClientVersion(name, c, string(out), serverMajor); err != nil {
			if mismatch == nil {
				mismatch = err
			}
			continue
		}
		return c, nil
	}
	if mismatch != nil {
		return "", mismatch
	}
	return "", fmt.Errorf("%s not found (looked in PG_BIN_DIR, %s and PATH): install PostgreSQL %d's client programs (Debian/Ubuntu: apt-get install postgresql-client-%d)",
		name, filepath.Join(pgClientRoot, strconv.Itoa(serverMajor), "bin"), serverMajor, serverMajor)
}

// checkClientVersion compares `name --version` output (e.g. "pg_dump
// (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)") with the server's major.
func checkClientVersion(name, path, versionOut string, serverMajor int) error {
	major := 0
	for _, f := range strings.Fields(versionOut) {
		if n, err := strconv.Atoi(strings.SplitN(f, ".", 2)[0]); err == nil && strings.Contains(f, ".") {
			major = n
			break
		}
	}
	if major == serverMajor {
		return nil
	}
	found := "an unknown version"
	if major != 0 {
		found = "PostgreSQL " + strconv.Itoa(major)
	}
	return fmt.Errorf("%s at %s is %s but the server is PostgreSQL %d: install the matching client programs (Debian/Ubuntu: apt-get install postgresql-client-%d) or point PG_BIN_DIR at them",
		name, path, found, serverMajor, serverMajor)
}

// clientArgs turns a pgx URL into what libpq's programs take: the password
// moves to PGPASSWORD (a command line is visible to every account in ps),
// and pgx's own parameters, which libpq rejects, are dropped.
func clientArgs(raw string) (dsn string, env []string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", nil, errors.New("the database URL is not valid")
	}
	env = os.Environ()
	if pw, ok := u.User.Password(); ok {
		env = append(env, "PGPASSWORD="+pw)
		u.User = url.User(u.User.Username())
	}
	q := u.Query()
	for k := range q {
		if strings.HasPrefix(k, "pool_") || k == "statement_cache_capacity" || k == "description_cache_capacity" ||
			k == "default_query_exec_mode" || k == "min_read_buffer_size" {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	return u.String(), env, nil
}

// runClient runs a PostgreSQL client program with stdout going to out and
// returns an error quoting what it printed on stderr.
func runClient(ctx context.Context, path string, env, args []string, out io.Writer) error {
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = append(env, "PGAPPNAME="+clientAppName, "PGCONNECT_TIMEOUT=10")
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = out, &errb
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", filepath.Base(path), err, strings.TrimSpace(errb.String()))
	}
	return nil
}

func backup(ctx context.Context, t target, out string, stdout, stderr io.Writer) error {
	t0 := time.Now()
	s, err := open(ctx, t, false, stderr)
	if err != nil {
		return err
	}
	defer s.close()
	pgDump, err := findClient(ctx, "pg_dump", s.major)
	if err != nil {
		return err
	}
	dsn, env, err := clientArgs(s.url)
	if err != nil {
		return err
	}
	// Into a temporary file beside the target, renamed when complete: a
	// failed or interrupted backup never replaces a good one. 0600: the
	// file holds every member's attendance.
	abs, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(abs), "."+filepath.Base(abs)+".tmp-*")
	if err != nil {
		return fmt.Errorf("backup file: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename: nothing
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("backup file: %w", err)
	}
	if err := runClient(ctx, pgDump, env, []string{"--format=custom", "--no-password", "--dbname=" + dsn}, f); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("backup file: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("backup file: %w", err)
	}
	if err := os.Rename(tmp, abs); err != nil {
		return fmt.Errorf("backup file: %w", err)
	}
	fmt.Fprintf(stdout, "backed up %s (%s) to %s: %d bytes in %.1f s\n", redact(s.url), t.source, abs, fi.Size(), time.Since(t0).Seconds())
	return nil
}

func restore(ctx context.Context, t target, from string, force bool, stdout, stderr io.Writer) error {
	t0 := time.Now()
	abs, err := filepath.Abs(from)
	if err != nil {
		return err
	}
	if err := checkArchive(abs); err != nil {
		return err
	}
	s, err := open(ctx, t, true, stderr)
	if err != nil {
		return err
	}
	defer s.close()
	pgRestore, err := findClient(ctx, "pg_restore", s.major)
	if err != nil {
		return err
	}
	if err := emptyTarget(ctx, s.url, force); err != nil {
		return err
	}
	dsn, env, err := clientArgs(s.url)
	if err != nil {
		return err
	}
	// One transaction: a restore that fails half-way leaves nothing of
	// itself. No owners or grants: the backup may come from another server
	// (the private database's role is rollcall) and the target's user
	// should own what it restores.
	args := []string{"--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges", "--no-password", "--dbname=" + dsn, abs}
	if err := runClient(ctx, pgRestore, env, args, io.Discard); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s into %s (%s) in %.1f s", abs, redact(s.url), t.source, time.Since(t0).Seconds())
	if v, err := restoredSchema(ctx, s.url); err == nil && v > 0 {
		fmt.Fprintf(stdout, "; its schema is at version %d (this rollcall knows up to %d)", v, highestMigration())
	}
	fmt.Fprintln(stdout)
	return nil
}

// checkArchive refuses what pg_restore would refuse less clearly.
func checkArchive(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("backup file: %w", err)
	}
	defer f.Close()
	head := make([]byte, 5)
	if _, err := io.ReadFull(f, head); err != nil || string(head) != "PGDMP" {
		return fmt.Errorf("%s is not a pg_dump archive in custom format (rollcall backup makes them; a plain SQL dump restores with psql)", path)
	}
	return nil
}

// userRelations lists what a restore would collide with: tables, views,
// sequences, in any schema but PostgreSQL's own.
const userRelations = `SELECT n.nspname, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
	  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%'
	ORDER BY c.relkind, n.nspname, c.relname`

// emptyTarget refuses a database that holds tables, unless force, when it
// drops them, so that the restored database is the backup and nothing
// else (a table a newer schema added would otherwise survive, and the
// next start would fail to create it again).
func emptyTarget(ctx context.Context, dbURL string, force bool) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", redact(dbURL), err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, userRelations)
	if err != nil {
		return fmt.Errorf("list the target's tables: %w", err)
	}
	type rel struct {
		schema, name string
		kind         byte
	}
	rels, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (rel, error) {
		var x rel
		var kind string
		err := r.Scan(&x.schema, &x.name, &kind)
		if kind != "" {
			x.kind = kind[0]
		}
		return x, err
	})
	if err != nil {
		return fmt.Errorf("list the target's tables: %w", err)
	}
	if len(rels) == 0 {
		return nil
	}
	// Tables first: their identity sequences go with them (dropping one
	// alone is refused) and so do views that read them.
	order := "rpfmvS"
	sort.SliceStable(rels, func(i, j int) bool {
		return strings.IndexByte(order, rels[i].kind) < strings.IndexByte(order, rels[j].kind)
	})
	if !force {
		names := []string{}
		for i, r := range rels {
			if i == 5 {
				names = append(names, "...")
				break
			}
			names = append(names, r.schema+"."+r.name)
		}
		return fmt.Errorf("the target database is not empty (%d tables, sequences or views: %s): a restore replaces everything; "+
			"pass --force to drop them first (back them up first if they matter: rollcall backup --out FILE)", len(rels), strings.Join(names, ", "))
	}
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		for _, r := range rels {
			name := pgx.Identifier{r.schema, r.name}.Sanitize()
			var err error
			switch r.kind {
			case 'v':
				_, err = tx.Exec(ctx, "DROP VIEW IF EXISTS "+name+" CASCADE")
			case 'm':
				_, err = tx.Exec(ctx, "DROP MATERIALIZED VIEW IF EXISTS "+name+" CASCADE")
			case 'S':
				_, err = tx.Exec(ctx, "DROP SEQUENCE IF EXISTS "+name+" CASCADE")
			case 'f':
				_, err = tx.Exec(ctx, "DROP FOREIGN TABLE IF EXISTS "+name+" CASCADE")
			default:
				_, err = tx.Exec(ctx, "DROP TABLE IF EXISTS "+name+" CASCADE")
			}
			if err != nil {
				return fmt.Errorf("--force: drop %s.%s: %w", r.schema, r.name, err)
			}
		}
		// Types and functions too (the job queue's enum and triggers):
		// pg_restore would fail on one that already exists.
		for _, q := range []string{userTypes, userFunctions} {
			rows, err := tx.Query(ctx, q)
			if err != nil {
				return fmt.Errorf("--force: list types and functions: %w", err)
			}
			drops, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return fmt.Errorf("--force: list types and functions: %w", err)
			}
			for _, d := range drops {
				if _, err := tx.Exec(ctx, d); err != nil {
					return fmt.Errorf("--force: %s: %w", d, err)
				}
			}
		}
		return nil
	})
}

// userTypes and userFunctions list the DROP statements for the enums,
// domains, ranges and functions of the database's own schemas (not the
// system's, not an extension's).
const (
	userTypes = `
	SELECT 'DROP TYPE IF EXISTS ' || quote_ident(n.nspname) || '.' || quote_ident(t.typname) || ' CASCADE'
	FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
	WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
	  AND t.typtype IN ('e', 'd', 'r')
	  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e')`
	userFunctions = `
	SELECT 'DROP ROUTINE IF EXISTS ' || p.oid::regprocedure::text || ' CASCADE'
	FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
	WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
	  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')`
)

func restoredSchema(ctx context.Context, dbURL string) (int, error) {
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	return st.SchemaVersion(ctx)
}

func highestMigration() int {
	migs, err := store.ParseMigrations(schema)
	if err != nil || len(migs) == 0 {
		return 0
	}
	return migs[len(migs)-1].Version
}

// purge deletes a guild's data, or one member's in it, and prints the rows
// per table. A running rollcall is told (NOTIFY) and drops what it had
// buffered for a deleted member; a guild still configured is recorded
// again from its next event.
func purge(ctx context.Context, t target, guild, member uint64, dryRun bool, stdout, stderr io.Writer) error {
	s, err := open(ctx, t, false, stderr)
	if err != nil {
		return err
	}
	defer s.close()
	st, err := store.Open(ctx, s.url)
	if err != nil {
		return err
	}
	defer st.Close()
	var counts store.Counts
	if member != 0 {
		counts, err = st.DeleteMember(ctx, guild, member, dryRun)
	} else {
		counts, err = st.PurgeGuild(ctx, guild, dryRun)
	}
	if err != nil {
		return err
	}
	verb := "deleted"
	if dryRun {
		verb = "would delete"
	}
	what := fmt.Sprintf("guild %d", guild)
	if member != 0 {
		what = fmt.Sprintf("member %d of guild %d", member, guild)
	}
	fmt.Fprintf(stdout, "%s: %s %d rows\n", what, verb, counts.Total())
	tables := make([]string, 0, len(counts))
	for table := range counts {
		tables = append(tables, table)
	}
	sort.Strings(tables)
	for _, table := range tables {
		fmt.Fprintf(stdout, "  %-16s %d\n", table, counts[table])
	}
	return nil
}
