package simtest

import (
	"log/slog"
	"strings"
	"testing"

	"rollcall/discordsim"
)

func TestLogCaptureFailsOnTheBotToken(t *testing.T) {
	rt := &recordingTB{TB: t}
	early, _ := NewLogCapture(rt) // made before the simulator: checked when it closes
	s := Start(rt, discordsim.Options{})
	late, _ := NewLogCapture(rt) // made after: checked when the capture ends
	_, clean := NewLogCapture(rt)
	other := &recordingTB{TB: t}
	unrelated, _ := NewLogCapture(other) // another test's log is not this simulator's business

	early.Debug("identify", slog.String("payload", `{"op":2,"d":{"token":"`+s.Token()+`"}}`))
	late.Error("request failed", slog.Any("error", "Authorization: Bot "+s.Token()))
	unrelated.Info("token " + s.Token())
	_ = clean

	errs := rt.finish()
	if len(errs) != 2 {
		t.Fatalf("reported %d errors, want 2 (one per capture holding the token): %q", len(errs), errs)
	}
	for _, e := range errs {
		if !strings.Contains(e, "the bot token appears in the log") || strings.Contains(e, s.Token()) {
			t.Errorf("error %q: want it named, not quoted", e)
		}
	}
	if errs := other.finish(); len(errs) != 0 {
		t.Errorf("the other test's capture was checked: %q", errs)
	}
}
