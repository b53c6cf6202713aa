//go:build unix

package localpg

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// isPostgres reports whether pid is a live PostgreSQL process. On Linux
// it reads /proc, so that a PID reused by another program after a crash,
// or a zombie postmaster nobody has reaped yet (a container's init may
// never reap), counts as gone; elsewhere any live process counts.
func isPostgres(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return !procMounted()
	}
	// "pid (comm) state ...": comm may hold spaces and parentheses.
	s := string(stat)
	open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || close < open || len(s) < close+3 {
		return true
	}
	comm, state := s[open+1:close], s[close+2]
	if state == 'Z' || state == 'X' {
		return false
	}
	return comm == "postgres" || comm == "postmaster"
}

func procMounted() bool {
	_, err := os.Stat("/proc/self/stat")
	return err == nil
}

// owner is the rollcall process that started a server: its pid and, on
// Linux, its start time, which tells it apart from a later process that
// reuses the pid.
type owner struct {
	pid   int
	start string
}

func (o owner) alive() bool {
	if err := syscall.Kill(o.pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	return o.start == "" || o.start == processStart(o.pid)
}

// processStart is field 22 of /proc/PID/stat (start time in clock ticks
// since boot), "" where unknown.
func processStart(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state)
	if len(f) < 20 {
		return ""
	}
	return f[19]
}

func (s *Server) writeOwner() error {
	path := filepath.Join(s.dataDir, ownerFile)
	pid := os.Getpid()
	if err := os.WriteFile(path, []byte(fmt.Sprintf("%d %s\n", pid, processStart(pid))), 0o600); err != nil {
		return err
	}
	return s.run.chown(path)
}

func readOwner(dataDir string) (owner, bool) {
	b, err := os.ReadFile(filepath.Join(dataDir, ownerFile))
	if err != nil {
		return owner{}, false
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return owner{}, false
	}
	pid, err := strconv.Atoi(f[0])
	if err != nil || pid <= 0 {
		return owner{}, false
	}
	o := owner{pid: pid}
	if len(f) > 1 {
		o.start = f[1]
	}
	return o, true
}
