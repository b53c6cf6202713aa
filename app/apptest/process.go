package apptest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"rollcall/discordsim"
)

// Real rollcall processes, for the tests where a process dies: the binary
// built from this module, run against the simulator and a test database,
// killed or stopped by a signal like any other process.

var (
	binaryOnce sync.Once
	binaryDir  string
	binaryPath string
	binaryErr  error
)

// Binary builds the rollcall binary from this module once per test process
// and returns its path. CloseRenderer removes it.
func Binary(t testing.TB) string {
	t.Helper()
	binaryOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		binaryDir, binaryErr = os.MkdirTemp("", "rollcall-bin-")
		if binaryErr != nil {
			return
		}
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		binaryPath = filepath.Join(binaryDir, "rollcall")
		cmd := exec.Command(goTool, "build", "-o", binaryPath, ".")
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			binaryErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binaryErr != nil {
		t.Fatalf("build rollcall: %v", binaryErr)
	}
	return binaryPath
}

func removeBinary() {
	if binaryDir != "" {
		_ = os.RemoveAll(binaryDir)
	}
}

// Process is one run of the rollcall binary.
type Process struct {
	t    testing.TB
	cmd  *exec.Cmd
	done chan struct{} // closed when it exited
	err  error         // its exit, once done

	mu      sync.Mutex
	lines   []string // its log, one JSON object a line
	changed chan struct{}
}

// ProcessConfig is a config for w for a real process: the simulator's API,
// every log line (debug: the token checks cover disgo's request logging),
// one schedule, and no weekly report (a run on a Monday morning would
// otherwise catch one up).
func (w *World) ProcessConfig(times, duration string) string {
	return fmt.Sprintf(`
discord_api_url = %q
log_level = "debug"
poll_interval = "5s"
[[guilds]]
id = "%d"
timezone = "Europe/Moscow"
report_channels = ["%d", "%d"]
  [guilds.weekly_report]
  enabled = false
  [[guilds.schedules]]
  name = "БЗС"
  times = [%s]
  duration = %q
  voice_channel_names = ["БЗС"]
`, w.Sim.APIURL(), w.Guild, w.Reports, w.Reports2, times, duration)
}

// StartProcess runs `rollcall run` with cfgText, the simulator's token and
// dbURL (and any further flags in args), logging JSON to a buffer the test
// reads. The process is killed if
// still running when t ends, and its log must hold neither the bot token
// nor an interaction token of sim.
func StartProcess(t testing.TB, sim *discordsim.Server, cfgText, dbURL string, args ...string) *Process {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(Binary(t), append([]string{"run", "--config", cfg, "--log-format", "json", "--data-dir", filepath.Join(dir, "data")}, args...)...)
	cmd.Env = append(os.Environ(), "DISCORD_TOKEN="+sim.Token(), "DATABASE_URL="+dbURL)
	cmd.Dir = dir
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &Process{t: t, cmd: cmd, done: make(chan struct{}), changed: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			close(p.changed)
			p.changed = make(chan struct{})
			p.mu.Unlock()
		}
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.Kill()
		}
		secrets := map[string]string{sim.Token(): "the bot token"}
		for _, tok := range sim.InteractionTokens() {
			secrets[tok] = "an interaction token"
		}
		for _, line := range p.Lines() {
			for s, what := range secrets {
				if strings.Contains(line, s) {
					t.Errorf("%s appears in the process's log: %s", what, clip(strings.ReplaceAll(line, s, "<"+what+">")))
				}
			}
		}
		if t.Failed() {
			lines := p.Lines()
			var tail []string
			for _, l := range lines[max(0, len(lines)-200):] {
				if !strings.Contains(l, `"level":"DEBUG"`) {
					tail = append(tail, clip(l))
				}
			}
			// The whole log, debug lines too, outlives the test's directory.
			where := "not kept: "
			if f, err := os.CreateTemp("", fmt.Sprintf("rollcall-%s-%d-*.log", strings.ReplaceAll(t.Name(), "/", "_"), cmd.Process.Pid)); err != nil {
				where += err.Error()
			} else {
				_, err := f.WriteString(strings.Join(lines, "\n") + "\n")
				if err = errors.Join(err, f.Close()); err != nil {
					where += err.Error()
				} else {
					where = f.Name()
				}
			}
			t.Logf("process %d log (tail, without debug lines; the whole log is in %s):\n%s", cmd.Process.Pid, where, strings.Join(tail, "\n"))
		}
	})
	return p
}

func clip(s string) string {
	if len(s) > 600 {
		return s[:600] + "…"
	}
	return s
}

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Lines is the log so far, one JSON object a line.
func (p *Process) Lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines...)
}

// LogLine is one decoded line of the log.
type LogLine struct {
	Time  time.Time `json:"time"`
	Level string    `json:"level"`
	Msg   string    `json:"msg"`
	Raw   string    `json:"-"`
}

// WaitLog waits until the log has a line whose message is msg and returns
// it; it fails t if the process exits or ctx ends first.
func (p *Process) WaitLog(ctx context.Context, msg string) LogLine {
	p.t.Helper()
	for seen := 0; ; {
		p.mu.Lock()
		lines, changed := p.lines[seen:], p.changed
		seen = len(p.lines)
		p.mu.Unlock()
		for _, l := range lines {
			var ll LogLine
			if json.Unmarshal([]byte(l), &ll) == nil && ll.Msg == msg {
				ll.Raw = l
				return ll
			}
		}
		select {
		case <-changed:
		case <-p.done:
			p.t.Fatalf("rollcall exited (%v) before logging %q", p.err, msg)
		case <-ctx.Done():
			p.t.Fatalf("rollcall did not log %q: %v", msg, ctx.Err())
		}
	}
}

// Kill sends SIGKILL and waits for the process to be gone: no shutdown,
// no flush, no cleanup, as after a power cut or the OOM killer.
func (p *Process) Kill() {
	p.t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Term sends SIGTERM, as systemd's stop does, and returns the exit code
// once it exits (failing t after a minute).
func (p *Process) Term() int {
	p.t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(time.Minute):
		p.t.Fatal("rollcall did not exit within a minute of SIGTERM")
	}
	return p.cmd.ProcessState.ExitCode()
}

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }
