package demo

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"rollcall/attendance"
	"rollcall/render"
	"rollcall/settings"
	"rollcall/store"
	"rollcall/store/storetest"
)

func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := render.FindChromium(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}

func masks(m attendance.Mask) string {
	var b strings.Builder
	for i := range eventMinutes {
		if m.Has(i) {
			b.WriteByte('#')
		} else {
			b.WriteByte('.')
		}
	}
	return b.String()
}

// TestDemoPlaysItsStory plays the demo and reads back what the bot stored:
// the guild set up from Discord (the bot's hello, then the moderator's
// /rollcall setup, schedule add and roles add, each answered in the feed,
// and the schedule in the bot's settings right after it was added); every
// scripted story (on time, late, left early, hopping to the lobby,
// muted, idling in AFK) is exactly the minutes recorded, at 16:00 and at
// 21:00; the week holds the 14 events its schedule defines; the server's
// owner is one of the 34 people the README speaks of; and the files in the
// output folder are numbered in the order the feed shows them.
func TestDemoPlaysItsStory(t *testing.T) {
	requireChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	db, out := storetest.URL(t), t.TempDir()
	var stdout bytes.Buffer
	p, err := run(ctx, Options{Out: out, Speed: 600, DatabaseURL: db, Schema: storetest.Schema(t),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Stdout: &stdout})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := p.c
	guild := uint64(c.guild)

	// Set up from Discord: the feed opens with the hello and the
	// moderator's three commands, each answered with what it did.
	if len(p.f.Items) < 4 {
		t.Fatalf("the feed has %d items", len(p.f.Items))
	}
	if hello := p.f.Items[0]; hello.Channel != "общий" || !strings.Contains(hello.Content, "/rollcall setup") {
		t.Errorf("the feed does not open with the bot's hello in #общий: %+v", hello)
	}
	moderator := " — " + c.nameOf(c.moderator)
	for i, want := range []struct{ command, reply []string }{
		{[]string{"/rollcall setup timezone: Europe/Moscow report_channel: #отчёты language: English"}, []string{"Europe/Moscow", "#отчёты", "English"}},
		{[]string{"/rollcall schedule add name: БЗС times: 16:00,21:00 duration: 60m", "voice_channel: #БЗС основной", "voice_channel_2: #БЗС резерв"},
			[]string{"**БЗС**", "16:00, 21:00", "#БЗС основной, #БЗС резерв", "#отчёты"}},
		{[]string{"/rollcall roles add role: @Regular attended_at_least: 3 of_last: 4"}, []string{"@Regular"}},
	} {
		it := p.f.Items[1+i]
		if !strings.HasSuffix(it.Command, moderator) || it.Channel != "команды" {
			t.Errorf("item %d is not the moderator's command: %+v", 1+i, it)
		}
		for _, w := range want.command {
			if !strings.Contains(it.Command, w) {
				t.Errorf("item %d shows %q, want %q in it", 1+i, it.Command, w)
			}
		}
		for _, w := range want.reply {
			if !strings.Contains(it.Content, w) {
				t.Errorf("%s: the reply %q lacks %q", it.Command, it.Content, w)
			}
		}
		if strings.Contains(it.Content, "<#") || strings.Contains(it.Content, "<@") {
			t.Errorf("%s: a mention not shown by name: %q", it.Command, it.Content)
		}
	}
	g := p.setUp
	if g == nil {
		t.Fatal("the bot has no settings for the guild after /rollcall schedule add")
	}
	if g.Source != settings.FromDiscord || g.Location.String() != "Europe/Moscow" || !slices.Equal(g.ReportChannels, []uint64{uint64(c.reports)}) {
		t.Errorf("settings after setup: source %v, zone %s, reports %v", g.Source, g.Location, g.ReportChannels)
	}
	sc := g.ScheduleByName("БЗС")
	if sc == nil {
		t.Fatalf("no schedule БЗС in the bot's settings after /rollcall schedule add: %+v", g.Schedules)
	}
	var starts []string
	for _, s := range sc.Parsed.Starts {
		starts = append(starts, s.String())
	}
	if strings.Join(starts, ",") != "16:00,21:00" || sc.Duration != time.Hour || !slices.Equal(sc.VoiceChannels, []uint64{uint64(c.bzs), uint64(c.bzs2)}) {
		t.Errorf("schedule БЗС: starts %v, %s, voice %v", starts, sc.Duration, sc.VoiceChannels)
	}
	if p.regulars == 0 {
		t.Error("the Regular rule's first evaluation gave the role to nobody")
	}

	// Each story reads as told, and each kind of story is in the script.
	kinds := map[string]int{}
	for _, ev := range []struct {
		name    string
		start   time.Time
		stories []story
	}{{"16:00", p.event, p.eventStories}, {"21:00", p.evening, p.eveningStories}} {
		t.Run(ev.name, func(t *testing.T) {
			occs, err := st.Occurrences(ctx, guild, ev.start, ev.start.Add(time.Minute))
			if err != nil || len(occs) != 1 {
				t.Fatalf("occurrences at %s: %v, %v", ev.start, occs, err)
			}
			if occs[0].Schedule != sc.Name {
				t.Errorf("recorded under %q, not the schedule added from Discord (%q)", occs[0].Schedule, sc.Name)
			}
			rows, _, err := st.OccurrenceMinutes(ctx, occs[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			stored := map[uint64]store.MemberMinutes{}
			for _, r := range rows {
				stored[r.Member.UserID] = r
			}
			for _, s := range ev.stories {
				present, muted := s.counted(c.watched, c.lobby, eventMinutes)
				got := stored[uint64(s.user)]
				if masks(got.Present) != masks(present) || masks(got.SelfMute) != masks(muted) {
					t.Errorf("%s (%+v):\npresent %s\n   want %s\n  muted %s\n   want %s", c.nameOf(s.user), s,
						masks(got.Present), masks(present), masks(got.SelfMute), masks(muted))
				}
				switch {
				case s.channel == c.afk:
					kinds["afk"]++
				case s.join > 5 && s.leave >= 0:
					kinds["late and left early"]++
				case s.join > 5:
					kinds["late"]++
				case s.leave >= 0:
					kinds["left early"]++
				}
				if s.hops() {
					kinds["lobby"]++
				}
				if s.mute >= 0 {
					kinds["muted"]++
				}
			}
			for _, b := range c.bots {
				if got, ok := stored[uint64(b)]; ok && got.Present.Count() > 0 {
					t.Errorf("bot %d recorded", b)
				}
			}
		})
	}
	for _, k := range []string{"afk", "late", "left early", "lobby", "muted"} {
		if kinds[k] == 0 {
			t.Errorf("no %s story in the script: %v", k, kinds)
		}
	}

	// The week: the 12 seeded events and the two played, as the schedule has it.
	week := attendance.WeekOf(p.event, tz)
	occs, err := st.Occurrences(ctx, guild, week.Start, week.End)
	if err != nil || len(occs) != 14 {
		t.Errorf("the week holds %d events, want 14 (two a day): %v", len(occs), err)
	}
	for _, o := range occs {
		if o.Schedule != sc.Name {
			t.Errorf("the event at %s is under %q, not %q", o.Start, o.Schedule, sc.Name)
		}
	}
	weekly := p.f.Items[len(p.f.Items)-1]
	if len(weekly.Embeds) != 1 || !strings.HasPrefix(weekly.Embeds[0].Title, "Weekly report") {
		t.Fatalf("the feed does not end with the weekly report: %+v", weekly)
	}
	for _, f := range weekly.Embeds[0].Fields {
		if f.Name == "Events held" && f.Value != "14" {
			t.Errorf("the weekly report says %s events held, want 14", f.Value)
		}
	}

	// The owner is the first of the community, not a 35th person.
	members, err := st.Members(ctx, guild)
	if err != nil {
		t.Fatal(err)
	}
	humans := 0
	for _, m := range members {
		if m.Username == "owner" || m.Name() == "Owner" {
			t.Errorf("the simulator's own owner is a member: %+v", m)
		}
		if !m.Bot {
			humans++
		}
	}
	if humans != len(names) {
		t.Errorf("%d people stored, want the %d of the community", humans, len(names))
	}

	// The feed is in the order things happened.
	if !slices.IsSortedFunc(p.f.Items, func(a, b item) int { return a.Time.Compare(b.Time) }) {
		for _, it := range p.f.Items {
			t.Logf("%s %s %s", it.Time.In(tz).Format("Mon 15:04:05"), it.Channel, it.Command)
		}
		t.Error("the feed is not in time order")
	}

	// Files are numbered in the order the page shows them, and the page
	// shows every one.
	page, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	var shown []string
	for _, m := range regexp.MustCompile(`(?:src|href)="(\d\d-[^"]+)"`).FindAllStringSubmatch(string(page), -1) {
		shown = append(shown, m[1])
	}
	entries, _ := os.ReadDir(out)
	var saved []string
	for _, e := range entries {
		if e.Name() != "index.html" {
			saved = append(saved, e.Name())
		}
	}
	if !slices.IsSorted(shown) || !slices.Equal(shown, saved) {
		t.Errorf("files in the order the page shows them:\n%q\nin the folder:\n%q", shown, saved)
	}
	for i, f := range shown {
		if n, _ := strconv.Atoi(f[:2]); n != i+1 {
			t.Errorf("file %d on the page is %s", i+1, f)
		}
	}
}

// Interrupting the demo (Ctrl-C cancels main's context) is a normal stop:
// Run returns nil, says it was interrupted and leaves the feed so far.
func TestDemoInterruptIsNotAnError(t *testing.T) {
	requireChromium(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout := &lines{ch: make(chan string, 16)}
	out := t.TempDir()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Out: out, Speed: 600, DatabaseURL: storetest.URL(t), Schema: storetest.Schema(t),
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Stdout: stdout})
	}()
	timeout := time.After(3 * time.Minute)
	for interrupted := false; !interrupted; {
		select {
		case l := <-stdout.ch:
			if strings.HasPrefix(l, "17:00") { // the first event is reported: stop during the commands
				cancel()
				interrupted = true
			}
		case err := <-done:
			t.Fatalf("the demo ended before it was interrupted: %v", err)
		case <-timeout:
			t.Fatal("the demo never reached 17:00")
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("Run after an interrupt: %v, want nil", err)
	}
	var said []string
	for len(stdout.ch) > 0 {
		said = append(said, <-stdout.ch)
	}
	if !strings.Contains(strings.Join(said, "\n"), "demo interrupted") {
		t.Errorf("the demo does not say it was interrupted: %q", said)
	}
	page, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil || !bytes.Contains(page, []byte("БЗС · Sun 22 Nov 2026, 16:00–17:00 MSK")) {
		t.Errorf("the feed so far lacks the 16:00 report (%v)", err)
	}
}

// lines passes each line written to it on ch.
type lines struct {
	ch  chan string
	buf []byte
}

func (l *lines) Write(p []byte) (int, error) {
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		select {
		case l.ch <- string(l.buf[:i]):
		default:
			return 0, fmt.Errorf("lines: nobody reads")
		}
		l.buf = l.buf[i+1:]
	}
}
