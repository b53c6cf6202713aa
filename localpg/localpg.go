//go:build unix

// Package localpg runs a private PostgreSQL server for rollcall when no
// database URL is configured: the cluster lives in a data directory, is
// created on first use, started on every run and stopped on exit, and its
// data is kept for the next run.
//
// It uses the PostgreSQL binaries already installed on the machine (Debian's
// postgresql package, PG_BIN_DIR, or PATH); it never downloads any.
// PostgreSQL refuses to run as root, so when rollcall runs as root the server
// runs as an unprivileged account (Debian's postgres, else a system account
// rollcall-pg created with useradd), set as the child processes' credentials
// rather than through runuser or sudo.
//
// Only the account that runs rollcall (and the server's own account, and
// root) can connect: the server has no TCP listener at all
// (listen_addresses is empty) and takes connections on a Unix socket in a
// directory of mode 0700 that belongs to the server's account, the data
// directory itself unless its path is too long for a socket (then a fixed
// directory under /tmp named after a hash of the data directory's path).
// pg_hba.conf allows only those local connections; it is rewritten at every
// Start, so a data directory made by an older rollcall, which trusted TCP
// connections on 127.0.0.1 from every account on the machine, is closed on
// its next start. The socket's path does not change between starts, so URL
// (and Inspect, without starting anything) gives tools such as psql and
// pg_dump a stable address. Nothing that depends on the data directory's
// path is written into the cluster's configuration; it is passed on
// pg_ctl's command line, so the directory can be moved.
//
// Start-up time, measured with PostgreSQL 15 on this project's 2-CPU build
// machine as root with fsync on, while other work kept its load average
// at 5-9: the first Start (initdb, start, CREATE DATABASE) took 3.6-6.5 s,
// nearly all of it initdb (its final fsync about 1 s of that); every later
// Start 0.15-0.4 s; Stop 0.1-1 s (a fast shutdown's checkpoint). The
// shared notes measured initdb --no-sync plus start at 1.1-1.5 s on an
// idle machine. The tests turn fsync off to save that second.
package localpg

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ErrNoBinaries is returned by Start when no PostgreSQL server binaries
// (initdb, pg_ctl, postgres) can be found.
var ErrNoBinaries = errors.New("no PostgreSQL server binaries (initdb, pg_ctl, postgres) found: " +
	"install them (Debian/Ubuntu: `apt-get install postgresql`; Fedora: `dnf install postgresql-server`; macOS: `brew install postgresql`), " +
	"set PG_BIN_DIR to the directory that holds them, or configure a database URL to use an existing server")

// ErrInUse is returned by Start when another process already runs a server
// on the data directory.
var ErrInUse = errors.New("in use by another process")

const (
	// superuser is the role initdb creates; fixed so that the URL does not
	// depend on which OS account created the cluster.
	superuser = "rollcall"
	// database is the database Start creates for rollcall.
	database = "rollcall"
	// fallbackAccount is created with useradd when rollcall runs as root
	// on a machine without Debian's postgres account.
	fallbackAccount = "rollcall-pg"
	// ownerFile, inside the data directory, names the rollcall process
	// that started the server, so that a server orphaned by a killed
	// rollcall is told apart from one another rollcall is using.
	ownerFile = "rollcall.owner"
	// maxSocketPath is sizeof(sockaddr_un.sun_path) minus its NUL on Linux.
	maxSocketPath = 107
	// defaultPort only names the socket (.s.PGSQL.5432): there is no TCP
	// listener, so it cannot clash with a system PostgreSQL on 5432.
	defaultPort = 5432
	// maxLogSize is the server log's size above which Start moves it to
	// .old, the only rotation the log gets.
	maxLogSize = 16 << 20
)

// Options configure Start.
type Options struct {
	// DataDir holds the cluster (e.g. ./rollcall-data/postgres). It is
	// created if missing and reused on the next Start. The server log is
	// written beside it, to DataDir + ".log".
	DataDir string
	// BinDir is the directory with initdb, pg_ctl and postgres. Empty
	// means $PG_BIN_DIR, then /usr/lib/postgresql/<v>/bin matching an
	// existing cluster's version, then the newest /usr/lib/postgresql/*/bin,
	// then `pg_config --bindir` or initdb's directory in PATH.
	BinDir string
	// Logger receives progress; nil means slog.Default().
	Logger *slog.Logger
	// Port is the number in the socket's name (.s.PGSQL.<Port>); 0 means
	// 5432. The server listens on no TCP port.
	Port int

	// noFsync turns fsync off (initdb --no-sync, fsync=off) for tests,
	// whose data is thrown away. Never for a user's data.
	noFsync bool
}

