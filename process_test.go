package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The tests in this file run the real binary as a subprocess, as systemd
// or a terminal would, and signal it.

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if builtBin != "" {
		os.RemoveAll(filepath.Dir(builtBin))
	}
	os.Exit(code)
}

// rollcallBinary builds ./rollcall once per test process (TestMain removes it).
func rollcallBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping: builds and runs the binary")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "rollcall-bin-")
		if err != nil {
			buildErr = err
			return
		}
		// Readable by the private database's account when run as root.
		_ = os.Chmod(dir, 0o755)
		builtBin = filepath.Join(dir, "rollcall")
		if out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// proc is a running rollcall whose JSON log is read line by line.
type proc struct {
	cmd *exec.Cmd

	mu    sync.Mutex
	lines []string
	more  chan struct{} // closed and replaced when a line arrives
	done  chan struct{} // closed when the process has exited
	code  int
}

// startRollcall runs the binary with args; env replaces the variables it
// names (the tests' own DATABASE_URL, proxies and token never leak in).
func startRollcall(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(rollcallBinary(t), append(args, "--log-format", "json")...)
	cmd.Env = childEnvWith(env)
	cmd.Dir = t.TempDir()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, more: make(chan struct{}), done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			close(p.more)
			p.more = make(chan struct{})
			p.mu.Unlock()
		}
		err := cmd.Wait()
		p.mu.Lock()
		p.code = cmd.ProcessState.ExitCode()
		if err != nil && p.code == 0 {
			p.code = -1
		}
		p.mu.Unlock()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("rollcall's log:\n%s", p.log())
		}
	})
	return p
}

func childEnvWith(env []string) []string {
	drop := map[string]bool{"DISCORD_TOKEN": true, "DATABASE_URL": true, "HTTPS_PROXY": true, "https_proxy": true,
		"HTTP_PROXY": true, "http_proxy": true, "NO_PROXY": true, "no_proxy": true, "SSL_CERT_FILE": true,
		"ROLLCALL_CONFIG": true, "ROLLCALL_DATA_DIR": true}
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		drop[k] = true
	}
	var out []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !drop[k] {
			out = append(out, kv)
		}
	}
	return append(out, env...)
}

func (p *proc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// waitLog waits for a log line whose message contains msg and, if given,
// whose attributes have these values ("attempt", "2"); it returns the
// line's attributes. It fails t when the process exits first or after two
// minutes (the first start of a private database runs initdb).
func (p *proc) waitLog(t *testing.T, msg string, attrs ...string) map[string]any {
	t.Helper()
	deadline := time.After(2 * time.Minute)
	seen := 0
	for {
		p.mu.Lock()
		lines, more := p.lines[seen:], p.more
		p.mu.Unlock()
		for _, l := range lines {
			seen++
			var rec map[string]any
			if json.Unmarshal([]byte(l), &rec) != nil {
				continue
			}
			if m, _ := rec["msg"].(string); strings.Contains(m, msg) && hasAttrs(rec, attrs) {
				return rec
			}
		}
		select {
		case <-more:
		case <-p.done:
			if seen == p.count() {
				t.Fatalf("rollcall exited (status %d) before logging %q %v", p.exitCode(), msg, attrs)
			}
		case <-deadline:
			t.Fatalf("rollcall did not log %q %v within two minutes", msg, attrs)
		}
	}
}

func hasAttrs(rec map[string]any, attrs []string) bool {
	for i := 0; i+1 < len(attrs); i += 2 {
		if fmt.Sprint(rec[attrs[i]]) != attrs[i+1] {
			return false
		}
	}
	return true
}

func (p *proc) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.lines)
}

func (p *proc) exitCode() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.code
}

// promptly bounds how long a signalled rollcall may take to exit. Half of
// disgo's 20-second HTTP timeout, which is what a signal used to wait for
// while connecting; a stop that waits for nothing takes well under a
// second.
const promptly = 10 * time.Second

// signal sends sig and returns the exit status, failing t when the process
// is still running after promptly.
func (p *proc) signal(t *testing.T, sig syscall.Signal) int {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
		return p.exitCode()
	case <-time.After(promptly):
		t.Fatalf("rollcall still runs %v after %v", promptly, sig)
		return 0
	}
}

// silentListener accepts connections and never answers: a network path
// that swallows packets, as a proxy that never answers does. accepted
// receives once per connection.
func silentListener(t *testing.T) (addr string, accepted <-chan struct{}) {
	ch := make(chan struct{}, 100)
	return holdConnections(t, func(net.Conn) {
		select {
		case ch <- struct{}{}:
		default:
		}
	}), ch
}

// silentProxy is an HTTPS proxy that reads each CONNECT and never answers
// it: Discord unreachable through a proxy that swallows the request.
// connects receives once per CONNECT to host.
func silentProxy(t *testing.T, host string) (addr string, connects <-chan struct{}) {
	ch := make(chan struct{}, 100)
	return holdConnections(t, func(c net.Conn) {
		go func() {
			req, err := http.ReadRequest(bufio.NewReader(c))
			if err == nil && req.Method == http.MethodConnect && req.Host == host {
				ch <- struct{}{}
			}
		}()
	}), ch
}

// holdConnections listens on a local port, hands each connection to
// accepted and keeps it open, never answering, until the test ends.
func holdConnections(t *testing.T, accepted func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			accepted(c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

func waitAccepted(t *testing.T, ch <-chan struct{}, p *proc, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-p.done:
		t.Fatalf("rollcall exited (status %d) before %s", p.exitCode(), what)
	case <-time.After(2 * time.Minute):
		t.Fatalf("rollcall never %s", what)
	}
}

// ctxT is a context for the test's own queries.
func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}
