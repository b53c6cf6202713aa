package simtest

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"rollcall/discordsim"
)

// LogCapture is an slog.Handler that records every record, at every level, for
// giving to disgo (bot.WithLogger) and to the bot, so that a test can fail on
// gateway parse errors and can search the logs (for example for the token).
// It is safe for concurrent use.
type LogCapture struct {
	root   *captureStore
	attrs  []slog.Attr // from WithAttrs, keys already qualified by groups
	groups []string    // from WithGroup
}

type captureStore struct {
	mu      sync.Mutex
	records []slog.Record
	t       testing.TB                  // nil unless forwarding to t.Log
	done    bool                        // t finished: t.Log would panic
	checked map[*discordsim.Server]bool // simulators whose tokens were looked for (leaks.go)
}

// NewLogCapture returns a logger writing to a new LogCapture, and the capture.
// When testing.Verbose(), records at Info and above are also forwarded to t.Log
// (Debug is only recorded: disgo logs every gateway message at Debug).
//
// The capture is also checked, when t ends, for the credentials of every
// simulator started with Start for t: see WatchLog.
func NewLogCapture(t testing.TB) (*slog.Logger, *LogCapture) {
	l, c := newLogCapture(t)
	watchCapture(t, c)
	return l, c
}

func newLogCapture(t testing.TB) (*slog.Logger, *LogCapture) {
	st := &captureStore{}
	if testing.Verbose() {
		st.t = t
		// disgo's goroutines can still log after the test returns, when t.Log
		// panics. Cleanups run last-registered first, so the bot's and the
		// simulator's (set up after their logger) run before this one, and
		// forwarding stops only when they are done.
		t.Cleanup(func() {
			st.mu.Lock()
			st.done = true
			st.mu.Unlock()
		})
	}
	c := &LogCapture{root: st}
	return slog.New(c), c
}

// Enabled reports true for every level: the capture wants Debug too.
func (c *LogCapture) Enabled(context.Context, slog.Level) bool { return true }

// Handle records r with the attributes and groups of this handler.
func (c *LogCapture) Handle(_ context.Context, r slog.Record) error {
	rec := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	rec.AddAttrs(c.attrs...)
	prefix := c.groupPrefix()
	r.Attrs(func(a slog.Attr) bool {
		if prefix != "" {
			a.Key = prefix + a.Key
		}
		rec.AddAttrs(a)
		return true
	})

	st := c.root
	st.mu.Lock()
	defer st.mu.Unlock()
	st.records = append(st.records, rec)
	if st.t != nil && !st.done && rec.Level >= slog.LevelInfo {
		st.t.Log(formatRecord(rec))
	}
	return nil
}

// WithAttrs returns a handler recording into the same capture with attrs added.
func (c *LogCapture) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return c
	}
	n := *c
	n.attrs = append([]slog.Attr(nil), c.attrs...)
	prefix := c.groupPrefix()
	for _, a := range attrs {
		if prefix != "" {
			a.Key = prefix + a.Key
		}
		n.attrs = append(n.attrs, a)
	}
	return &n
}

// WithGroup returns a handler recording into the same capture whose later
// attribute keys are qualified by name (as "name.key").
func (c *LogCapture) WithGroup(name string) slog.Handler {
	if name == "" {
		return c
	}
	n := *c
	n.groups = append(append([]string(nil), c.groups...), name)
	return &n
}

func (c *LogCapture) groupPrefix() string {
	if len(c.groups) == 0 {
		return ""
	}
	return strings.Join(c.groups, ".") + "."
}

// Records returns a copy of every record so far, with the attributes added
// through WithAttrs included in each.
func (c *LogCapture) Records() []slog.Record {
	c.root.mu.Lock()
	defer c.root.mu.Unlock()
	out := make([]slog.Record, len(c.root.records))
	for i, r := range c.root.records {
		out[i] = r.Clone()
	}
	return out
}

// Lines returns every record so far as one text line each (see Text).
func (c *LogCapture) Lines() []string {
	recs := c.Records()
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = formatRecord(r)
	}
	return out
}

// Text returns every record so far, one line each, as level, message and
// key=value attributes in slog's text format (without the time), for example
//
//	level=ERROR msg="error while parsing gateway message" err="json: cannot unmarshal ..."
func (c *LogCapture) Text() string {
	lines := c.Lines()
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

// formatRecord renders r as one line in slog's text format without the time.
func formatRecord(r slog.Record) string {
	var buf bytes.Buffer
	h := slog.NewTextHandler(&buf, &slog.HandlerOptions{
		Level: slog.LevelDebug - 100, // everything
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})
	_ = h.Handle(context.Background(), r)
	return strings.TrimSuffix(buf.String(), "\n")
}

// parseErrorMessages are the messages disgo v0.19.6 logs when it cannot decode
// what it received. A gateway payload that does not decode is logged by the
// transport and then makes the gateway reconnect; in a test that is an event
// that never arrives.
var parseErrorMessages = []string{
	"error while parsing gateway message", // gateway/gateway_transports.go: bad JSON or a field of the wrong type in any gateway payload
	"invalid message data received",       // gateway/gateway.go: dispatch data of an unexpected type
	"error unmarshalling response body",   // rest/rest_client.go: a REST response the simulator sent
	"unknown interaction",                 // bot/handlers/interaction_create_handler.go: interaction type it does not know
}

// parseErrorHints catch decoding failures reported under other messages, for
// example "failed to read next message from gateway" with err="json: ...", and
// the bot's own logs of such errors.
var parseErrorHints = []string{
	"unmarshal",              // json: cannot unmarshal ..., failed to unmarshal, error while unmarshalling
	"json: ",                 // any encoding/json error
	"invalid character",      // malformed JSON
	"unexpected end of json", // truncated JSON
	"failed to decode",
	"cannot decode",
	"error while parsing",
	"parsing time", // time.Parse errors: a timestamp that is "" or not RFC 3339
}

// ParseErrors returns the records at Warn or above whose message or attributes
// say that disgo (or the bot) failed to decode a gateway payload or a REST
// response, one text line each.
func (c *LogCapture) ParseErrors() []string {
	var out []string
	for _, r := range c.Records() {
		if r.Level < slog.LevelWarn {
			continue
		}
		if isParseError(r) {
			out = append(out, formatRecord(r))
		}
	}
	return out
}

func isParseError(r slog.Record) bool {
	for _, m := range parseErrorMessages {
		if r.Message == m {
			return true
		}
	}
	text := strings.ToLower(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		text += " " + strings.ToLower(a.Value.String())
		return true
	})
	for _, h := range parseErrorHints {
		if strings.Contains(text, h) {
			return true
		}
	}
	return false
}

// FailOnParseErrors registers a cleanup that fails t for every parse error
// (see ParseErrors) logged during the test.
func (c *LogCapture) FailOnParseErrors(t testing.TB) {
	t.Helper()
	t.Cleanup(func() {
		for _, e := range c.ParseErrors() {
			t.Errorf("disgo could not decode a payload (the event or response was lost): %s", e)
		}
	})
}