// Server is a running private PostgreSQL server.
type Server struct {
	dataDir   string
	binDir    string
	logPath   string
	socketDir string // dataDir itself, or the fallback under /tmp
	fallback  bool   // socketDir is the fallback, removed on Stop
	port      int
	pid       int // the postmaster's; Stop leaves alone a later server on the same directory
	run       runner
	log       *slog.Logger

	mu      sync.Mutex
	stopped bool
}

// URL is the connection URL of the rollcall database: its Unix socket,
// e.g. postgres://rollcall@/rollcall?host=/var/lib/rollcall/postgres&sslmode=disable.
// It holds no secret (there is no password: only accounts that can enter
// the socket's directory get in), and it is the same at every start.
func (s *Server) URL() string { return socketURL(s.socketDir, s.port, database) }

// Running reports whether the server Start started is still running: not
// stopped, its postmaster alive (not killed, not crashed).
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return false
	}
	pid, ok := s.postmasterPID()
	return ok && pid == s.pid && isPostgres(pid)
}

// SocketDir is the directory holding the server's Unix socket.
func (s *Server) SocketDir() string { return s.socketDir }

// LogPath is the server's log file.
func (s *Server) LogPath() string { return s.logPath }

// Start starts the private server on opts.DataDir, creating the cluster on
// first use and the rollcall database if missing. The caller must Stop it.
func Start(ctx context.Context, opts Options) (*Server, error) {
	t0 := time.Now()
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	if opts.DataDir == "" {
		return nil, errors.New("private database: no data directory given")
	}
	dataDir, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("private database: %w", err)
	}
	existing := readVersionFile(dataDir)
	binDir, err := findBinDir(opts.BinDir, existing)
	if err != nil {
		return nil, err
	}
	run, err := newRunner(dataDir)
	if err != nil {
		return nil, err
	}

	// The data dir's parent also holds the log, which pg_ctl opens as the
	// server's account.
	if err := os.MkdirAll(filepath.Dir(dataDir), 0o755); err != nil {
		return nil, fmt.Errorf("private database: %w", err)
	}
	if err := os.Mkdir(dataDir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("private database: %w", err)
	}
	if err := run.checkTraversable(dataDir); err != nil {
		return nil, err
	}

	// Two rollcalls starting at once on one directory must not both
	// initdb or both start: serialise Start with a lock on the directory
	// itself. The lock is released when Start returns; from then on the
	// postmaster.pid and owner checks below tell the running server apart.
	unlock, err := lockDir(dataDir)
	if err != nil {
		return nil, fmt.Errorf("private database: lock %s: %w", dataDir, err)
	}
	defer unlock()

	port := opts.Port
	if port == 0 {
		port = defaultPort
	}
	s := &Server{dataDir: dataDir, binDir: binDir, logPath: dataDir + ".log", port: port, run: run, log: log}
	if err := s.checkNotRunning(ctx); err != nil {
		return nil, err
	}
	if err := run.chownTree(dataDir); err != nil {
		return nil, fmt.Errorf("private database: give %s to account %s: %w", dataDir, run.name, err)
	}
	// The data directory holds the socket: only its owner may enter it.
	// initdb makes it 0700, but PostgreSQL also accepts 0750, and a
	// directory made before Start (or restored from a copy) may be wider.
	if err := os.Chmod(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("private database: %w", err)
	}
	if err := s.prepareLog(); err != nil {
		return nil, err
	}

	if existing == "" {
		if err := s.initdb(ctx, opts.noFsync); err != nil {
			return nil, err
		}
	} else if err := s.checkVersion(ctx, existing); err != nil {
		return nil, err
	}
	if err := s.writeHBA(); err != nil {
		return nil, err
	}

	if err := s.prepareSocketDir(); err != nil {
		return nil, err
	}
	if err := s.start(ctx, opts.noFsync); err != nil {
		s.removeSocketDir()
		return nil, err
	}
	if err := s.writeOwner(); err != nil {
		s.log.Warn("private database: could not record the owner; a later run may refuse the directory while this one runs", slog.String("error", err.Error()))
	}
	if err := s.createDatabase(ctx); err != nil {
		_ = s.Stop(context.WithoutCancel(ctx))
		return nil, err
	}
	log.Info("private database started",
		slog.String("data_dir", dataDir), slog.String("socket_dir", s.socketDir), slog.String("run_as", run.name),
		slog.String("bin_dir", binDir), slog.String("log", s.logPath),
		slog.Bool("created", existing == ""), slog.Int64("duration_ms", time.Since(t0).Milliseconds()))
	return s, nil
}

