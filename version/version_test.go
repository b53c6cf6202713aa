package version

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestGet(t *testing.T) {
	vcs := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "rollcall", Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
		{Key: "vcs.time", Value: "2026-11-27T15:56:31Z"},
		{Key: "vcs.modified", Value: "true"},
	}}
	tests := []struct {
		name                  string
		bi                    *debug.BuildInfo
		version, commit, date string
		want                  string
	}{
		{"nothing known", nil, "", "", "", "rollcall dev ("},
		{"plain build, no VCS stamp", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}, "", "", "",
			"rollcall dev (go1.26.8)"},
		{"VCS stamp", vcs, "", "", "", "rollcall dev (commit 0123456789ab with uncommitted changes, committed 2026-11-27T15:56:31Z, go1.26.8)"},
		{"go install of a tagged module", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.0"}}, "", "", "",
			"rollcall 1.4.0 (go1.26.8)"},
		{"release build: ldflags win", vcs, "1.2.0", "fedcba9876543210", "2026-12-01T10:00:00Z",
			"rollcall 1.2.0 (commit fedcba987654 with uncommitted changes, built 2026-12-01T10:00:00Z, go1.26.8)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := get(tt.bi, tt.version, tt.commit, tt.date).String(); !strings.HasPrefix(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
