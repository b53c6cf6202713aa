//go:build unix

package localpg

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// needBinaries skips the test when no PostgreSQL binaries are installed,
// except under CI=true, where it fails: CI must never pass by testing
// nothing.
func needBinaries(t *testing.T) {
	t.Helper()
	if _, err := findBinDir("", ""); err != nil {
		msg := fmt.Sprintf("skipping: %v", err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// testDir is a fresh directory that the server's account can enter even
// when the tests run as root (t.TempDir's directories are 0700).
func testDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "localpg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// start starts a throwaway server (fsync off) and stops it when t ends.
func start(t *testing.T, opts Options) *Server {
	t.Helper()
	opts.noFsync = true
	s, err := Start(ctxT(t), opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { s.Stop(context.Background()) })
	return s
}

func execSQL(t *testing.T, s *Server, sql string, args ...any) {
	t.Helper()
	conn, err := pgx.Connect(ctxT(t), s.URL())
	if err != nil {
		t.Fatalf("connect %s: %v", s.URL(), err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctxT(t), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func queryInt(t *testing.T, s *Server, sql string) int {
	t.Helper()
	conn, err := pgx.Connect(ctxT(t), s.URL())
	if err != nil {
		t.Fatalf("connect %s: %v", s.URL(), err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(ctxT(t), sql).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func postmasterPID(t *testing.T, s *Server) int {
	t.Helper()
	pid, ok := s.postmasterPID()
	if !ok {
		t.Fatalf("no postmaster.pid in %s", s.dataDir)
	}
	return pid
}

// The data written in one run is there in the next, with the settings a
// user gets (fsync on); the timings logged here are the package doc's.
func TestStartTwiceKeepsData(t *testing.T) {
	needBinaries(t)
	t.Parallel()
	dataDir := filepath.Join(testDir(t), "rollcall-data", "postgres")

	t0 := time.Now()
	s, err := Start(ctxT(t), Options{DataDir: dataDir})
	if err != nil {
		t.Fatalf("first Start: %v", err)
	}
	first := time.Since(t0)
	if want := "postgres://rollcall@/rollcall?host=" + dataDir + "&sslmode=disable"; s.URL() != want {
		t.Errorf("URL() = %q, want %q", s.URL(), want)
	}
	execSQL(t, s, `CREATE TABLE kept (n int)`)
	execSQL(t, s, `INSERT INTO kept VALUES (42)`)
	t0 = time.Now()
	if err := s.Stop(ctxT(t)); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	stop := time.Since(t0)

	t0 = time.Now()
	s2, err := Start(ctxT(t), Options{DataDir: dataDir})
	if err != nil {
		t.Fatalf("second Start: %v", err)
	}
	second := time.Since(t0)
	defer s2.Stop(context.Background())
	if s2.URL() != s.URL() {
		t.Errorf("the URL changed across a restart: %q, then %q", s.URL(), s2.URL())
	}
	if got := queryInt(t, s2, `SELECT n FROM kept`); got != 42 {
		t.Errorf("after restart: n = %d, want 42", got)
	}
	if _, err := os.Stat(dataDir + ".log"); err != nil {
		t.Errorf("server log: %v", err)
	}
	t.Logf("first Start (initdb) %v, Stop %v, second Start %v", first.Round(time.Millisecond), stop.Round(time.Millisecond), second.Round(time.Millisecond))
}

func TestStopIsIdempotentAndRemovesTheSocket(t *testing.T) {
	needBinaries(t)
	t.Parallel()
	s := start(t, Options{DataDir: filepath.Join(testDir(t), "pg")})
	socket := filepath.Join(s.SocketDir(), fmt.Sprintf(".s.PGSQL.%d", s.port))
	if _, err := os.Stat(socket); err != nil {
		t.Fatalf("socket: %v", err)
	}
	for i := range 2 {
		if err := s.Stop(ctxT(t)); err != nil {
			t.Fatalf("Stop #%d: %v", i+1, err)
		}
	}
	if _, err := os.Stat(socket); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket after Stop: %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.dataDir, "postmaster.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("postmaster.pid after Stop: %v", err)
	}
}

// As root the server runs as an unprivileged account; as a normal user it
// runs as that user.
func TestServerRunsUnprivileged(t *testing.T) {
	needBinaries(t)
	t.Parallel()
	s := start(t, Options{DataDir: filepath.Join(testDir(t), "pg")})
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", postmasterPID(t, s)))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	var uid string
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "Uid:" {
			uid = f[1] // real uid; effective and saved follow
		}
	}
	want := strconv.Itoa(os.Getuid())
	if os.Geteuid() == 0 {
		want = strconv.Itoa(int(s.run.cred.Uid))
		if uid == "0" {
			t.Fatal("the server runs as root")
		}
	}
	if uid != want {
		t.Errorf("postmaster uid = %s, want %s (account %s)", uid, want, s.run.name)
	}
}

func TestNoBinaries(t *testing.T) {
	tests := []struct {
		name string
		opts func(empty string) Options
		env  func(empty string) string
	}{
		{"BinDir", func(empty string) Options { return Options{BinDir: empty} }, func(string) string { return "" }},
		{"PG_BIN_DIR", func(string) Options { return Options{} }, func(empty string) string { return empty }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			empty := t.TempDir()
			t.Setenv("PG_BIN_DIR", tt.env(empty))
			opts := tt.opts(empty)
			opts.DataDir = filepath.Join(testDir(t), "pg")
			_, err := Start(ctxT(t), opts)
			if !errors.Is(err, ErrNoBinaries) {
				t.Fatalf("Start = %v, want ErrNoBinaries", err)
			}
			for _, want := range []string{"apt-get install postgresql", "PG_BIN_DIR", empty} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

// A server killed with SIGKILL leaves postmaster.pid behind (and, for a
// moment, children holding its shared memory); the next Start recovers
// and the committed data is there.
func TestStartAfterCrash(t *testing.T) {
	needBinaries(t)
	t.Parallel()
	dataDir := filepath.Join(testDir(t), "pg")
	s := start(t, Options{DataDir: dataDir})
	execSQL(t, s, `CREATE TABLE kept (n int)`)
	execSQL(t, s, `INSERT INTO kept VALUES (7)`)
	pid := postmasterPID(t, s)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for isPostgres(pid) {
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "postmaster.pid")); err != nil {
		t.Fatalf("expected a stale postmaster.pid: %v", err)
	}
	s2 := start(t, Options{DataDir: dataDir})
	if got := queryInt(t, s2, `SELECT n FROM kept`); got != 7 {
		t.Errorf("after recovery: n = %d, want 7", got)
	}
	if err := s.Stop(ctxT(t)); err != nil { // the crashed one: nothing to do
		t.Errorf("Stop of the killed server: %v", err)
	}
	if got := queryInt(t, s2, `SELECT 1`); got != 1 {
		t.Error("stopping the killed server's handle touched the new server")
	}
}

// A postmaster.pid naming a live process that is not PostgreSQL (a PID
// reused after a crash) does not block Start; PostgreSQL alone would
// refuse it.
func TestStartWithReusedPID(t *testing.T) {
	needBinaries(t)
	t.Parallel()
	dataDir := filepath.Join(testDir(t), "pg")
	s := start(t, Options{DataDir: dataDir})
	if err := s.Stop(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	// Our own pid: alive, and not postgres.
	if err := os.WriteFile(filepath.Join(dataDir, "postmaster.pid"), fmt.Appendf(nil, "%d\n%s\n", os.Getpid(), dataDir), 0o600); err != nil {
		t.Fatal(err)
	}
	start(t, Options{DataDir: dataDir})
}

func TestInUse(t *testing.T) {
	needBinaries(t)
	t.Parallel()
	dataDir := filepath.Join(testDir(t), "pg")
	s := start(t, Options{DataDir: dataDir})
	_, err := Start(ctxT(t), Options{DataDir: dataDir, noFsync: true})
	if !errors.Is(err, ErrInUse) {
		t.Fatalf("second Start = %v, want ErrInUse", err)
	}
	want := fmt.Sprintf("the private database in %s is in use by another process (pid %d;", dataDir, os.Getpid())
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
	if got := queryInt(t, s, `SELECT 1`); got != 1 {
		t.Error("the first server no longer answers")
	}
}

// A server left running by a rollcall that was killed (its owner file
// names a process that no longer exists) is stopped and started afresh.
func TestStartStopsOrphanedServer(t *testing.T) {
	needBinaries(t)
	t.Parallel()
	dataDir := filepath.Join(testDir(t), "pg")
	s := start(t, Options{DataDir: dataDir})
	orphan := postmasterPID(t, s)
	// Our pid with another start time: a dead owner whose pid was reused.
	if err := os.WriteFile(filepath.Join(dataDir, ownerFile), fmt.Appendf(nil, "%d 1\n", os.Getpid()), 0o600); err != nil {
		t.Fatal(err)
	}
	s2 := start(t, Options{DataDir: dataDir})
	if isPostgres(orphan) {
		t.Errorf("the orphaned postmaster %d still runs", orphan)
	}
	if got := queryInt(t, s2, `SELECT 1`); got != 1 {
		t.Error("the new server does not answer")
	}
}

// A data directory whose socket path would pass the kernel's 108-byte
// limit gets its socket in a short directory under /tmp named after the
// data directory, the same at every start, closed to other accounts, and
// removed on Stop.
func TestLongDataDir(t *testing.T) {
	needBinaries(t)
	t.Parallel()
	dataDir := filepath.Join(testDir(t), strings.Repeat("d", 60), strings.Repeat("e", 60), "pg")
	s := start(t, Options{DataDir: dataDir})
	if !s.fallback || !strings.HasPrefix(s.socketDir, "/tmp/rollcall-pg-") {
		t.Fatalf("socket dir %s for %s (%d bytes)", s.socketDir, dataDir, len(dataDir))
	}
	if info, err := Inspect(dataDir); err != nil || info.SocketDir != s.socketDir || info.URL != s.URL() {
		t.Errorf("Inspect = %+v, %v; want socket dir %s and URL %s", info, err, s.socketDir, s.URL())
	}
	fi, err := os.Stat(s.socketDir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("socket dir mode %s, want 0700", fi.Mode().Perm())
	}
	if _, err := os.Stat(filepath.Join(s.socketDir, fmt.Sprintf(".s.PGSQL.%d", s.port))); err != nil {
		t.Errorf("socket: %v", err)
	}
	if got := queryInt(t, s, `SELECT 1`); got != 1 {
		t.Error("no answer")
	}
	if err := s.Stop(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.socketDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket dir %s left after Stop: %v", s.socketDir, err)
	}
	s2 := start(t, Options{DataDir: dataDir})
	if s2.URL() != s.URL() {
		t.Errorf("the URL changed across a restart: %q, then %q", s.URL(), s2.URL())
	}
}

// The refusals that need no running server.
func TestStartRefuses(t *testing.T) {
	needBinaries(t)
	tests := []struct {
		name   string
		root   bool // only meaningful when the tests run as root
		setup  func(t *testing.T, base string) string
		errHas []string
	}{
		{"data dir under a directory the server's account cannot enter", true, func(t *testing.T, base string) string {
			closed := filepath.Join(base, "closed")
			if err := os.Mkdir(closed, 0o700); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(closed, "pg")
		}, []string{"cannot enter", "/closed", "chmod o+x", "--data-dir"}},
		{"neither empty nor a cluster", false, func(t *testing.T, base string) string {
			dir := filepath.Join(base, "pg")
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o600); err != nil {
				t.Fatal(err)
			}
			return dir
		}, []string{"neither empty nor a PostgreSQL data directory"}},
		{"cluster of a version not installed", false, func(t *testing.T, base string) string {
			dir := filepath.Join(base, "pg")
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "PG_VERSION"), []byte("9.6\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			return dir
		}, []string{"created by PostgreSQL 9.6", "apt-get install postgresql-9.6", "pg_upgrade"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.root && os.Geteuid() != 0 {
				t.Skip("only as root")
			}
			_, err := Start(ctxT(t), Options{DataDir: tt.setup(t, testDir(t)), noFsync: true})
			if err == nil {
				t.Fatal("Start succeeded")
			}
			for _, want := range tt.errHas {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

func TestMajorVersion(t *testing.T) {
	for in, want := range map[string]string{
		"postgres (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)\n": "15",
		"postgres (PostgreSQL) 9.6.24\n":                         "9.6",
		"postgres (PostgreSQL) 17beta1\n":                        "",
	} {
		if got := majorVersion(in); got != want {
			t.Errorf("majorVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

// A start that fails says why, with the server log's last lines.
func TestStartFailureQuotesTheLog(t *testing.T) {
	needBinaries(t)
	t.Parallel()
	dataDir := filepath.Join(testDir(t), "pg")
	s := start(t, Options{DataDir: dataDir})
	if err := s.Stop(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	// A setting the server refuses at start, as a hand edit might leave.
	f, err := os.OpenFile(filepath.Join(dataDir, "postgresql.auto.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(f, "max_connections = 'lots'")
	f.Close()
	_, err = Start(ctxT(t), Options{DataDir: dataDir, noFsync: true})
	if err == nil {
		t.Fatal("Start succeeded with a broken setting")
	}
	t.Log(err)
	for _, want := range []string{dataDir + ".log", `invalid value for parameter "max_connections"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// A first Start cancelled during initdb leaves an empty directory, so the
// next Start creates the cluster instead of refusing a half-made one.
func TestCancelledInitdbLeavesNothing(t *testing.T) {
	needBinaries(t)
	t.Parallel()
	dataDir := filepath.Join(testDir(t), "pg")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := Start(ctx, Options{DataDir: dataDir, noFsync: true}); err == nil {
		t.Skip("initdb finished within 100 ms")
	}
	if entries, _ := os.ReadDir(dataDir); len(entries) != 0 {
		t.Fatalf("%s holds %d entries after a cancelled initdb", dataDir, len(entries))
	}
	s := start(t, Options{DataDir: dataDir})
	if got := queryInt(t, s, `SELECT 1`); got != 1 {
		t.Error("no answer")
	}
}
