//go:build unix

package localpg

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// fallbackSocketRoot holds the socket directory of a data directory whose
// own path is too long for a socket. Not $TMPDIR: it may itself be long,
// and the path must be the same for every process that looks for it
// (rollcall db-url run from another shell, say).
const fallbackSocketRoot = "/tmp"

// socketDirFor is where the server on dataDir (absolute) puts its socket:
// the data directory itself, which PostgreSQL keeps at mode 0700, unless
// the socket's path would pass the kernel's limit or the path holds
// characters that pg_ctl's shell quoting or unix_socket_directories'
// list syntax would mangle; then /tmp/rollcall-pg-<hash of dataDir>. Both
// depend only on the path, so every start (and Inspect) finds the same.
func socketDirFor(dataDir string) (dir string, fallback bool) {
	// ".s.PGSQL.65535" and its ".lock" are the longest names created.
	if len(dataDir)+len("/.s.PGSQL.65535.lock") <= maxSocketPath && !strings.ContainsAny(dataDir, "\",' \t\n\\") {
		return dataDir, false
	}
	sum := sha256.Sum256([]byte(dataDir))
	return filepath.Join(fallbackSocketRoot, "rollcall-pg-"+hex.EncodeToString(sum[:8])), true
}

// prepareSocketDir makes sure the socket's directory exists, belongs to the
// server's account and is closed to everyone else. The fallback directory
// sits in world-writable /tmp under a predictable name, so one that exists
// already is used only if it is a real directory (not a link) of the
// server's account with mode 0700: anything else may have been made by
// another account to read or replace the socket, and is refused.
func (s *Server) prepareSocketDir() error {
	s.socketDir, s.fallback = socketDirFor(s.dataDir)
	if !s.fallback {
		// The data directory: chmod-ed 0700 and owned by the server's account already.
		return s.removeStaleSocketLock()
	}
	uid := uint32(os.Geteuid())
	if s.run.cred != nil {
		uid = s.run.cred.Uid
	}
	if err := os.Mkdir(s.socketDir, 0o700); err == nil {
		if err := s.run.chown(s.socketDir); err != nil {
			os.Remove(s.socketDir)
			return fmt.Errorf("private database: socket directory %s: %w", s.socketDir, err)
		}
	} else if !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("private database: socket directory %s: %w", s.socketDir, err)
	}
	if err := checkPrivateDir(s.socketDir, uid); err != nil {
		return fmt.Errorf("private database: the data directory's path is too long for a socket inside it, so the socket goes to %s, but %w: "+
			"remove it if nobody else uses it, or choose a shorter --data-dir (at most %d bytes)",
			s.socketDir, err, maxSocketPath-len("/.s.PGSQL.65535.lock"))
	}
	return s.removeStaleSocketLock()
}

// removeStaleSocketLock removes the socket and its lock file left by a
// server that was killed. PostgreSQL removes a stale lock itself, but only
// when kill(pid, 0) fails: a killed postmaster that nobody has reaped yet
// (a container whose init never reaps), or a pid reused by another program
// since, makes it refuse to start with "lock file ... already exists". The
// socket's name is the same at every start, so that would be every start.
func (s *Server) removeStaleSocketLock() error {
	lock := filepath.Join(s.socketDir, fmt.Sprintf(".s.PGSQL.%d.lock", s.port))
	b, err := os.ReadFile(lock)
	if err != nil {
		return nil // none (or unreadable: PostgreSQL will say why)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err == nil && pid > 0 && isPostgres(pid) {
		return nil // a live server: PostgreSQL refuses it with a clear message
	}
	s.log.Info("private database: removing a stale socket lock file", slog.String("path", lock), slog.Int("pid", pid))
	if err := os.Remove(lock); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("private database: remove stale socket lock: %w", err)
	}
	_ = os.Remove(strings.TrimSuffix(lock, ".lock"))
	return nil
}

