//go:build linux

package localpg

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// otherAccount creates a throwaway system account for t and removes it when
// t ends. Only root can; elsewhere the test is skipped, since nothing else
// can run a program as a second account.
func otherAccount(t *testing.T) *syscall.Credential {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: needs root, to create a second OS account and run a program as it (CI runs as root)")
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := "rcprobe" + hex.EncodeToString(b[:])
	out, err := exec.Command("useradd", "--system", "--user-group", "--no-create-home",
		"--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name).CombinedOutput()
	if err != nil {
		t.Fatalf("useradd %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("userdel", name).CombinedOutput(); err != nil {
			t.Errorf("userdel %s: %v: %s", name, err, out)
		}
	})
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
}

// psql runs psql as cred (nil: as the test process) against url and
// returns what SELECT current_user printed, or the error with psql's words.
func psql(t *testing.T, s *Server, cred *syscall.Credential, url string) (string, error) {
	t.Helper()
	bin := filepath.Join(s.binDir, "psql")
	if _, err := os.Stat(bin); err != nil {
		if bin, err = exec.LookPath("psql"); err != nil {
			t.Skipf("skipping: no psql: %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-X", "-w", "-At", "-d", url, "-c", "SELECT current_user")
	cmd.Dir = "/"
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%w: %s", err, strings.TrimSpace(string(out)))
	}
	return strings.TrimSpace(string(out)), nil
}

// Issue 13: another account on the machine must not get into the private
// database (it used to, over TCP, as superuser), while rollcall's own
// connection works. The same psql, the same URL, only the account differs.
func TestOtherAccountCannotConnect(t *testing.T) {
	needBinaries(t)
	t.Parallel()
	other := otherAccount(t)
	s := start(t, Options{DataDir: filepath.Join(testDir(t), "pg")})

	if who, err := psql(t, s, nil, s.URL()); err != nil || who != superuser {
		t.Fatalf("rollcall's own account: psql %s = %q, %v; want %q", s.URL(), who, err, superuser)
	}
	who, err := psql(t, s, other, s.URL())
	if err == nil {
		t.Fatalf("account uid %d connected to %s as %q", other.Uid, s.URL(), who)
	}
	t.Logf("uid %d refused: %v", other.Uid, err)
	if !strings.Contains(err.Error(), "Permission denied") {
		t.Errorf("refused for another reason than the socket's permissions: %v", err)
	}
}

// The server has no TCP socket at all: none of the postmaster's file
// descriptors is a listening TCP socket (IPv4 or IPv6), and the setting
// says so too.
func TestNoTCPListener(t *testing.T) {
	needBinaries(t)
	t.Parallel()
	s := start(t, Options{DataDir: filepath.Join(testDir(t), "pg")})
	pid := postmasterPID(t, s)
	ports, err := tcpListenPorts(pid)
	if err != nil {
		t.Skipf("skipping: cannot read the postmaster's sockets: %v", err)
	}
	if len(ports) > 0 {
		t.Errorf("the postmaster (pid %d) listens on TCP ports %v", pid, ports)
	}
	conn := connect(t, s)
	var listen string
	if err := conn.QueryRow(ctxT(t), `SHOW listen_addresses`).Scan(&listen); err != nil {
		t.Fatal(err)
	}
	if listen != "" {
		t.Errorf("listen_addresses = %q, want empty", listen)
	}
}

// tcpListenPorts lists the TCP ports pid listens on, from its file
// descriptors' socket inodes and /proc/net/tcp{,6}.
func tcpListenPorts(pid int) ([]int, error) {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return nil, err
	}
	inodes := map[string]bool{}
	sockets := 0
	for _, fd := range fds {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err == nil && strings.HasPrefix(link, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = true
			sockets++
		}
	}
	if sockets == 0 {
		return nil, fmt.Errorf("pid %d has no sockets at all, not even its Unix socket", pid)
	}
	var ports []int
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(table)
		if err != nil {
			continue // no IPv6
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			// sl local_address rem_address st tx:rx tr:tm retrnsmt uid timeout inode
			fl := strings.Fields(sc.Text())
			if len(fl) < 10 || fl[3] != "0A" || !inodes[fl[9]] { // 0A: LISTEN
				continue
			}
			_, hexPort, _ := strings.Cut(fl[1], ":")
			p, _ := strconv.ParseUint(hexPort, 16, 16)
			ports = append(ports, int(p))
		}
		f.Close()
	}
	return ports, nil
}

