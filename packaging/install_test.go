package packaging

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/disgoorg/disgo/discord"

	"rollcall/discordsim"
	"rollcall/discordsim/simtest"
	"rollcall/health/healthtest"
)

// The package on a fresh machine: dpkg -i of what make deb built, the
// operator's two edits (/etc/rollcall/config.toml and rollcall.env), then
// the unit's ExecStart run as the unit says (its user, working directory,
// state directory, umask and environment file), against the Discord
// simulator reached as discord.com through an HTTPS proxy the environment
// file names. rollcall must come up on its private database with charts,
// /readyz must answer 200, and a SIGTERM (what systemctl stop sends) must
// stop it with status 0 after stopping the database.
//
// The fresh machine is this one seen through an overlay in a mount and PID
// namespace of its own: dpkg, the new account and everything written land
// in a temporary directory, and every process started there dies with the
// namespace. systemd is not PID 1 here and cannot be started as one
// without changing the machine's cgroups and mounts, so the unit's
// supervision (Restart=, the stop timeout) is what systemd-analyze verify
// and TestServiceUnit check, not watched happening.
func TestDebInstallsAndRuns(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipping: installing the package in a throwaway copy of the machine needs root (mount namespaces, overlayfs, dpkg)")
	}
	need(t, "unshare", "chroot", "dpkg", "setpriv", "mount")
	deb := buildDeb(t)
	keys := unit(t, "rollcall.service")
	for _, k := range []string{"User", "Group", "WorkingDirectory", "StateDirectory", "StateDirectoryMode", "UMask", "EnvironmentFile", "ExecStart"} {
		if keys["Service."+k] == "" {
			t.Fatalf("the unit has no %s=, which this test applies as systemd would", k)
		}
	}
	envFile := strings.TrimPrefix(keys["Service.EnvironmentFile"], "-")
	stateDir := "/var/lib/" + keys["Service.StateDirectory"]

	// Discord: a guild, and the proxy that plays discord.com.
	sim := simtest.Start(t, discordsim.Options{})
	guild := sim.AddGuild("Клан")
	sim.AddChannel(guild, "БЗС", discord.ChannelTypeGuildVoice)
	reports := sim.AddChannel(guild, "отчёты", discord.ChannelTypeGuildText)
	work := t.TempDir()
	proxy := simtest.NewDiscordProxy(t, sim, "127.0.0.1:0", work)

	// The operator's edits: the server in config.toml, the token (and here
	// the proxy) in the environment file.
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(work, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("config.toml", fmt.Sprintf(`http_listen = "127.0.0.1:0"
[[guilds]]
id = "%d"
timezone = "Europe/Moscow"
report_channels = ["%d"]
  [[guilds.schedules]]
  name = "БЗС"
  times = ["03:00"]
  voice_channel_names = ["БЗС"]
`, guild, reports))
	write("rollcall.env", fmt.Sprintf("DISCORD_TOKEN=%s\nHTTPS_PROXY=%s\nSSL_CERT_FILE=/etc/rollcall/discord-proxy-ca.pem\n", sim.Token(), proxy.URL))
	user, group := keys["Service.User"], keys["Service.Group"]
	script := fmt.Sprintf(`set -eu
W=%[1]s
M=$W/root
mkdir -p $W/upper $W/work $M
mount --make-rprivate /
mount -t overlay overlay -o lowerdir=/,upperdir=$W/upper,workdir=$W/work $M
mount -t proc proc $M/proc
mount --rbind /dev $M/dev
mount -t tmpfs -o mode=1777 tmpfs $M/dev/shm
mount --rbind /sys $M/sys
mount -o remount,bind,ro $M/sys
mount -t tmpfs -o mode=755 tmpfs $M/run
mount -t tmpfs -o mode=1777 tmpfs $M/tmp
mkdir $M/run/test
mount --bind $W $M/run/test
cp %[2]s $M/tmp/rollcall.deb
cp %[5]s $M/tmp/discord-proxy-ca.pem
# The copy becomes the root (pivot_root, not chroot: Chromium's sandbox
# needs a user namespace, which the kernel refuses to a chrooted process).
cd $M
mkdir -p .old-root
pivot_root . .old-root
exec chroot . /bin/sh -eu -c '
umount -l /.old-root
rmdir /.old-root
T=/run/test
dpkg -i /tmp/rollcall.deb >$T/dpkg.log 2>&1 || { cat $T/dpkg.log >&2; exit 97; }
{ id %[3]s; stat -c "%%U:%%G %%a" /etc/rollcall/config.toml %[4]s; } >$T/facts.txt

# The operator: sudoedit keeps each file s owner and mode.
cat $T/config.toml >/etc/rollcall/config.toml
cat $T/rollcall.env >%[4]s
install -m 0644 /tmp/discord-proxy-ca.pem /etc/rollcall/discord-proxy-ca.pem

# systemd: StateDirectory, EnvironmentFile (read as root), User and Group,
# UMask, WorkingDirectory, ExecStart.
install -d -o %[3]s -g %[6]s -m %[7]s %[8]s
set -a
. %[4]s
set +a
export HOME=%[8]s USER=%[3]s LOGNAME=%[3]s SHELL=/usr/sbin/nologin PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
setpriv --reuid=%[3]s --regid=%[6]s --init-groups -- /bin/sh -c "umask %[9]s && cd %[10]s && exec %[11]s" &
child=$!
trap "kill -TERM $child" TERM INT
while :; do
  st=0
  wait $child || st=$?
  kill -0 $child 2>/dev/null || exit $st
done
'
`, work, deb, user, envFile, proxy.CAFile, group, keys["Service.StateDirectoryMode"], stateDir, keys["Service.UMask"], keys["Service.WorkingDirectory"], keys["Service.ExecStart"])
	write("machine.sh", script)

	cmd := exec.Command("unshare", "--mount", "--pid", "--fork", "--uts", "--ipc", "sh", filepath.Join(work, "machine.sh"))
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	log := &lineLog{more: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		log.read(stderr)
		_ = cmd.Wait()
	}()
	t.Cleanup(func() {
		// The namespace's init: killing it ends every process started there.
		if pid := namespaceInit(cmd.Process.Pid); pid > 0 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		<-done
		if t.Failed() {
			t.Logf("the machine's output:\n%s", log.text())
			if b, err := os.ReadFile(filepath.Join(work, "upper", stateDir[1:]+"/postgres.log")); err == nil {
				t.Logf("postgres.log:\n%s", b)
			}
		}
	})

	addr := log.wait(t, done, `msg="serving /healthz, /readyz and /metrics"`, regexp.MustCompile(`addr=(\S+)`))
	log.wait(t, done, `msg="rollcall is running"`, nil)
	facts, _ := os.ReadFile(filepath.Join(work, "facts.txt"))
	for _, want := range []string{"uid=", "(" + user + ")", "root:" + group + " 640", "root:root 600"} {
		if !strings.Contains(string(facts), want) {
			t.Errorf("after dpkg -i: %q lacks %q (the account, config.toml for its group, the environment file for root)", facts, want)
		}
	}
	if !strings.Contains(log.text(), "private database started") || !strings.Contains(log.text(), stateDir+"/postgres") {
		t.Errorf("rollcall did not run its private database under %s", stateDir)
	}

	base := "http://" + addr
	code, rep := healthtest.Ready(t, base)
	if code != http.StatusOK {
		t.Fatalf("/readyz = %d %+v", code, rep)
	}
	m := healthtest.Scrape(t, base)
	if v := m.Value(t, "rollcall_private_database_up"); v != 1 {
		t.Errorf("rollcall_private_database_up = %v", v)
	}
	if v := m.Value(t, "rollcall_charts_enabled"); v != 1 {
		t.Errorf("rollcall_charts_enabled = %v: the packaged rollcall could not start Chromium as %s", v, user)
	}
	if v := buildLabel(m, "version"); v != debVersion {
		t.Errorf("rollcall_build_info says version %q, want %s", v, debVersion)
	}

	// systemctl stop: SIGTERM to rollcall (the forwarding init here).
	if err := syscall.Kill(namespaceInit(cmd.Process.Pid), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(90 * time.Second): // the unit's TimeoutStopSec
		t.Fatal("rollcall did not stop within TimeoutStopSec after SIGTERM")
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit status %d after SIGTERM, want 0", code)
	}
	for _, want := range []string{`msg="private database stopped"`, `msg=stopped`} {
		if !strings.Contains(log.text(), want) {
			t.Errorf("the log lacks %s", want)
		}
	}
}

