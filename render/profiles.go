package render

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Browser profiles and the lock that tells a live one from a stale one.
//
// Each browser gets one directory, os.TempDir()/rollcall-chromium-*, holding
// its user-data-dir (profile/, passed with chromedp.UserDataDir so chromedp
// makes no chromedp-runner* directory of its own), XDG_CONFIG_HOME,
// XDG_CACHE_HOME and TMPDIR, and a lock file. A browser that stops removes
// its directory; a bot that is killed (SIGKILL, the OOM killer, a power cut)
// cannot, and left about 3.5 MB behind per kill, forever.
//
// So New removes the directories earlier runs left: only ones named with
// rollcall's prefix, owned by this user, and only when no process holds the
// lock inside. The lock is an flock(2) on dir/lock, taken by the process
// that made the directory and held until its browser stops: the kernel
// releases it when that process dies, however it dies, and two rollcall
// processes on one machine (or two renderers in one process: flock locks
// belong to the open file, not the process) each see the other's lock.
// The lock file is locked before it gets its name, so a directory is never
// seen with an unlocked lock file while its maker is alive.

// profilePrefix names the directories rollcall makes; nothing else is
// ever removed.
const profilePrefix = "rollcall-chromium-"

// lockName is the lock file inside a profile directory.
const lockName = "lock"

// unlockedGrace is how old a directory without a lock file must be to count
// as stale: one is briefly without it while it is being made, and rollcall
// versions before the lock made none.
const unlockedGrace = 10 * time.Minute

// lockProfile creates root/lock, locked by this process, and returns it;
// the lock lasts until the file is closed.
func lockProfile(root string) (*os.File, error) {
	tmp := filepath.Join(root, ".lock-new")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	if err := flock(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	// For people looking at the directory; the lock is what counts.
	_, _ = f.WriteString(strconv.Itoa(os.Getpid()) + "\n")
	if err := os.Rename(tmp, filepath.Join(root, lockName)); err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}

// removeStaleProfiles removes the profile directories under dir whose
// maker is gone, killing any browser process of theirs that outlived it,
// and returns how many it removed and their size.
func removeStaleProfiles(dir string, log *slog.Logger) (removed int, bytes int64) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, 0
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), profilePrefix) || !e.IsDir() {
			continue // e.IsDir is false for a symlink: never followed
		}
		root := filepath.Join(dir, e.Name())
		fi, err := os.Lstat(root)
		if err != nil || !fi.IsDir() || !ownedByMe(fi) {
			continue
		}
		lock, stale := claimStale(root, fi)
		if !stale {
			continue
		}
		for _, pid := range processesUsing(root) {
			killPID(pid)
		}
		size := dirSize(root)
		err = os.RemoveAll(root)
		if lock != nil {
			_ = lock.Close()
		}
		if err != nil {
			log.Warn("could not remove a stale browser profile", slog.String("dir", root), slog.Any("error", err))
			continue
		}
		removed++
		bytes += size
	}
	return removed, bytes
}

// claimStale decides whether root was left by a process that is gone. With
// a lock file, it is stale when this process can take the lock (and then
// holds it, returned, while the directory is removed). Without one (being
// made right now, or made by a rollcall before the lock) it is stale when
// it is older than unlockedGrace and no process refers to it.
func claimStale(root string, fi fs.FileInfo) (*os.File, bool) {
	f, err := os.Open(filepath.Join(root, lockName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, time.Since(fi.ModTime()) > unlockedGrace && len(processesUsing(root)) == 0 && canTellProcesses()
	}
	if err != nil {
		return nil, false
	}
	if !tryFlock(f) {
		_ = f.Close()
		return nil, false // its maker is alive
	}
	return f, true
}

// processesUsing lists the processes (of this user: others' cannot be read)
// whose command line or environment names root: the browser and its
// helpers, which get the profile in --user-data-dir and the temp dirs in
// their environment. Linux only; elsewhere none are found.
func processesUsing(root string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	needle := []byte(root + string(filepath.Separator))
	var pids []int
	self := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		for _, f := range []string{"cmdline", "environ"} {
			b, err := os.ReadFile(filepath.Join("/proc", e.Name(), f))
			if err == nil && bytes.Contains(b, needle) {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

// canTellProcesses reports whether processesUsing can see processes at all.
func canTellProcesses() bool {
	_, err := os.Stat("/proc/self/environ")
	return err == nil
}

func dirSize(root string) int64 {
	var n int64
	_ = filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// removeStaleProfilesLogged is removeStaleProfiles at renderer start.
func removeStaleProfilesLogged(log *slog.Logger) {
	if n, size := removeStaleProfiles(os.TempDir(), log); n > 0 {
		log.Info("removed browser profiles left by earlier runs", slog.Int("dirs", n),
			slog.String("size", fmt.Sprintf("%.1f MB", float64(size)/(1<<20))), slog.String("under", os.TempDir()))
	}
}
