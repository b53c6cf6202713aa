package render

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// helperEnv makes the test binary, run again, act as a bot that starts a
// renderer and waits to be killed (TestRendererHelperProcess).
const helperEnv = "ROLLCALL_RENDER_HELPER"

// TestRendererHelperProcess is not a test: run by startHelper in a child
// process, it starts a renderer, draws a chart, prints its profile
// directory and waits until it is killed.
func TestRendererHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("helper process for TestStaleProfilesRemovedAtStart")
	}
	r, err := New(context.Background(), Options{Logger: testLogger(t)})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	if _, err := r.Bars(context.Background(), sampleBars(3)); err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Println("ready", r.b.dirs.root)
	time.Sleep(2 * time.Minute) // killed long before
	os.Exit(2)
}

// startHelper starts a child bot process with its renderer under tmp and
// returns it with its profile directory once its first chart is drawn.
func startHelper(t *testing.T, tmp string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestRendererHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"=1", "TMPDIR="+tmp)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			if strings.HasPrefix(s.Text(), "ready ") || strings.HasPrefix(s.Text(), "error ") {
				line <- s.Text()
				return
			}
		}
		line <- "exited"
	}()
	select {
	case l := <-line:
		dir, ok := strings.CutPrefix(l, "ready ")
		if !ok {
			t.Fatalf("helper: %s", l)
		}
		return cmd, dir
	case <-time.After(60 * time.Second):
		t.Fatal("helper did not start a renderer within 60 s")
	}
	return nil, ""
}

func profileDirs(t *testing.T, tmp string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(tmp, profilePrefix+"*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A bot killed with SIGKILL leaves its browser profile behind; the next
// renderer start removes it, and leaves alone the profile of a bot that is
// still running (issue 13, item 7).
func TestStaleProfilesRemovedAtStart(t *testing.T) {
	requireChromium(t)
	// Not t.TempDir(): Chromium puts its singleton socket under TMPDIR (ours, inside the
	// profile directory), and a Unix socket path must fit in 108 bytes.
	tmp, err := os.MkdirTemp("", "rc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Runs after the helpers are killed (cleanups run last first): their browsers' helper
		// processes may still be writing, which removeStaleProfiles stops.
		removeStaleProfiles(tmp, testLogger(t))
		for i := 0; i < 10 && os.RemoveAll(tmp) != nil; i++ {
			time.Sleep(50 * time.Millisecond)
		}
	})
	t.Setenv("TMPDIR", tmp) // this process's renderer looks here too

	// One bot keeps running; another is killed.
	_, liveDir := startHelper(t, tmp)
	killed, staleDir := startHelper(t, tmp)
	if err := killed.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = killed.Wait()
	if size := dirSize(staleDir); size < 100<<10 {
		t.Fatalf("the killed bot left %d bytes in %s: expected its browser profile", size, staleDir)
	}
	if m, _ := filepath.Glob(filepath.Join(tmp, "chromedp-runner*")); len(m) > 0 {
		t.Errorf("chromedp made a profile of its own outside rollcall's directory: %v", m)
	}
	if got := profileDirs(t, tmp); len(got) != 2 {
		t.Fatalf("profiles before the restart: %v, want the stale and the live one", got)
	}

	r, err := New(context.Background(), Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := os.Stat(staleDir); !os.IsNotExist(err) {
		t.Errorf("the killed bot's profile %s is still there (err %v)", staleDir, err)
	}
	if pids := processesUsing(staleDir); len(pids) > 0 {
		t.Errorf("browser processes of the killed bot still run: %v", pids)
	}
	if _, err := os.Stat(filepath.Join(liveDir, "profile")); err != nil {
		t.Errorf("the running bot's profile was removed: %v", err)
	}
	if _, err := r.Bars(context.Background(), sampleBars(3)); err != nil {
		t.Fatal(err)
	}
	if got := profileDirs(t, tmp); len(got) != 2 {
		t.Errorf("profiles after the restart: %v, want the running bot's and this one", got)
	}
}

// A directory without a lock file is only removed once it is old and no
// process refers to it (it may be being made; older versions made none);
// a directory not named by rollcall is never touched.
func TestUnlockedProfiles(t *testing.T) {
	tmp := t.TempDir()
	fresh := filepath.Join(tmp, profilePrefix+"fresh")
	old := filepath.Join(tmp, profilePrefix+"old")
	other := filepath.Join(tmp, "chromedp-runner123")
	for _, d := range []string{fresh, old, other} {
		if err := os.MkdirAll(filepath.Join(d, "tmp"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	long := time.Now().Add(-2 * unlockedGrace)
	for _, d := range []string{old, other} {
		if err := os.Chtimes(d, long, long); err != nil {
			t.Fatal(err)
		}
	}
	n, _ := removeStaleProfiles(tmp, testLogger(t))
	if _, err := os.Stat(old); canTellProcesses() && (n != 1 || !os.IsNotExist(err)) {
		t.Errorf("removed %d; the old unlocked profile: %v", n, err)
	}
	for _, d := range []string{fresh, other} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s was removed", d)
		}
	}
}
