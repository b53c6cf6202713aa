package packaging

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// need skips the test when a program is missing, except under CI=true,
// where it fails: CI must never pass by testing nothing.
func need(t *testing.T, programs ...string) {
	t.Helper()
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is missing: %v", p, err)
			}
			t.Skipf("skipping: %s is missing (%v)", p, err)
		}
	}
}

// unit reads a unit file's [Service] keys (the last value of each wins,
// as systemd reads them, except where a test looks at every line).
func unit(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	keys := map[string]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' {
			section = strings.Trim(line, "[]")
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		keys[section+"."+k] = v
	}
	return keys
}

// verify runs systemd-analyze verify on the unit inside root, a tree with
// the unit, the binary at /usr/bin/rollcall and the system's own units
// (the targets the unit names), and fails on any complaint: an unknown or
// misspelt key is only a warning to systemd, with exit status 0.
func verify(t *testing.T, root string) {
	t.Helper()
	units := filepath.Join(root, "usr/lib/systemd/system")
	if err := os.MkdirAll(units, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"/usr/lib/systemd/system", "/lib/systemd/system"} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".target") || strings.HasSuffix(e.Name(), ".slice") {
				if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil {
					_ = os.WriteFile(filepath.Join(units, e.Name()), b, 0o644)
				}
			}
		}
		break
	}
	cmd := exec.Command("systemd-analyze", "verify", "--root="+root, "--man=no", "--generators=no", "rollcall.service")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

func goBuild(t *testing.T, out string, args ...string) {
	t.Helper()
	cmd := exec.Command("go", append([]string{"build", "-o", out}, append(args, ".")...)...)
	cmd.Dir = ".."
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
}

// The unit passes systemd-analyze verify, runs rollcall as its own user
// with an absolute data directory, stops it the way rollcall expects, and
// its command line is one rollcall accepts.
func TestServiceUnit(t *testing.T) {
	need(t, "systemd-analyze", "go")
	root := t.TempDir()
	bin := filepath.Join(root, "usr/bin/rollcall")
	goBuild(t, bin)
	unitText, err := os.ReadFile("rollcall.service")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "usr/lib/systemd/system"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "usr/lib/systemd/system/rollcall.service"), unitText, 0o644); err != nil {
		t.Fatal(err)
	}
	verify(t, root)

	// The choices the README and rollcall's shutdown depend on.
	keys := unit(t, "rollcall.service")
	for k, want := range map[string]string{
		"Service.User":                     "rollcall",
		"Service.StateDirectory":           "rollcall",
		"Service.EnvironmentFile":          "-/etc/rollcall/rollcall.env",
		"Service.Restart":                  "on-failure",
		"Service.KillMode":                 "mixed",
		"Service.NoNewPrivileges":          "yes",
		"Service.ProtectSystem":            "strict",
		"Service.ProtectHome":              "yes",
		"Service.PrivateTmp":               "yes",
		"Service.ReadWritePaths":           "/var/lib/rollcall",
		"Install.WantedBy":                 "multi-user.target",
		"Service.RestartPreventExitStatus": "2",
	} {
		if keys[k] != want {
			t.Errorf("%s = %q, want %q", k, keys[k], want)
		}
	}
	// Chromium's JIT needs writable-executable memory and its sandbox user
	// namespaces; a hardening option that takes them away breaks charts.
	for _, k := range []string{"Service.MemoryDenyWriteExecute", "Service.RestrictNamespaces", "Service.PrivateUsers", "Service.DynamicUser"} {
		if v, ok := keys[k]; ok && v != "no" && v != "false" {
			t.Errorf("%s=%s would break Chromium or the private database's ownership", k, v)
		}
	}
	// Drain (10 s) + flush (10 s) + the private database's stop (30 s in
	// main's shutdown) must fit, with room for closing the browser.
	stop, err := time.ParseDuration(keys["Service.TimeoutStopSec"])
	if err != nil || stop < 60*time.Second {
		t.Errorf("TimeoutStopSec = %q (%v): must cover 10 s drain + 10 s flush + 30 s database stop", keys["Service.TimeoutStopSec"], err)
	}

	// ExecStart as rollcall sees it: flags it knows, an absolute data dir.
	exec0 := strings.Fields(keys["Service.ExecStart"])
	if len(exec0) < 2 || exec0[0] != "/usr/bin/rollcall" || exec0[1] != "run" {
		t.Fatalf("ExecStart = %q", keys["Service.ExecStart"])
	}
	dataDir := regexp.MustCompile(`--data-dir (\S+)`).FindStringSubmatch(keys["Service.ExecStart"])
	if dataDir == nil || dataDir[1] != "/var/lib/rollcall" {
		t.Errorf("ExecStart has no --data-dir /var/lib/rollcall: %q", keys["Service.ExecStart"])
	}
	if !strings.Contains(keys["Service.ExecStart"], "--config /etc/rollcall/config.toml") {
		t.Errorf("ExecStart has no --config /etc/rollcall/config.toml: %q", keys["Service.ExecStart"])
	}
	if _, err := os.Stat("/etc/rollcall/config.toml"); err == nil {
		t.Skip("skipping the command-line run: this machine has an /etc/rollcall/config.toml")
	}
	// Run with the unit's arguments: the flags are accepted (a bad one
	// exits 2) and it stops at the missing configuration (exit 1).
	cmd := exec.Command(bin, exec0[1:]...)
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "no configuration at /etc/rollcall/config.toml") {
		t.Errorf("the unit's command line: %v\n%s", err, out)
	}
}

// debVersion is the version the tests build the package as.
const debVersion = "1.2.3+test"

var (
	debOnce sync.Once
	debPath string
	debErr  error
)

