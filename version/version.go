// Package version says which build of rollcall is running: the release
// version, the commit and when it was built. Release builds (make build,
// make deb) set them with the linker:
//
//	go build -ldflags "-X rollcall/version.Version=1.2.0 -X rollcall/version.Commit=$(git rev-parse HEAD) -X rollcall/version.Date=2026-12-01T10:00:00Z"
//
// Any left unset come from what the Go toolchain records in the binary
// (runtime/debug.ReadBuildInfo: the module version and, when built in a git
// checkout with VCS stamping on, vcs.revision, vcs.time and vcs.modified).
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Set with -ldflags -X; empty means "from the build info".
var (
	// Version is the release, e.g. 1.2.0.
	Version string
	// Commit is the git commit the binary was built from.
	Commit string
	// Date is when the binary was built (RFC 3339, UTC).
	Date string
)

// Info is what is known about the running build.
type Info struct {
	Version string // "dev" when nothing says
	Commit  string // "" when unknown
	// Date is the build time when the build set it, else the commit's time
	// from the VCS stamp (DateIsCommit), else "".
	Date         string
	DateIsCommit bool
	Modified     bool // built from a checkout with uncommitted changes
	Go           string
}

// Get reads the running binary's build.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return get(bi, Version, Commit, Date)
}

func get(bi *debug.BuildInfo, version, commit, date string) Info {
	i := Info{Version: version, Commit: commit, Date: date, Go: runtime.Version()}
	if bi == nil {
		if i.Version == "" {
			i.Version = "dev"
		}
		return i
	}
	var vcsTime string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if i.Commit == "" {
				i.Commit = s.Value
			}
		case "vcs.time":
			vcsTime = s.Value
		case "vcs.modified":
			i.Modified = s.Value == "true"
		}
	}
	if i.Date == "" && vcsTime != "" {
		i.Date, i.DateIsCommit = vcsTime, true
	}
	if i.Version == "" {
		// "(devel)" is what go build gives a module built in place
		// without VCS stamping.
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			i.Version = strings.TrimPrefix(v, "v")
		} else {
			i.Version = "dev"
		}
	}
	if bi.GoVersion != "" {
		i.Go = bi.GoVersion
	}
	return i
}

// String is one line for logs and `rollcall version`, e.g.
// "rollcall 1.2.0 (commit 0123456789ab, built 2026-12-01T10:00:00Z, go1.26.8)".
func String() string { return Get().String() }

func (i Info) String() string {
	parts := []string{}
	if i.Commit != "" {
		c := i.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		if i.Modified {
			c += " with uncommitted changes"
		}
		parts = append(parts, "commit "+c)
	}
	if i.Date != "" {
		if i.DateIsCommit {
			parts = append(parts, "committed "+i.Date)
		} else {
			parts = append(parts, "built "+i.Date)
		}
	}
	parts = append(parts, i.Go)
	return fmt.Sprintf("rollcall %s (%s)", i.Version, strings.Join(parts, ", "))
}
