//go:build unix

package localpg

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// debianRoot holds Debian's and Ubuntu's versioned server binaries; the
// postgresql package puts none of initdb, pg_ctl or postgres in PATH.
const debianRoot = "/usr/lib/postgresql"

var serverBinaries = []string{"initdb", "pg_ctl", "postgres"}

// findBinDir returns the directory holding the server binaries: explicit,
// else $PG_BIN_DIR, else Debian's directory for the existing cluster's
// version (so that a newer postgresql package installed alongside does not
// strand the cluster), else the newest Debian version, else PATH.
func findBinDir(explicit, clusterVersion string) (string, error) {
	for _, c := range []struct{ dir, from string }{{explicit, "the configured binary directory"}, {os.Getenv("PG_BIN_DIR"), "PG_BIN_DIR"}} {
		if c.dir == "" {
			continue
		}
		if missing := missingBinaries(c.dir); missing != "" {
			return "", fmt.Errorf("%s %s (missing %s): %w", c.from, c.dir, missing, ErrNoBinaries)
		}
		return c.dir, nil
	}
	if clusterVersion != "" {
		dir := filepath.Join(debianRoot, clusterVersion, "bin")
		if missingBinaries(dir) == "" {
			return dir, nil
		}
	}
	for _, dir := range debianBinDirs() {
		if missingBinaries(dir) == "" {
			return dir, nil
		}
	}
	if pgConfig, err := exec.LookPath("pg_config"); err == nil {
		if out, err := exec.Command(pgConfig, "--bindir").Output(); err == nil {
			dir := strings.TrimSpace(string(out))
			if missingBinaries(dir) == "" {
				return dir, nil
			}
		}
	}
	if initdb, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(initdb); err == nil {
			initdb = real
		}
		if dir := filepath.Dir(initdb); missingBinaries(dir) == "" {
			return dir, nil
		}
	}
	return "", ErrNoBinaries
}

// debianBinDirs lists /usr/lib/postgresql/*/bin, newest version first.
func debianBinDirs() []string {
	entries, err := os.ReadDir(debianRoot)
	if err != nil {
		return nil
	}
	var versions []string
	for _, e := range entries {
		if versionKey(e.Name()) != nil {
			versions = append(versions, e.Name())
		}
	}
	sort.Slice(versions, func(i, j int) bool {
		a, b := versionKey(versions[i]), versionKey(versions[j])
		for k := 0; k < len(a) && k < len(b); k++ {
			if a[k] != b[k] {
				return a[k] > b[k]
			}
		}
		return len(a) > len(b)
	})
	dirs := make([]string, len(versions))
	for i, v := range versions {
		dirs[i] = filepath.Join(debianRoot, v, "bin")
	}
	return dirs
}

// versionKey parses "15" or "9.6" into its numbers, nil when not a version.
func versionKey(s string) []int {
	var key []int
	for _, p := range strings.Split(s, ".") {
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil
		}
		key = append(key, n)
	}
	return key
}

// missingBinaries names the server binaries dir lacks, "" when it has all.
func missingBinaries(dir string) string {
	var missing []string
	for _, name := range serverBinaries {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			missing = append(missing, name)
		}
	}
	return strings.Join(missing, ", ")
}