// buildDeb runs make deb once per test process and returns the package.
func buildDeb(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping: builds the package")
	}
	need(t, "make", "go", "dpkg-deb")
	if _, err := os.Stat("../render/assets/echarts.min.js"); err != nil {
		need(t, "npm") // make deb runs make assets
	}
	debOnce.Do(func() {
		dist, err := os.MkdirTemp("", "rollcall-deb-")
		if err != nil {
			debErr = err
			return
		}
		cmd := exec.Command("make", "--no-print-directory", "deb", "DIST="+dist, "VERSION="+debVersion, "MAINTAINER=Test <test@example.org>")
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			debErr = fmt.Errorf("make deb: %v\n%s", err, out)
			return
		}
		arch, err := exec.Command("go", "env", "GOARCH").Output()
		if err != nil {
			debErr = err
			return
		}
		debPath = filepath.Join(dist, "rollcall_"+debVersion+"_"+strings.TrimSpace(string(arch))+".deb")
		if _, err := os.Stat(debPath); err != nil {
			entries, _ := os.ReadDir(dist)
			debErr = fmt.Errorf("%s: %v (made: %v)", debPath, err, entries)
		}
	})
	if debErr != nil {
		t.Fatal(debErr)
	}
	return debPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if debPath != "" {
		os.RemoveAll(filepath.Dir(debPath))
	}
	os.Exit(code)
}

// make deb builds the package: its control fields, its files with their
// modes, the conffiles, a binary that says the version it was built as, a
// unit that still verifies where the package puts it. (TestDebInstallsAndRuns
// installs it, in a throwaway copy of this machine.)
func TestDeb(t *testing.T) {
	deb := buildDeb(t)
	need(t, "systemd-analyze")
	version := debVersion
	arch, err := exec.Command("go", "env", "GOARCH").Output()
	if err != nil {
		t.Fatal(err)
	}

	field := func(name string) string {
		out, err := exec.Command("dpkg-deb", "-f", deb, name).Output()
		if err != nil {
			t.Fatalf("dpkg-deb -f %s: %v", name, err)
		}
		return strings.TrimSpace(string(out))
	}
	for name, want := range map[string]string{"Package": "rollcall", "Version": version, "Architecture": strings.TrimSpace(string(arch)), "Maintainer": "Test <test@example.org>"} {
		if got := field(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	depends := map[string]bool{}
	for _, d := range strings.Split(field("Depends"), ",") {
		depends[strings.Fields(d)[0]] = true
	}
	for _, want := range []string{"chromium", "fonts-noto-color-emoji", "postgresql", "passwd"} {
		if !depends[want] {
			t.Errorf("Depends %q lacks %s", field("Depends"), want)
		}
	}

	// Files and modes.
	out, err := exec.Command("dpkg-deb", "-c", deb).Output()
	if err != nil {
		t.Fatal(err)
	}
	modes := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) >= 6 {
			modes[strings.TrimPrefix(f[len(f)-1], ".")] = f[0] + " " + f[1]
		}
	}
	for path, want := range map[string]string{
		"/usr/bin/rollcall":                        "-rwxr-xr-x root/root",
		"/usr/lib/systemd/system/rollcall.service": "-rw-r--r-- root/root",
		"/etc/rollcall/config.toml":                "-rw-r----- root/root",
		"/etc/rollcall/rollcall.env":               "-rw------- root/root",
		"/usr/share/doc/rollcall/README.md":        "-rw-r--r-- root/root",
	} {
		if modes[path] != want {
			t.Errorf("%s: %q, want %q", path, modes[path], want)
		}
	}

	ctl := t.TempDir()
	if out, err := exec.Command("dpkg-deb", "-e", deb, ctl).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb -e: %v\n%s", err, out)
	}
	conffiles, _ := os.ReadFile(filepath.Join(ctl, "conffiles"))
	for _, want := range []string{"/etc/rollcall/config.toml", "/etc/rollcall/rollcall.env"} {
		if !strings.Contains(string(conffiles), want+"\n") {
			t.Errorf("conffiles %q lacks %s", conffiles, want)
		}
	}
	postinst, _ := os.ReadFile(filepath.Join(ctl, "postinst"))
	if !strings.Contains(string(postinst), "useradd --system") || !strings.Contains(string(postinst), "rollcall\n") {
		t.Errorf("postinst does not create the rollcall account:\n%s", postinst)
	}
	for _, script := range []string{"postinst", "prerm", "postrm"} {
		p := filepath.Join(ctl, script)
		if fi, err := os.Stat(p); err != nil || fi.Mode()&0o111 == 0 {
			t.Errorf("%s: %v, not executable", script, err)
		}
		if out, err := exec.Command("sh", "-n", p).CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", script, err, out)
		}
	}

	// The installed tree.
	root := t.TempDir()
	if out, err := exec.Command("dpkg-deb", "-x", deb, root).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb -x: %v\n%s", err, out)
	}
	out, err = exec.Command(filepath.Join(root, "usr/bin/rollcall"), "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "rollcall "+version+" (commit ") || !strings.Contains(string(out), ", built ") {
		t.Errorf("the packaged rollcall version = %q, %v; want %s with its commit and build date", out, err, version)
	}
	for packaged, source := range map[string]string{
		"etc/rollcall/config.toml":                "../config.example.toml",
		"etc/rollcall/rollcall.env":               "rollcall.env",
		"usr/lib/systemd/system/rollcall.service": "rollcall.service",
	} {
		a, _ := os.ReadFile(filepath.Join(root, packaged))
		b, _ := os.ReadFile(source)
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("/%s differs from %s", packaged, source)
		}
	}
	verify(t, root)
}
