//go:build unix

package localpg

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// runner runs the PostgreSQL binaries as the account the server runs as:
// ourselves, or, when we are root (initdb, pg_ctl and postgres all refuse
// root), an unprivileged account set as the child's credentials. The
// credentials need no runuser or sudo, and work whatever the account's
// login shell is.
type runner struct {
	name string              // the account, for messages
	cred *syscall.Credential // nil: run as ourselves
}

// newRunner picks the account for the cluster in dataDir. As root, an existing cluster runs as the account that owns it: a cluster
// that a service made as its own user (rollcall's systemd unit runs as
// rollcall) must stay that user's, or the service could no longer start it
// after root ran `rollcall backup` on it once. Only a new cluster, or one
// owned by root, goes to serverAccount.
func newRunner(dataDir string) (runner, error) {
	if os.Geteuid() != 0 {
		name := strconv.Itoa(os.Geteuid())
		if u, err := user.Current(); err == nil {
			name = u.Username
		}
		return runner{name: name}, nil
	}
	if fi, err := os.Stat(filepath.Join(dataDir, "PG_VERSION")); err == nil {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != 0 {
			if u, err := user.LookupId(strconv.Itoa(int(st.Uid))); err == nil {
				return runnerFor(u)
			}
			// An owner without a passwd entry (a uid from another
			// system or a container) still works as bare ids.
			return runner{name: "uid " + strconv.Itoa(int(st.Uid)), cred: &syscall.Credential{Uid: st.Uid, Gid: st.Gid, Groups: []uint32{}}}, nil
		}
	}
	u, err := serverAccount()
	if err != nil {
		return runner{}, err
	}
	return runnerFor(u)
}

func runnerFor(u *user.User) (runner, error) {
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	if uid == 0 {
		return runner{}, fmt.Errorf("private database: account %s has uid 0; PostgreSQL refuses to run as root", u.Username)
	}
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
	if ids, err := u.GroupIds(); err == nil {
		for _, id := range ids {
			if g, err := strconv.ParseUint(id, 10, 32); err == nil {
				cred.Groups = append(cred.Groups, uint32(g))
			}
		}
	}
	return runner{name: u.Username, cred: cred}, nil
}

// accountMu keeps two Starts in one process from both running useradd.
var accountMu sync.Mutex

// serverAccount finds Debian's postgres account (the postgresql package
// creates it), else rollcall's own, creating the latter when missing.
func serverAccount() (*user.User, error) {
	accountMu.Lock()
	defer accountMu.Unlock()
	for _, name := range []string{"postgres", fallbackAccount} {
		if u, err := user.Lookup(name); err == nil {
			return u, nil
		}
	}
	useradd, err := exec.LookPath("useradd")
	if err != nil {
		useradd = "/usr/sbin/useradd"
	}
	out, err := exec.Command(useradd, "--system", "--no-create-home", "--user-group",
		"--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", fallbackAccount).CombinedOutput()
	if err != nil {
		if u, err := user.Lookup(fallbackAccount); err == nil {
			return u, nil // another process created it first
		}
		return nil, fmt.Errorf("private database: rollcall runs as root, PostgreSQL refuses to, and there is no postgres account; "+
			"creating the system account %s failed (%v: %s): create an unprivileged account named postgres or %s, or run rollcall as a normal user",
			fallbackAccount, err, strings.TrimSpace(string(out)), fallbackAccount)
	}
	return user.Lookup(fallbackAccount)
}

// output runs a PostgreSQL binary as the server's account and returns its
// combined output.
func (r runner) output(ctx context.Context, path string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, path, args...)
	// PostgreSQL's tools fail with "could not identify current directory"
	// when the account cannot enter ours (/root, say); every path passed
	// is absolute.
	cmd.Dir = "/"
	cmd.Env = childEnv()
	// initdb's children (postgres in bootstrap mode) go on writing into
	// the data directory when only initdb is killed: on cancel, kill the
	// whole process group. (pg_ctl puts the server it starts in a session
	// of its own, which this does not reach.)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: r.cred, Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// pg_ctl start returns once the server is up; the server's output goes
	// to the log, but never wait long for pipes a child might hold.
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// childEnv drops the PG* variables, which would redirect initdb and pg_ctl
// (PGDATA, PGPORT, ...), and the locale, so that the server's messages are
// in English and the cluster's locale is only what initdb is told.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "PG") || strings.HasPrefix(k, "LC_") || k == "LANG" || k == "LANGUAGE" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C")
}

func (r runner) chown(path string) error {
	if r.cred == nil {
		return nil
	}
	return os.Lchown(path, int(r.cred.Uid), int(r.cred.Gid))
}

// chownTree gives dir and everything in it to the server's account, unless
// dir already belongs to it (then the tree is taken to be the server's own
// and not walked, which matters for a large cluster).
func (r runner) chownTree(dir string) error {
	if r.cred == nil {
		return nil
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid == r.cred.Uid {
		return nil
	}
	return filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return r.chown(path)
	})
}

// checkTraversable makes sure the server's account can reach dataDir:
// every directory above it must be searchable (x) by that account. The
// usual failure is a data directory under /root.
func (r runner) checkTraversable(dataDir string) error {
	if r.cred == nil {
		return nil
	}
	real, err := filepath.EvalSymlinks(dataDir)
	if err != nil {
		return fmt.Errorf("private database: %w", err)
	}
	var dirs []string
	for d := filepath.Dir(real); ; d = filepath.Dir(d) {
		dirs = append(dirs, d)
		if d == "/" || d == "." {
			break
		}
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		d := dirs[i]
		fi, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("private database: %w", err)
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok || r.canSearch(st) {
			continue
		}
		owner := strconv.Itoa(int(st.Uid))
		if u, err := user.LookupId(owner); err == nil {
			owner = u.Username
		}
		return fmt.Errorf("private database: PostgreSQL refuses to run as root, so it runs as account %s, which cannot enter %s (%s, owner %s) above the data directory %s: "+
			"choose a data directory elsewhere (e.g. --data-dir /var/lib/rollcall) or let other accounts through with `chmod o+x %s`",
			r.name, d, fi.Mode().Perm(), owner, dataDir, d)
	}
	return nil
}

// canSearch applies the permission bits as the kernel does (ACLs aside).
func (r runner) canSearch(st *syscall.Stat_t) bool {
	mode := st.Mode
	switch {
	case st.Uid == r.cred.Uid:
		return mode&0o100 != 0
	case st.Gid == r.cred.Gid || contains(r.cred.Groups, st.Gid):
		return mode&0o010 != 0
	default:
		return mode&0o001 != 0
	}
}

func contains(ids []uint32, id uint32) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}