// checkPrivateDir reports why dir is not a directory of uid closed to
// everyone else, nil when it is.
func checkPrivateDir(dir string, uid uint32) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("it is not a directory (%s)", fi.Mode().Type())
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return errors.New("its owner cannot be read")
	}
	if st.Uid != uid {
		return fmt.Errorf("it belongs to uid %d, not to the server's account (uid %d)", st.Uid, uid)
	}
	if fi.Mode().Perm()&0o077 != 0 || fi.Mode()&(os.ModeSetuid|os.ModeSetgid|os.ModeSticky) != 0 {
		return fmt.Errorf("its mode is %s, not 0700", fi.Mode())
	}
	return nil
}

// removeSocketDir removes the fallback directory once the server has
// removed its socket; the data directory itself stays, of course.
func (s *Server) removeSocketDir() {
	if s.fallback {
		_ = os.Remove(s.socketDir) // not RemoveAll: only when empty
	}
}

// socketURL is the URL of database on the server whose socket is in dir.
// Each path segment is escaped, so that a data directory named with '&',
// '+' or '%' stays one host parameter (pgx and libpq both decode it).
func socketURL(dir string, port int, db string) string {
	segs := strings.Split(dir, "/")
	for i, seg := range segs {
		segs[i] = url.QueryEscape(seg)
	}
	u := fmt.Sprintf("postgres://%s@/%s?host=%s", superuser, db, strings.Join(segs, "/"))
	if port != defaultPort {
		u += "&port=" + strconv.Itoa(port)
	}
	return u + "&sslmode=disable"
}

// Info describes a private database without starting it.
type Info struct {
	// DataDir is the cluster's directory, absolute.
	DataDir string
	// LogPath is the server's log.
	LogPath string
	// SocketDir and URL are where the server takes connections when it
	// runs: the same at every start.
	SocketDir string
	URL       string
	// Created: a cluster exists in DataDir.
	Created bool
	// PID is the running postmaster's, 0 when no server runs.
	PID int
	// OwnerPID is the live rollcall process that started the running
	// server, 0 when there is none (no server, or one left behind by a
	// rollcall that has exited, which the next Start stops).
	OwnerPID int

	orphan bool // the running server's rollcall has exited
}

// Running reports whether a server runs on the data directory.
func (i Info) Running() bool { return i.PID != 0 }

// InUse reports whether another process uses the server: a live rollcall
// started it, or it was started by something other than rollcall. Start
// would refuse the directory with ErrInUse.
func (i Info) InUse() bool { return i.OwnerPID != 0 || (i.PID != 0 && !i.orphan) }

// Inspect describes the private database in dataDir: where it takes
// connections and whether a server runs there now, reading only files
// (postmaster.pid, rollcall's owner file) and /proc.
func Inspect(dataDir string) (Info, error) {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return Info{}, fmt.Errorf("private database: %w", err)
	}
	info := Info{DataDir: abs, LogPath: abs + ".log", Created: readVersionFile(abs) != ""}
	info.SocketDir, _ = socketDirFor(abs)
	port := defaultPort
	s := &Server{dataDir: abs}
	if pid, ok := s.postmasterPID(); ok && isPostgres(pid) {
		info.PID = pid
		// A running server says where it listens: lines 4 and 5 of
		// postmaster.pid are its port and first socket directory.
		if lines := strings.Split(readFrom(filepath.Join(abs, "postmaster.pid"), 0), "\n"); len(lines) > 4 {
			if p, err := strconv.Atoi(strings.TrimSpace(lines[3])); err == nil && p > 0 {
				port = p
			}
			if d := strings.TrimSpace(lines[4]); d != "" {
				info.SocketDir = d
			}
		}
		if o, known := readOwner(abs); known && o.alive() {
			info.OwnerPID = o.pid
		} else if known {
			info.orphan = true
		}
	}
	info.URL = socketURL(info.SocketDir, port, database)
	return info, nil
}
