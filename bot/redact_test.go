package bot

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestRedactHandlerHidesTheToken(t *testing.T) {
	const tok = "MTIz.abc.secret-token-value"
	var buf bytes.Buffer
	log := slog.New(newRedactHandler(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}), tok))
	log = log.With(slog.String("with", "t="+tok))
	log.Debug("sending "+tok, slog.String("data", `{"token":"`+tok+`"}`), slog.Any("raw", []byte(tok)),
		slog.Any("err", errors.New("bad "+tok)), slog.Group("g", slog.String("x", tok)), slog.Int("n", 1))
	out := buf.String()
	if strings.Contains(out, "secret-token-value") {
		t.Fatalf("token leaked: %s", out)
	}
	if strings.Count(out, "[token]") != 6 || !strings.Contains(out, "n=1") {
		t.Fatalf("unexpected output: %s", out)
	}
}