// A data directory made by rollcall before this change had pg_hba lines
// trusting TCP from 127.0.0.1; its next Start rewrites pg_hba.conf to the
// socket alone.
func TestStartRewritesAnOldHBA(t *testing.T) {
	needBinaries(t)
	t.Parallel()
	dataDir := filepath.Join(testDir(t), "pg")
	s := start(t, Options{DataDir: dataDir})
	if err := s.Stop(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	old := "# Written by rollcall: trust local connections only; the server listens on 127.0.0.1.\n" +
		"local all all trust\n" +
		"host  all all 127.0.0.1/32 trust\n"
	hbaPath := filepath.Join(dataDir, "pg_hba.conf")
	if err := os.WriteFile(hbaPath, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	s2 := start(t, Options{DataDir: dataDir})
	b, err := os.ReadFile(hbaPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 0 && !strings.HasPrefix(f[0], "#") && f[0] != "local" {
			t.Errorf("pg_hba.conf still has %q", line)
		}
	}
	if fi, _ := os.Stat(hbaPath); fi.Mode().Perm() != 0o600 {
		t.Errorf("pg_hba.conf mode %s, want 0600", fi.Mode().Perm())
	}
	// The server read the new file: its view of pg_hba has local lines only.
	conn := connect(t, s2)
	var nonLocal int
	if err := conn.QueryRow(ctxT(t), `SELECT count(*) FROM pg_hba_file_rules WHERE type <> 'local'`).Scan(&nonLocal); err != nil {
		t.Fatal(err)
	}
	if nonLocal != 0 {
		t.Errorf("the server has %d non-local pg_hba rules", nonLocal)
	}
}

// A data directory wider than 0700 (PostgreSQL itself accepts 0750) is
// closed at start: it holds the socket.
func TestStartClosesTheDataDir(t *testing.T) {
	needBinaries(t)
	t.Parallel()
	dataDir := filepath.Join(testDir(t), "pg")
	s := start(t, Options{DataDir: dataDir})
	if err := s.Stop(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dataDir, 0o750); err != nil {
		t.Fatal(err)
	}
	start(t, Options{DataDir: dataDir})
	if fi, _ := os.Stat(dataDir); fi.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode %s, want 0700", fi.Mode().Perm())
	}
}

// The fallback socket directory sits under a predictable name in /tmp: one
// that someone else made, or left open, is refused rather than used.
func TestFallbackSocketDirRefused(t *testing.T) {
	needBinaries(t)
	tests := []struct {
		name   string
		root   bool
		prep   func(t *testing.T, dir string, run runner)
		errHas string
	}{
		{"mode 0755", false, func(t *testing.T, dir string, run runner) {
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := run.chown(dir); err != nil { // the right owner, the wrong mode
				t.Fatal(err)
			}
		}, "not 0700"},
		{"a symlink", false, func(t *testing.T, dir string, _ runner) {
			if err := os.Symlink(t.TempDir(), dir); err != nil {
				t.Fatal(err)
			}
		}, "not a directory"},
		{"another owner", true, func(t *testing.T, dir string, _ runner) {
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			// root's, while the server runs as an unprivileged account.
		}, "belongs to uid 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.root && os.Geteuid() != 0 {
				t.Skip("skipping: only as root can a directory of another account be made")
			}
			dataDir := filepath.Join(testDir(t), strings.Repeat("x", 100), "pg")
			dir, fallback := socketDirFor(dataDir)
			if !fallback {
				t.Fatalf("no fallback for %s", dataDir)
			}
			run, err := newRunner(dataDir)
			if err != nil {
				t.Fatal(err)
			}
			tt.prep(t, dir, run)
			t.Cleanup(func() { os.Remove(dir) })
			_, err = Start(ctxT(t), Options{DataDir: dataDir, noFsync: true})
			if err == nil {
				t.Fatalf("Start used %s", dir)
			}
			for _, want := range []string{dir, tt.errHas, "--data-dir"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

// Inspect tells a stopped cluster from one in use, without starting it,
// and gives the URL Start gives.
func TestInspect(t *testing.T) {
	needBinaries(t)
	t.Parallel()
	dataDir := filepath.Join(testDir(t), "pg")
	info, err := Inspect(dataDir)
	if err != nil || info.Created || info.Running() || info.InUse() {
		t.Fatalf("before the first Start: %+v, %v", info, err)
	}
	s := start(t, Options{DataDir: dataDir})
	info, err = Inspect(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if !info.Created || !info.Running() || !info.InUse() || info.OwnerPID != os.Getpid() || info.PID != postmasterPID(t, s) {
		t.Errorf("running: %+v, want owner %d", info, os.Getpid())
	}
	if info.URL != s.URL() || info.SocketDir != s.SocketDir() {
		t.Errorf("Inspect URL %q socket %q; Start's %q %q", info.URL, info.SocketDir, s.URL(), s.SocketDir())
	}
	// Its rollcall died: running, but not in use (the next Start stops it).
	if err := os.WriteFile(filepath.Join(dataDir, ownerFile), fmt.Appendf(nil, "%d 1\n", os.Getpid()), 0o600); err != nil {
		t.Fatal(err)
	}
	if info, _ := Inspect(dataDir); !info.Running() || info.InUse() {
		t.Errorf("orphaned: %+v", info)
	}
	if err := s.Stop(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if info, _ := Inspect(dataDir); !info.Created || info.Running() || info.InUse() || info.URL != s.URL() {
		t.Errorf("stopped: %+v", info)
	}
}

// As root, an existing cluster keeps running as the account that owns it
// (the systemd unit's rollcall user), instead of being handed to postgres
// when root runs rollcall backup on it.
func TestRootKeepsTheClusterOwner(t *testing.T) {
	needBinaries(t)
	t.Parallel()
	other := otherAccount(t)
	dataDir := filepath.Join(testDir(t), "pg")
	s := start(t, Options{DataDir: dataDir})
	if err := s.Stop(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dataDir, dataDir + ".log"} {
		if out, err := exec.Command("chown", "-R", fmt.Sprintf("%d:%d", other.Uid, other.Gid), p).CombinedOutput(); err != nil {
			t.Fatalf("chown: %v: %s", err, out)
		}
	}
	s2 := start(t, Options{DataDir: dataDir})
	if s2.run.cred == nil || s2.run.cred.Uid != other.Uid {
		t.Fatalf("the server runs as %s, want uid %d", s2.run.name, other.Uid)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", postmasterPID(t, s2)))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	if !strings.Contains(string(status), fmt.Sprintf("\nUid:\t%d\t", other.Uid)) {
		t.Errorf("postmaster not running as uid %d:\n%s", other.Uid, status)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(dataDir, "PG_VERSION"), &st); err != nil || st.Uid != other.Uid {
		t.Errorf("PG_VERSION owner %d (%v), want %d", st.Uid, err, other.Uid)
	}
	if err := s2.Stop(ctxT(t)); err != nil {
		t.Fatal(err)
	}
}

func connect(t *testing.T, s *Server) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctxT(t), s.URL())
	if err != nil {
		t.Fatalf("connect %s: %v", s.URL(), err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}
