package render

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An explicit CHROMIUM_PATH that names nothing runnable is an error naming
// the variable; the search used to go on silently to the usual places.
func TestFindChromiumHonoursCHROMIUM_PATH(t *testing.T) {
	notExecutable := filepath.Join(t.TempDir(), "chromium")
	if err := os.WriteFile(notExecutable, []byte("not a browser"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/nonexistent", notExecutable} {
		t.Run(path, func(t *testing.T) {
			t.Setenv("CHROMIUM_PATH", path)
			got, err := FindChromium()
			if err == nil {
				t.Fatalf("FindChromium() = %q, want an error for CHROMIUM_PATH=%s", got, path)
			}
			if !errors.Is(err, ErrNoChromium) || !strings.Contains(err.Error(), "CHROMIUM_PATH="+path) {
				t.Errorf("error %q does not name CHROMIUM_PATH=%s (or is not ErrNoChromium)", err, path)
			}
		})
	}
	// A CHROMIUM_PATH that works is used as given.
	t.Setenv("CHROMIUM_PATH", "")
	real, err := FindChromium()
	if err != nil {
		t.Skip(err)
	}
	t.Setenv("CHROMIUM_PATH", real)
	if got, err := FindChromium(); err != nil || got != real {
		t.Errorf("FindChromium() = %q, %v; want %q", got, err, real)
	}
}
