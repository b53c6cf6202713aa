package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"rollcall/config"
	"rollcall/localpg"
	"rollcall/store"
	"rollcall/store/storetest"
)

// privateParent is a folder for private databases that the server's
// account can enter when the tests run as root (t.TempDir's parent is
// private to root).
func privateParent(t *testing.T) string {
	t.Helper()
	parent, err := os.MkdirTemp("", "rollcall-ops-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(parent) })
	if err := os.Chmod(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	return parent
}

// startPrivate starts the private database under dataDir as rollcall run
// does, skipping (outside CI) when PostgreSQL's programs are missing.
func startPrivate(t *testing.T, dataDir string) (url string, stop func()) {
	t.Helper()
	cfg := &config.Config{}
	stop, err := startPrivateDB(context.Background(), cfg, dataDir, quietLog())
	if err != nil {
		if errors.Is(err, localpg.ErrNoBinaries) && os.Getenv("CI") != "true" {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return cfg.DatabaseURL.Value(), stop
}

// seed migrates url and writes a few rows into every kind of table.
func seed(t *testing.T, url string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx, schema); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO members (guild_id, user_id, username, display_name, roles) VALUES (1, 10, 'alexey', 'Алексей 🎮', '{5,6}'), (1, 11, 'zoe', '', '{}')`,
		`INSERT INTO occurrences (guild_id, schedule, starts_at, ends_at) VALUES (1, 'БЗС', '2026-11-27T16:00:00Z', '2026-11-27T17:00:00Z')`,
		`INSERT INTO attendance (occurrence_id, user_id, chunk, present, self_mute) SELECT id, 10, 0, 24, 8 FROM occurrences`,
		`INSERT INTO coverage (occurrence_id, chunk, sampled) SELECT id, 0, 24 FROM occurrences`,
		`INSERT INTO posts (kind, ref, channel_id, guild_id, attempted_at) VALUES ('event', '1', 5, 1, now())`,
	} {
		if _, err := st.Pool().Exec(ctx, q); err != nil {
			t.Fatalf("seed: %v\n%s", err, q)
		}
	}
}

// fingerprint is every table in public with a digest of all its rows.
func fingerprint(t *testing.T, url string) map[string]string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, table := range tables {
		name := pgx.Identifier{"public", table}.Sanitize()
		var n int
		var digest *string
		if err := conn.QueryRow(ctx, `SELECT count(*), md5(string_agg(t::text, '|' ORDER BY t::text)) FROM `+name+` t`).Scan(&n, &digest); err != nil {
			t.Fatal(err)
		}
		d := ""
		if digest != nil {
			d = *digest
		}
		if table == "schema_migrations" {
			// applied_at differs by nature; the versions must not.
			if err := conn.QueryRow(ctx, `SELECT count(*), string_agg(version::text, ',' ORDER BY version) FROM schema_migrations`).Scan(&n, &d); err != nil {
				t.Fatal(err)
			}
		}
		out[table] = fmt.Sprintf("%d rows %s", n, d)
	}
	return out
}

func sameTables(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d tables, want %d (%v vs %v)", what, len(got), len(want), got, want)
	}
	for table, w := range want {
		if got[table] != w {
			t.Errorf("%s: %s is %q, want %q", what, table, got[table], w)
		}
	}
}

func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("rollcall %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out + errOut
}

func checkBackupFile(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %s, want 0600 (it holds every member's attendance)", path, fi.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(b), "PGDMP") {
		t.Errorf("%s is not a custom-format archive", path)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*.tmp-*")); len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

// The private database, both ways: backed up while a rollcall runs on it
// (through its socket) and while none does (started for the backup and
// stopped after); restored into a fresh data directory and into a
// configured database on another server; refused while in use or not
// empty, unless --force.
func TestBackupRestorePrivate(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	parent := privateParent(t)
	src, dst := filepath.Join(parent, "src"), filepath.Join(parent, "dst")
	cfg := writeConfig(t, "# no database_url: the private database\nlog_level = \"info\"\n")

	url, stop := startPrivate(t, src)
	seed(t, url)
	want := fingerprint(t, url)
	running := filepath.Join(parent, "running.dump")
	out := mustCLI(t, "backup", "--out", running, "--config", cfg, "--data-dir", src)
	checkBackupFile(t, running)
	if !strings.Contains(out, "backed up "+url) {
		t.Errorf("backup said %q", out)
	}
	if info, _ := localpg.Inspect(filepath.Join(src, "postgres")); info.OwnerPID != os.Getpid() {
		t.Errorf("the backup disturbed the running server: %+v", info)
	}
	// Not under a running rollcall.
	code, _, errOut := runCLI(t, "restore", "--from", running, "--config", cfg, "--data-dir", src, "--force")
	if code != 1 || !strings.Contains(errOut, "in use (rollcall pid "+strconv.Itoa(os.Getpid())) || !strings.Contains(errOut, "stop rollcall first") {
		t.Errorf("restore under a running rollcall: exit %d, %q", code, errOut)
	}
	stop()

	stopped := filepath.Join(parent, "stopped.dump")
	mustCLI(t, "backup", "--out", stopped, "--config", cfg, "--data-dir", src)
	checkBackupFile(t, stopped)
	if info, _ := localpg.Inspect(filepath.Join(src, "postgres")); info.Running() {
		t.Errorf("the server started for the backup still runs: %+v", info)
	}

	// Into a data directory that does not exist yet.
	out = mustCLI(t, "restore", "--from", stopped, "--config", cfg, "--data-dir", dst)
	if !strings.Contains(out, "restored "+stopped) {
		t.Errorf("restore said %q", out)
	}
	code, _, errOut = runCLI(t, "restore", "--from", running, "--config", cfg, "--data-dir", dst)
	if code != 1 || !strings.Contains(errOut, "not empty") || !strings.Contains(errOut, "--force") {
		t.Errorf("restore into a full database: exit %d, %q", code, errOut)
	}
	mustCLI(t, "restore", "--from", running, "--config", cfg, "--data-dir", dst, "--force")
	dstURL, stopDst := startPrivate(t, dst)
	sameTables(t, "restored into a fresh data dir", fingerprint(t, dstURL), want)
	stopDst()

	// Onto another server whose user is not the private database's role.
	other := storetest.URL(t)
	t.Setenv("DATABASE_URL", other)
	mustCLI(t, "restore", "--from", stopped, "--config", cfg)
	sameTables(t, "restored into a configured database", fingerprint(t, other), want)
}

// A configured database (DATABASE_URL, the tests' server), backed up and
// restored into another database on it.
func TestBackupRestoreConfigured(t *testing.T) {
	srcURL, dstURL := storetest.URL(t), storetest.URL(t)
	seed(t, srcURL)
	want := fingerprint(t, srcURL)
	cfg := writeConfig(t, "database_url = \"postgres://nobody@127.0.0.1:1/overridden\"\n")
	file := filepath.Join(t.TempDir(), "rollcall.dump")

	t.Setenv("DATABASE_URL", srcURL)
	mustCLI(t, "backup", "--out", file, "--config", cfg)
	checkBackupFile(t, file)
	// A second backup replaces the first.
	mustCLI(t, "backup", "--out", file, "--config", cfg)
	checkBackupFile(t, file)

	t.Setenv("DATABASE_URL", dstURL)
	mustCLI(t, "restore", "--from", file, "--config", cfg)
	sameTables(t, "restored", fingerprint(t, dstURL), want)

	// --force drops what is there, even tables the backup does not have
	// (a newer schema's), so that the result is the backup alone.
	conn, err := pgx.Connect(context.Background(), dstURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(context.Background(), `CREATE TABLE from_a_newer_schema (id int); CREATE VIEW v AS SELECT * FROM members`); err != nil {
		t.Fatal(err)
	}
	conn.Close(context.Background())
	mustCLI(t, "restore", "--from", file, "--config", cfg, "--force")
	sameTables(t, "restored with --force", fingerprint(t, dstURL), want)

	code, _, errOut := runCLI(t, "restore", "--from", cfg, "--config", cfg)
	if code != 1 || !strings.Contains(errOut, "not a pg_dump archive") {
		t.Errorf("restore of a non-archive: exit %d, %q", code, errOut)
	}
}

// Without pg_dump the error names the Debian package of the server's
// version; a pg_dump of another major version is named with both versions.
func TestBackupClientErrors(t *testing.T) {
	url := storetest.URL(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	var num string
	if err := conn.QueryRow(ctx, `SHOW server_version_num`).Scan(&num); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	n, _ := strconv.Atoi(num)
	major := n / 10000

	empty := t.TempDir()
	t.Setenv("DATABASE_URL", url)
	t.Setenv("PG_BIN_DIR", "")
	t.Setenv("PATH", empty)
	old := pgClientRoot
	pgClientRoot = empty
	t.Cleanup(func() { pgClientRoot = old })
	code, _, errOut := runCLI(t, "backup", "--out", filepath.Join(empty, "x.dump"), "--config", "/nonexistent")
	for _, want := range []string{"pg_dump not found", fmt.Sprintf("apt-get install postgresql-client-%d", major)} {
		if code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("backup without pg_dump: exit %d, %q; want %q", code, errOut, want)
		}
	}
	if _, err := os.Stat(filepath.Join(empty, "x.dump")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed backup left a file: %v", err)
	}
	pgClientRoot = old

	// The installed pg_dump, said to face a server one major version up.
	path, err := findClient(ctx, "pg_dump", major)
	if err != nil {
		t.Skip(err)
	}
	vout, err := exec.Command(path, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	err = checkClientVersion("pg_dump", path, string(vout), major+1)
	for _, want := range []string{path, fmt.Sprintf("is PostgreSQL %d", major), fmt.Sprintf("server is PostgreSQL %d", major+1), fmt.Sprintf("postgresql-client-%d", major+1)} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("mismatch error %v does not mention %q", err, want)
		}
	}
	if err := checkClientVersion("pg_dump", path, string(vout), major); err != nil {
		t.Errorf("the matching version was refused: %v", err)
	}
}

func TestDBURL(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	parent := privateParent(t)
	cfg := writeConfig(t, "")
	data := filepath.Join(parent, "data")
	code, out, errOut := runCLI(t, "db-url", "--config", cfg, "--data-dir", data)
	wantURL := "postgres://rollcall@/rollcall?host=" + filepath.Join(data, "postgres") + "&sslmode=disable"
	if code != 0 || strings.TrimSpace(out) != wantURL || !strings.Contains(errOut, "not created yet") {
		t.Fatalf("before the first start: exit %d, %q, %q; want %q", code, out, errOut, wantURL)
	}
	url, stop := startPrivate(t, data)
	if url != wantURL {
		t.Errorf("the server's URL %q, db-url's %q", url, wantURL)
	}
	_, out, errOut = runCLI(t, "db-url", "--config", cfg, "--data-dir", data)
	if strings.TrimSpace(out) != wantURL || !strings.Contains(errOut, "running, used by rollcall pid "+strconv.Itoa(os.Getpid())) {
		t.Errorf("running: %q, %q", out, errOut)
	}
	stop()
	_, out, errOut = runCLI(t, "db-url", "--config", cfg, "--data-dir", data)
	if strings.TrimSpace(out) != wantURL || !strings.Contains(errOut, "not running") {
		t.Errorf("stopped: %q, %q", out, errOut)
	}

	// A configured URL: printed without its password.
	cfg = writeConfig(t, "database_url = \"postgres://bot:hunter2@db.example:5432/rollcall?sslmode=require\"\n")
	code, out, errOut = runCLI(t, "db-url", "--config", cfg)
	if code != 0 || strings.TrimSpace(out) != "postgres://bot:xxxxx@db.example:5432/rollcall?sslmode=require" ||
		!strings.Contains(errOut, "database_url in "+cfg) || strings.Contains(out+errOut, "hunter2") {
		t.Errorf("configured: exit %d, %q, %q", code, out, errOut)
	}
	t.Setenv("DATABASE_URL", "postgres://bot:s3cret@env.example/rollcall")
	_, out, errOut = runCLI(t, "db-url", "--config", cfg)
	if strings.TrimSpace(out) != "postgres://bot:xxxxx@env.example/rollcall" || !strings.Contains(errOut, "DATABASE_URL") || strings.Contains(out+errOut, "s3cret") {
		t.Errorf("DATABASE_URL: %q, %q", out, errOut)
	}
	// A broken config file is not quoted: the line may hold the token.
	cfg = writeConfig(t, "token = \"a-very-secret-token-value\" oops\n")
	t.Setenv("DATABASE_URL", "")
	code, out, errOut = runCLI(t, "db-url", "--config", cfg)
	if code != 1 || strings.Contains(out+errOut, "a-very-secret") {
		t.Errorf("broken config: exit %d, %q, %q", code, out, errOut)
	}
}

func TestOpsUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"backup"}, "say which file"},
		{[]string{"restore", "--force"}, "say which file"},
		{[]string{"backup", "--out", "x", "extra"}, `unexpected argument "extra"`},
		{[]string{"version", "x"}, "no arguments"},
		{[]string{"db-url", "--nope"}, "flag provided but not defined"},
	} {
		if code, _, errOut := runCLI(t, tc.args...); code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("rollcall %v: exit %d, %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

// The version a release build is given with -ldflags -X is what
// `rollcall version`, `--version` and the first log line of run say; a
// plain build in a git checkout says its commit.
func TestVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary twice")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "rollcall")
	ldflags := "-X rollcall/version.Version=9.8.7 -X rollcall/version.Commit=0123456789abcdef -X rollcall/version.Date=2026-12-01T10:00:00Z"
	if out, err := exec.Command("go", "build", "-o", bin, "-ldflags", ldflags, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	const want = "rollcall 9.8.7 (commit 0123456789ab, built 2026-12-01T10:00:00Z, go"
	for _, arg := range []string{"version", "--version"} {
		out, err := exec.Command(bin, arg).CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), want) {
			t.Errorf("rollcall %s = %q, %v; want %q...", arg, out, err, want)
		}
	}

	// The first log line of run, before anything can fail; the data
	// directory logged in full though given relative.
	cfg := writeConfig(t, strings.ReplaceAll(goodConfig, "%TOKEN%", testToken))
	cmd := exec.Command(bin, "run", "--config", cfg, "--data-dir", "relative-data", "--log-format", "json")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DATABASE_URL=")
	out, _ := cmd.CombinedOutput() // database_url points at port 1: exits 1
	first, _, _ := strings.Cut(string(out), "\n")
	if !strings.Contains(first, `"msg":"starting `+want) || !strings.Contains(first, `"data_dir":"`+filepath.Join(dir, "relative-data")+`"`) {
		t.Errorf("first log line %q, want the version and the absolute data dir", first)
	}

}

// A plain build in a git checkout says its commit, from the VCS stamp.
func TestVersionFromVCSStamp(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "rollcall")
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	if fi, err := os.Stat(".git"); err != nil || !fi.IsDir() {
		// Go finds a repository by its .git directory only; a linked
		// worktree's .git is a file, and its builds get no VCS stamp
		// (golang/go#58218). make build passes the commit with -ldflags,
		// which works there.
		t.Skip("skipping the VCS stamp: a linked git worktree, which go build does not stamp")
	}
	if out, err := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build -buildvcs=true: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "commit "+strings.TrimSpace(string(head))[:12]) {
		t.Errorf("plain build: rollcall version = %q, %v; want commit %s", out, err, head)
	}
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