// namespaceInit is the PID (in this namespace) of unshare's child, the
// init of the new PID namespace; 0 when it is gone.
func namespaceInit(unshare int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", unshare, unshare))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	pid, _ := strconv.Atoi(f[0])
	return pid
}

func buildLabel(m healthtest.Metrics, name string) string {
	fam, ok := m["rollcall_build_info"]
	if !ok || len(fam.GetMetric()) == 0 {
		return ""
	}
	for _, l := range fam.GetMetric()[0].GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// lineLog collects a process's output lines.
type lineLog struct {
	mu    sync.Mutex
	lines []string
	more  chan struct{}
}

func (l *lineLog) read(r interface{ Read([]byte) (int, error) }) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l.mu.Lock()
		l.lines = append(l.lines, sc.Text())
		close(l.more)
		l.more = make(chan struct{})
		l.mu.Unlock()
	}
}

func (l *lineLog) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// wait waits for a line containing s and returns re's first group in it
// ("" without re); it fails t if the process ends first, or after three
// minutes (initdb with fsync, Chromium's first start).
func (l *lineLog) wait(t *testing.T, done <-chan struct{}, s string, re *regexp.Regexp) string {
	t.Helper()
	deadline := time.After(3 * time.Minute)
	seen := 0
	for {
		l.mu.Lock()
		lines, more := l.lines[seen:], l.more
		l.mu.Unlock()
		for _, line := range lines {
			seen++
			if !strings.Contains(line, s) {
				continue
			}
			if re == nil {
				return ""
			}
			if m := re.FindStringSubmatch(line); m != nil {
				return m[1]
			}
		}
		select {
		case <-more:
		case <-done:
			l.mu.Lock()
			all := len(l.lines)
			l.mu.Unlock()
			if seen == all {
				t.Fatalf("the machine stopped before logging %s", s)
			}
		case <-deadline:
			t.Fatalf("nothing logged %s within three minutes", s)
		}
	}
}
