package simtest

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/rest"

	"rollcall/discordsim"
	"rollcall/discordsim/conformance"
)

// recordingTB stands in for t where a test must see what Start or LogCapture
// would report without failing itself: it records Errorf/Fatalf and runs the
// cleanups only when told to.
type recordingTB struct {
	testing.TB
	mu       sync.Mutex
	errs     []string
	cleanups []func()
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	r.TB.Fatalf("unexpected Fatalf: "+format, args...)
}

func (r *recordingTB) Cleanup(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cleanups = append(r.cleanups, f)
}

// finish runs the cleanups last-registered first, as testing does, and returns
// the errors reported.
func (r *recordingTB) finish() []string {
	r.mu.Lock()
	cs := r.cleanups
	r.cleanups = nil
	r.mu.Unlock()
	for _, f := range slices.Backward(cs) {
		f()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.errs
}

func TestLogCaptureParseErrors(t *testing.T) {
	log, c := NewLogCapture(t)
	gw := log.With(slog.String("name", "bot_gateway"))

	// What disgo v0.19.6 logs when a gateway payload does not decode.
	gw.Error("error while parsing gateway message",
		slog.Any("err", errors.New(`json: cannot unmarshal string into Go struct field Member.joined_at of type time.Time`)))
	gw.Warn("failed to read next message from gateway",
		slog.Any("err", errors.New(`parsing time "" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "2006"`)))
	// Not parse errors: a closed connection, a decode word at Debug, plain info.
	gw.Warn("failed to read next message from gateway", slog.Any("err", errors.New("websocket: close 1006 (abnormal closure)")))
	gw.Debug("received gateway message", slog.String("data", `{"t":"GUILD_CREATE"} failed to decode`))
	log.Info("bot ready", slog.Int("guilds", 2))
	log.WithGroup("rest").Error("request failed", slog.String("err", "failed to unmarshal response"))

	got := c.ParseErrors()
	want := []string{
		`level=ERROR msg="error while parsing gateway message" name=bot_gateway err="json: cannot unmarshal string into Go struct field Member.joined_at of type time.Time"`,
		`level=WARN msg="failed to read next message from gateway" name=bot_gateway err="parsing time \"\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"\" as \"2006\""`,
		`level=ERROR msg="request failed" rest.err="failed to unmarshal response"`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("ParseErrors() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	if n := len(c.Records()); n != 6 {
		t.Errorf("len(Records()) = %d, want 6 (Debug included)", n)
	}
	text := c.Text()
	for _, s := range []string{`level=INFO msg="bot ready" guilds=2`, `level=DEBUG msg="received gateway message"`} {
		if !strings.Contains(text, s) {
			t.Errorf("Text() lacks %q:\n%s", s, text)
		}
	}
	if strings.Contains(text, "time=") {
		t.Errorf("Text() has times:\n%s", text)
	}

	rt := &recordingTB{TB: t}
	c.FailOnParseErrors(rt)
	if errs := rt.finish(); len(errs) != 3 {
		t.Errorf("FailOnParseErrors reported %d errors, want 3: %q", len(errs), errs)
	}
}

func TestLogCaptureClean(t *testing.T) {
	log, c := NewLogCapture(t)
	log.Info("connected")
	log.Warn("rate limit exceeded", slog.Int("retry_after", 1))
	if pe := c.ParseErrors(); len(pe) != 0 {
		t.Errorf("ParseErrors() = %q, want none", pe)
	}
	rt := &recordingTB{TB: t}
	c.FailOnParseErrors(rt)
	if errs := rt.finish(); len(errs) != 0 {
		t.Errorf("FailOnParseErrors reported %q", errs)
	}
}

// TestStart sends requests through disgo's REST client to a simulator from
// Start: a conforming one passes, and a route the simulator does not know fails
// the test in the cleanup.
func TestStart(t *testing.T) {
	rt := &recordingTB{TB: t}
	s := Start(rt, discordsim.Options{})
	g := s.AddGuild("Rollcall HQ")
	ch := s.AddChannel(g, "general", discord.ChannelTypeGuildText)

	client := rest.New(rest.NewClient(s.Token(), rest.WithURL(s.APIURL())))
	defer client.Close(t.Context())
	if _, err := client.CreateMessage(ch, discord.MessageCreate{
		Content: "Weekly presence",
		Embeds:  []discord.Embed{{Title: "Week 12"}},
	}); err != nil {
		t.Fatalf("CreateMessage: %v", err)
	}
	if errs := slices.Clone(rt.errs); len(errs) != 0 {
		t.Fatalf("errors before cleanup: %q", errs)
	}

	rq, err := http.NewRequest(http.MethodGet, s.APIURL()+"/no/such/route", nil)
	if err != nil {
		t.Fatal(err)
	}
	rq.Header.Set("Authorization", "Bot "+s.Token())
	rs, err := http.DefaultClient.Do(rq)
	if err != nil {
		t.Fatal(err)
	}
	rs.Body.Close()

	errs := rt.finish()
	if len(errs) == 0 || !strings.Contains(strings.Join(errs, "\n"), "/no/such/route") {
		t.Errorf("cleanup errors = %q, want one naming /no/such/route", errs)
	}
}

// TestStartConformance checks that a request Discord would reject fails the test.
func TestStartConformance(t *testing.T) {
	if c, err := conformance.FromEnv(); err != nil || c == nil {
		t.Skipf("%s (err %v)", unsetNotice, err)
	}
	rt := &recordingTB{TB: t}
	s := Start(rt, discordsim.Options{})
	g := s.AddGuild("Rollcall HQ")
	ch := s.AddChannel(g, "general", discord.ChannelTypeGuildText)

	rq, err := http.NewRequest(http.MethodPost, s.APIURL()+"/channels/"+ch.String()+"/messages", strings.NewReader(`{"content": 5}`))
	if err != nil {
		t.Fatal(err)
	}
	rq.Header.Set("Authorization", "Bot "+s.Token())
	rq.Header.Set("Content-Type", "application/json")
	rs, err := http.DefaultClient.Do(rq)
	if err != nil {
		t.Fatal(err)
	}
	rs.Body.Close()
	if rs.StatusCode != http.StatusBadRequest {
		t.Errorf("status = %d, want 400", rs.StatusCode)
	}
	errs := rt.finish()
	if len(errs) != 1 || !strings.Contains(errs[0], "$.content") {
		t.Errorf("cleanup errors = %q, want one about $.content", errs)
	}
}

// TestStartResponseConformance checks that a simulator answer rejected by the
// response check fails the test, and that the answer itself is unchanged.
func TestStartResponseConformance(t *testing.T) {
	rt := &recordingTB{TB: t}
	s := Start(rt, discordsim.Options{CheckResponse: func(r *http.Request, status int, _ http.Header, body []byte) error {
		if strings.HasSuffix(r.URL.Path, "/users/@me") {
			return fmt.Errorf("%d answer rejected for the test: %s", status, body)
		}
		return nil
	}})
	rq, err := http.NewRequest(http.MethodGet, s.APIURL()+"/users/@me", nil)
	if err != nil {
		t.Fatal(err)
	}
	rq.Header.Set("Authorization", "Bot "+s.Token())
	rs, err := http.DefaultClient.Do(rq)
	if err != nil {
		t.Fatal(err)
	}
	rs.Body.Close()
	if rs.StatusCode != http.StatusOK {
		t.Errorf("status = %d, want 200: a response check must not change the answer", rs.StatusCode)
	}
	errs := rt.finish()
	if len(errs) != 1 || !strings.Contains(errs[0], "answer rejected for the test") || !strings.Contains(errs[0], "simulator answer") {
		t.Errorf("cleanup errors = %q, want one about the rejected answer", errs)
	}
}
