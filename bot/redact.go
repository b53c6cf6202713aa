package bot

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// redactHandler replaces a secret in every log record before it reaches the
// real handler. disgo logs each gateway frame at debug level, IDENTIFY and
// its token included, so without this `log_level = "debug"` would leak it.
type redactHandler struct {
	next   slog.Handler
	secret string
}

func newRedactHandler(next slog.Handler, secret string) slog.Handler {
	if secret == "" {
		return next
	}
	return &redactHandler{next: next, secret: secret}
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

func (h *redactHandler) clean(s string) string {
	return strings.ReplaceAll(s, h.secret, "[token]")
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
		// Payloads ([]byte, structs, errors) are formatted here once so the
		// secret cannot hide inside them.
		s := fmt.Sprint(v.Any())
		if b, ok := v.Any().([]byte); ok {
			s = string(b)
		}
		if strings.Contains(s, h.secret) {
			return slog.String(a.Key, h.clean(s))
		}
	}
	return a
}
