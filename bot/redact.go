package bot

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"regexp"
	"strings"
)

// redactHandler removes credentials from every log record before it reaches
// the real handler: the message and every attribute (strings, errors,
// []byte, json.RawMessage, anything printed with %v, inside groups and in
// attributes added with With), at every level.
//
// disgo logs at debug level each gateway frame it sends and receives and
// each REST request with its endpoint and body. What they carry:
//   - the bot token: IDENTIFY and RESUME frames ("token":"…"); known in
//     advance, replaced wherever it appears;
//   - interaction tokens, which let anyone answer, edit or follow up on an
//     interaction for 15 minutes: in INTERACTION_CREATE frames ("token":"…"),
//     in the callback endpoint /interactions/{id}/{token}/callback and in
//     webhook endpoints /webhooks/{application}/{token}/… (follow-ups, edits
//     of @original), and in the errors net/http returns, which quote the
//     URL. They are not known in advance, so they are found by shape.
type redactHandler struct {
	next   slog.Handler
	secret string
}

func newRedactHandler(next slog.Handler, secret string) slog.Handler {
	return &redactHandler{next: next, secret: secret}
}

// RedactingHandler wraps next so that no record it handles holds the bot
// token or an interaction or webhook token. The bot wraps disgo's logger in
// it; wrapping the process's root logger too covers the errors rollcall's
// own code logs (net/http errors quote the webhook URL they failed on).
func RedactingHandler(next slog.Handler, botToken string) slog.Handler {
	return newRedactHandler(next, botToken)
}

const redacted = "[token]"

var tokenPatterns = []struct {
	re   *regexp.Regexp
	repl string
}{
	// /webhooks/{id}/{token} and /interactions/{id}/{token}: the token is
	// the path segment after the id, up to the next separator.
	{regexp.MustCompile(`(/(?:webhooks|interactions)/[0-9]+/)[^/?#\s"'\\<>]+`), "${1}" + redacted},
	// "token":"…" in a JSON frame or body, also when that JSON was quoted
	// again (\"token\":\"…\") by an error message or a %q.
	{regexp.MustCompile(`((?:\\*")?token(?:\\*")?\s*:\s*\\*")[^"\\]*`), "${1}" + redacted},
	// An interaction token on its own: Discord's start with the base64 of
	// "interaction:".
	{regexp.MustCompile(`aW50ZXJhY3Rpb246[A-Za-z0-9_\-.]*`), redacted},
	// A bot token on its own (three base64url parts) or in an
	// Authorization header.
	{regexp.MustCompile(`[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{20,}`), redacted},
	{regexp.MustCompile(`(?i)(authorization["']?\s*[:=]\s*["']?(?:Bot|Bearer)\s+)[^\s"',]+`), "${1}" + redacted},
}

func (h *redactHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *redactHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.clean(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *redactHandler) WithAttrs(as []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(as))
	for i, a := range as {
		clean[i] = h.attr(a)
	}
	return &redactHandler{next: h.next.WithAttrs(clean), secret: h.secret}
}

func (h *redactHandler) WithGroup(name string) slog.Handler {
	return &redactHandler{next: h.next.WithGroup(name), secret: h.secret}
}

// clean removes the bot token and anything shaped like a token from s.
func (h *redactHandler) clean(s string) string {
	if h.secret != "" {
		s = strings.ReplaceAll(s, h.secret, redacted)
	}
	for _, p := range tokenPatterns {
		s = p.re.ReplaceAllString(s, p.repl)
	}
	return s
}

func (h *redactHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.clean(v.String()))
	case slog.KindGroup:
		g := v.Group()
		clean := make([]any, len(g))
		for i, x := range g {
			clean[i] = h.attr(x)
		}
		return slog.Group(a.Key, clean...)
	case slog.KindAny:
		// Payloads ([]byte, json.RawMessage, errors, structs) are printed
		// here once so no token can hide inside them; a value holding none
		// is passed on as it was, for handlers that format it themselves.
		s := fmt.Sprint(v.Any())
		if rv := reflect.ValueOf(v.Any()); rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8 {
			s = string(rv.Bytes())
		}
		if c := h.clean(s); c != s {
			return slog.String(a.Key, c)
		}
		return slog.Attr{Key: a.Key, Value: v}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
