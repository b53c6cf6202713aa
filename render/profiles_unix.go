//go:build unix

package render

import (
	"io/fs"
	"os"
	"syscall"
)

// flock takes an exclusive lock on f, waiting for it.
func flock(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_EX) }

// tryFlock takes an exclusive lock on f if nobody holds one.
func tryFlock(f *os.File) bool {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil
}

// ownedByMe reports whether this user made the directory: another user's
// rollcall keeps its own.
func ownedByMe(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Geteuid()
}

// killPID kills a browser process that outlived the bot that started it.
func killPID(pid int) { _ = syscall.Kill(pid, syscall.SIGKILL) }