// Stop stops the server (pg_ctl stop -m fast) and waits until it has exited
// and removed its socket. Calling it again does nothing. Give it a context
// that is not cancelled yet (a shutdown timeout): when ctx ends first, the
// server is stopped immediately and the next Start runs crash recovery.
func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil
	}
	s.stopped = true
	defer s.removeSocketDir()
	if pid, ok := s.postmasterPID(); !ok || pid != s.pid || !isPostgres(pid) {
		return nil // already gone (killed, or stopped by hand), maybe replaced by another Start
	}
	_ = os.Remove(filepath.Join(s.dataDir, ownerFile))
	out, err := s.run.output(ctx, s.bin("pg_ctl"), "stop", "-D", s.dataDir, "-m", "fast", "-w", "-t", "60")
	if err != nil {
		// A fast stop waits for nothing but a checkpoint; if even that
		// hangs, an immediate stop leaves crash recovery to the next Start.
		imm, err2 := s.run.output(context.WithoutCancel(ctx), s.bin("pg_ctl"), "stop", "-D", s.dataDir, "-m", "immediate", "-w", "-t", "30")
		if err2 != nil {
			return fmt.Errorf("private database: stop: %w: %s; %s", err, strings.TrimSpace(out), strings.TrimSpace(imm))
		}
		s.log.Warn("private database: fast stop failed, stopped immediately", slog.String("error", err.Error()))
	}
	s.log.Info("private database stopped", slog.String("data_dir", s.dataDir))
	return nil
}

func (s *Server) bin(name string) string { return filepath.Join(s.binDir, name) }

// checkNotRunning returns ErrInUse when a live postmaster serves the data
// directory for another live process. A postmaster left behind by a
// rollcall that was killed is stopped; a postmaster.pid naming a process
// that is not PostgreSQL (a PID reused after a crash or container restart,
// which PostgreSQL itself would refuse as "lock file already exists") is
// removed.
func (s *Server) checkNotRunning(ctx context.Context) error {
	pid, ok := s.postmasterPID()
	if !ok {
		return nil
	}
	if !isPostgres(pid) {
		s.log.Info("private database: removing a stale postmaster.pid", slog.Int("pid", pid))
		if err := os.Remove(filepath.Join(s.dataDir, "postmaster.pid")); err != nil {
			return fmt.Errorf("private database: remove stale postmaster.pid: %w", err)
		}
		return nil
	}
	owner, known := readOwner(s.dataDir)
	if !known || owner.alive() {
		who := fmt.Sprintf("postgres pid %d", pid)
		if known {
			who = fmt.Sprintf("pid %d; its postgres pid %d", owner.pid, pid)
		}
		return fmt.Errorf("the private database in %s is %w (%s)", s.dataDir, ErrInUse, who)
	}
	s.log.Warn("private database: stopping a server left running by a rollcall that has exited",
		slog.Int("pid", pid), slog.Int("owner_pid", owner.pid))
	if out, err := s.run.output(ctx, s.bin("pg_ctl"), "stop", "-D", s.dataDir, "-m", "fast", "-w", "-t", "60"); err != nil {
		return fmt.Errorf("private database: stop the server left running by rollcall pid %d: %w: %s", owner.pid, err, strings.TrimSpace(out))
	}
	return nil
}

