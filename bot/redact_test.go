package bot

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
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

// simToken makes tokens shaped as Discord's (and the simulator's) are.
func simToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Interaction tokens are redacted by shape, in every form disgo logs them,
// at every level, without the handler knowing them in advance.
func TestRedactHandlerHidesInteractionTokens(t *testing.T) {
	botToken := base64.RawStdEncoding.EncodeToString([]byte("123456789012345678")) + "." + simToken(4) + "." + simToken(20)
	itok := "aW50ZXJhY3Rpb246" + simToken(96)
	// A webhook token of a channel webhook (not an interaction's) has no
	// known prefix: only its place in the URL gives it away.
	whtok := simToken(50)
	frame := `{"op":0,"s":42,"t":"INTERACTION_CREATE","d":{"id":"1300000000000000001","application_id":"1200000000000000002",` +
		`"type":2,"token":"` + itok + `","version":1,"guild_id":"1100000000000000003","data":{"name":"week","id":"1"}}}`
	identify := `{"op":2,"d":{"token":"` + botToken + `","intents":641,"properties":{"os":"linux"}}}`

	for _, handler := range []string{"text", "json"} {
		t.Run(handler, func(t *testing.T) {
			var buf bytes.Buffer
			var next slog.Handler = slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
			if handler == "json" {
				next = slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
			}
			log := slog.New(newRedactHandler(next, botToken)).With(slog.String("component", "disgo"))
			// rest: the client logs every request and response with its endpoint.
			log.Debug("new request", slog.String("endpoint", "/interactions/1300000000000000001/"+itok+"/callback?with_response=true"),
				slog.String("body", `{"type":5,"data":{"flags":64}}`))
			log.Debug("new request", slog.String("endpoint", "/webhooks/1200000000000000002/"+itok+"/messages/@original"),
				slog.String("body", `{"embeds":[{"title":"Week"}]}`))
			log.Debug("new response", slog.String("endpoint", "/webhooks/1200000000000000002/"+whtok), slog.String("code", "200 OK"))
			// gateway: every frame received and sent.
			log.Debug("received gateway message", slog.String("data", frame))
			log.Debug("sending gateway message", slog.String("data", identify))
			// The same frame as bytes, as JSON, quoted again in an error, and in a group.
			log.Debug("frame", slog.Any("raw", []byte(frame)), slog.Any("json", json.RawMessage(frame)))
			log.Warn("could not handle event", slog.Any("err", fmt.Errorf("decode %q: %w", frame, errors.New("bad"))))
			log.Info("request", slog.Group("http", slog.String("url", "https://discord.com/api/v10/webhooks/1200000000000000002/"+itok)))
			// net/http's errors quote the URL.
			log.Error("failed to send follow-up", slog.Any("err", &url.Error{Op: "Post",
				URL: "https://discord.com/api/v10/webhooks/1200000000000000002/" + itok + "?wait=true", Err: errors.New("connection refused")}))
			log.With(slog.String("endpoint", "/interactions/1/"+itok+"/callback")).Info("with")
			log.Info("interaction " + itok + " expired")
			log.Debug("struct", slog.Any("it", struct{ ID, Token string }{"1", itok}))
			log.Debug("header", slog.String("h", "Authorization: Bot "+botToken))

			out := buf.String()
			for name, secret := range map[string]string{"interaction": itok, "webhook": whtok, "bot": botToken} {
				for i := 0; i+16 <= len(secret); i++ {
					if strings.Contains(out, secret[i:i+16]) && !strings.HasPrefix(secret[i:], "aW50ZXJhY3Rpb246") {
						t.Fatalf("%s token leaked (%q):\n%s", name, secret[i:i+16], out)
					}
				}
			}
			// What is not a credential stays readable.
			for _, keep := range []string{"INTERACTION_CREATE", "1100000000000000003", "with_response=true", "@original", "connection refused", "intents", "component"} {
				if !strings.Contains(out, keep) {
					t.Errorf("%q was lost:\n%s", keep, out)
				}
			}
		})
	}
}

// Without a bot token (a test, the demo) interaction tokens are still redacted.
func TestRedactHandlerWithoutBotToken(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(newRedactHandler(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}), ""))
	itok := "aW50ZXJhY3Rpb246" + simToken(96)
	log.Debug("x", slog.String("data", `{"token":"`+itok+`"}`))
	if strings.Contains(buf.String(), itok[16:40]) {
		t.Fatalf("leaked: %s", buf.String())
	}
}