// postmasterPID reads the first line of postmaster.pid.
func (s *Server) postmasterPID() (int, bool) {
	b, err := os.ReadFile(filepath.Join(s.dataDir, "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, true
}

// prepareLog creates the log file as the server's account, which may not
// write to the data dir's parent, and keeps it from growing without bound.
func (s *Server) prepareLog() error {
	if fi, err := os.Stat(s.logPath); err == nil && fi.Size() > maxLogSize {
		_ = os.Rename(s.logPath, s.logPath+".old")
	}
	f, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("private database: server log: %w", err)
	}
	f.Close()
	if err := s.run.chown(s.logPath); err != nil {
		return fmt.Errorf("private database: server log: %w", err)
	}
	return nil
}

func (s *Server) initdb(ctx context.Context, noFsync bool) error {
	if entries, err := os.ReadDir(s.dataDir); err != nil {
		return fmt.Errorf("private database: %w", err)
	} else if len(entries) > 0 {
		return fmt.Errorf("private database: %s is neither empty nor a PostgreSQL data directory (no PG_VERSION); choose another data directory", s.dataDir)
	}
	s.log.Info("private database: creating the cluster (first run)", slog.String("data_dir", s.dataDir), slog.String("run_as", s.run.name))
	args := []string{"-D", s.dataDir, "-U", superuser, "--auth=trust", "--encoding=UTF8"}
	if noFsync {
		args = append(args, "--no-sync")
	}
	// Collation C: byte order never changes under a libc upgrade, so
	// indexes stay valid. Character classes C.UTF-8, so that upper/lower
	// and regular expressions know non-ASCII letters (member names are
	// often Cyrillic); plain C where the OS lacks that locale.
	out, err := s.run.output(ctx, s.bin("initdb"), append(args, "--locale=C", "--lc-ctype=C.UTF-8")...)
	if err != nil && strings.Contains(out, "locale") {
		out, err = s.run.output(ctx, s.bin("initdb"), append(args, "--locale=C")...)
	}
	if err != nil {
		// initdb cleans up after its own errors but not when killed (ctx
		// cancelled); a half-made cluster would fail every later Start.
		// The directory was empty, so everything in it is initdb's.
		if entries, rerr := os.ReadDir(s.dataDir); rerr == nil {
			for _, e := range entries {
				_ = os.RemoveAll(filepath.Join(s.dataDir, e.Name()))
			}
		}
		return fmt.Errorf("private database: initdb in %s: %w\n%s", s.dataDir, err, lastLines(out, 20))
	}
	return nil
}

// hba is the whole of pg_hba.conf: connections on the Unix socket only.
// trust, not peer: the socket's directory (0700) and the socket itself
// (unix_socket_permissions 0700) already let in only the server's account
// and root, and peer would lock out a rollcall running under a uid without
// a passwd entry (a container's --user), since PostgreSQL must name the
// peer's account to match it. No host line: nothing over TCP, even when
// someone starts the cluster by hand without rollcall's settings.
const hba = "# Written by rollcall at every start; edits are lost.\n" +
	"# Only the Unix socket, whose directory only the server's account (and root) can enter.\n" +
	"local all all trust\n"

// writeHBA rewrites pg_hba.conf at every start: initdb --auth=trust also
// trusts TCP from localhost, and rollcall before this version wrote
// "host all all 127.0.0.1/32 trust", which let every account on the
// machine in as superuser.
func (s *Server) writeHBA() error {
	path := filepath.Join(s.dataDir, "pg_hba.conf")
	if b, err := os.ReadFile(path); err == nil && string(b) == hba {
		return nil
	}
	tmp := path + ".rollcall-tmp"
	if err := os.WriteFile(tmp, []byte(hba), 0o600); err != nil {
		return fmt.Errorf("private database: pg_hba.conf: %w", err)
	}
	if err := s.run.chown(tmp); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("private database: pg_hba.conf: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("private database: pg_hba.conf: %w", err)
	}
	return nil
}

// checkVersion refuses binaries of another major version than the cluster
// (after an upgrade of the postgresql package, say), which PostgreSQL
// would only refuse with a less helpful message.
func (s *Server) checkVersion(ctx context.Context, cluster string) error {
	out, err := s.run.output(ctx, s.bin("postgres"), "--version")
	if err != nil {
		return fmt.Errorf("private database: %s --version: %w: %s", s.bin("postgres"), err, strings.TrimSpace(out))
	}
	if bin := majorVersion(out); bin != "" && bin != cluster {
		return fmt.Errorf("private database: %s was created by PostgreSQL %s but the binaries in %s are PostgreSQL %s: "+
			"install PostgreSQL %s as well (Debian/Ubuntu: `apt-get install postgresql-%s`) or set PG_BIN_DIR to its binaries, "+
			"or upgrade the cluster with pg_upgrade", s.dataDir, cluster, s.binDir, bin, cluster, cluster)
	}
	return nil
}

// start runs pg_ctl start, retrying while the shared memory of a killed
// server is still held by its exiting children.
func (s *Server) start(ctx context.Context, noFsync bool) error {
	deadline := time.Now().Add(10 * time.Second)
	// pg_ctl hands -o to /bin/sh, hence the shell quoting;
	// unix_socket_directories is itself a list, hence the double quotes.
	// An empty listen_addresses: no TCP socket at all.
	o := []string{"-p", strconv.Itoa(s.port), "-c", "listen_addresses=",
		"-c", `unix_socket_directories="` + s.socketDir + `"`, "-c", "unix_socket_permissions=0700"}
	if noFsync {
		o = append(o, "-c", "fsync=off")
	}
	for attempt := 1; ; attempt++ {
		offset := fileSize(s.logPath)
		out, err := s.run.output(ctx, s.bin("pg_ctl"), "start", "-D", s.dataDir, "-l", s.logPath, "-w", "-t", "300", "-o", shellJoin(o))
		if err == nil {
			s.pid, _ = s.postmasterPID()
			return nil
		}
		logTail := readFrom(s.logPath, offset)
		// pg_ctl killed by ctx, or timed out, may leave a server starting.
		if pid, ok := s.postmasterPID(); ok && isPostgres(pid) {
			_, _ = s.run.output(context.WithoutCancel(ctx), s.bin("pg_ctl"), "stop", "-D", s.dataDir, "-m", "immediate", "-w", "-t", "30")
		}
		retry := strings.Contains(logTail, "pre-existing shared memory block")
		if ctx.Err() != nil || !retry || time.Now().After(deadline) {
			return fmt.Errorf("private database: start the server (log %s): %w\n%s%s", s.logPath, err, strings.TrimSpace(out)+"\n", lastLines(logTail, 20))
		}
		s.log.Debug("private database: start failed, retrying", slog.Int("attempt", attempt), slog.String("log", lastLines(logTail, 3)))
		time.Sleep(200 * time.Millisecond)
	}
}

// createDatabase creates the rollcall database when missing.
func (s *Server) createDatabase(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, socketURL(s.socketDir, s.port, "postgres"))
	if err != nil {
		return fmt.Errorf("private database: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, database).Scan(&exists); err != nil {
		return fmt.Errorf("private database: %w", err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+database); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // duplicate_database
			return nil
		}
		return fmt.Errorf("private database: create database %s: %w", database, err)
	}
	return nil
}

// lockDir takes an exclusive flock on dir, waiting for another Start.
func lockDir(dir string) (func(), error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}

func readVersionFile(dataDir string) string {
	b, err := os.ReadFile(filepath.Join(dataDir, "PG_VERSION"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// majorVersion extracts "15" from "postgres (PostgreSQL) 15.14 (Debian ...)"
// and "9.6" from "... 9.6.24".
func majorVersion(out string) string {
	for _, f := range strings.Fields(out) {
		parts := strings.Split(f, ".")
		if len(parts) < 2 {
			continue
		}
		if _, err := strconv.Atoi(parts[0]); err != nil {
			continue
		}
		if n, _ := strconv.Atoi(parts[0]); n < 10 {
			return parts[0] + "." + parts[1]
		}
		return parts[0]
	}
	return ""
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// readFrom returns what was appended to path since offset (at most 64 KiB).
func readFrom(path string, offset int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if size := fileSize(path); size-offset > 64<<10 {
		offset = size - 64<<10
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return ""
	}
	b, _ := io.ReadAll(f)
	return string(b)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// shellJoin quotes each word for /bin/sh.
func shellJoin(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}
