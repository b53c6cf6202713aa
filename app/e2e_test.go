package app_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"

	"rollcall/app/apptest"
	"rollcall/clock"
	"rollcall/discordsim"
	"rollcall/store"
)

func TestMain(m *testing.M) {
	code := m.Run()
	apptest.CloseRenderer()
	os.Exit(code)
}

var msk = func() *time.Location {
	l, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		panic(err)
	}
	return l
}()

func at(hh, mm, ss int) time.Time { return time.Date(2026, 11, 27, hh, mm, ss, 0, msk) }

func span(from, to int) []int {
	var out []int
	for m := from; m <= to; m++ {
		out = append(out, m)
	}
	return out
}

// storedMinutes reads back what Postgres holds for the only occurrence.
func storedMinutes(t *testing.T, st *store.Store, guild snowflake.ID) (map[snowflake.ID][]int, map[snowflake.ID][]int, store.Occurrence) {
	t.Helper()
	occs, err := st.Occurrences(context.Background(), uint64(guild), time.Unix(0, 0), time.Now().AddDate(10, 0, 0))
	if err != nil || len(occs) != 1 {
		t.Fatalf("occurrences: %+v, %v", occs, err)
	}
	mm, _, err := st.OccurrenceMinutes(context.Background(), occs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	present, muted := map[snowflake.ID][]int{}, map[snowflake.ID][]int{}
	for _, m := range mm {
		for i := range 1440 {
			if m.Present.Has(i) {
				present[snowflake.ID(m.Member.UserID)] = append(present[snowflake.ID(m.Member.UserID)], i)
			}
			if m.SelfMute.Has(i) {
				muted[snowflake.ID(m.Member.UserID)] = append(muted[snowflake.ID(m.Member.UserID)], i)
			}
		}
	}
	return present, muted, occs[0]
}

func TestE2EEventIsRecordedAndReportedOnce(t *testing.T) {
	clk := clock.NewFake(at(15, 59, 50))
	w := apptest.NewWorld(t, clk)
	h := apptest.New(t, w, clk, w.ConfigText(`"16:00"`, "60m"))
	u := w.Members
	// Before the bot starts: Alexey and the music bot already sit in БЗС,
	// Andy idles in AFK, Chris in a channel that is not watched.
	w.Sim.SetVoice(w.Guild, u["alexey"], w.BZS, discordsim.VoiceFlags{})
	w.Sim.SetVoice(w.Guild, u["musicbot"], w.BZS, discordsim.VoiceFlags{})
	w.Sim.SetVoice(w.Guild, u["afk_andy"], w.AFK, discordsim.VoiceFlags{})
	w.Sim.SetVoice(w.Guild, u["chill_chris"], w.Chill, discordsim.VoiceFlags{})
	h.Start()

	script := map[time.Time]func(){
		at(16, 10, 0):  func() { h.SetVoice(u["zoe"], w.BZS, discordsim.VoiceFlags{}) },
		at(16, 15, 30): func() { h.SetVoice(u["muted_masha"], w.BZS2, discordsim.VoiceFlags{SelfMute: true}) },
		at(16, 20, 0):  func() { h.SetVoice(u["zoe"], w.Chill, discordsim.VoiceFlags{}) },
		at(16, 30, 0):  func() { h.SetVoice(u["alexey"], 0, discordsim.VoiceFlags{}) },
		at(16, 40, 0):  func() { h.SetVoice(u["zoe"], w.BZS2, discordsim.VoiceFlags{}) },
		at(16, 45, 30): func() { h.SetVoice(u["muted_masha"], 0, discordsim.VoiceFlags{}) },
		at(16, 59, 55): func() { h.SetVoice(u["late_lena"], w.BZS, discordsim.VoiceFlags{SelfDeaf: true}) },
	}
	h.RunUntil(at(17, 0, 5), script)

	// Independently computed: a minute counts when a 5-second poll inside it
	// saw the member in a БЗС channel.
	want := map[snowflake.ID][]int{
		u["alexey"]:      span(0, 29),
		u["zoe"]:         append(span(10, 19), span(40, 59)...),
		u["muted_masha"]: span(15, 45),
		u["late_lena"]:   {59},
	}
	present, muted, occ := storedMinutes(t, h.App.Store, w.Guild)
	if len(present) != len(want) {
		t.Errorf("stored members = %d, want %d (AFK, unwatched channel and bots must add nothing): %v", len(present), len(want), present)
	}
	for id, mins := range want {
		if !slices.Equal(present[id], mins) {
			t.Errorf("user %d minutes = %v, want %v", id, present[id], mins)
		}
	}
	if !slices.Equal(muted[u["muted_masha"]], span(15, 45)) || len(muted[u["zoe"]]) != 0 {
		t.Errorf("self-mute minutes: masha %v zoe %v", muted[u["muted_masha"]], muted[u["zoe"]])
	}
	if !occ.Start.Equal(at(16, 0, 0)) || !occ.End.Equal(at(17, 0, 0)) {
		t.Errorf("occurrence %v-%v", occ.Start, occ.End)
	}

	// Participants 4; totals 30 + 30 + 31 + 1 = 92; median of 1,30,30,31 = 30.
	for _, ch := range []snowflake.ID{w.Reports, w.Reports2} {
		msgs := w.Sim.Messages(ch)
		if len(msgs) != 1 {
			t.Fatalf("channel %d got %d messages, want exactly 1", ch, len(msgs))
		}
		checkReport(t, msgs[0], "БЗС · Fri 27 Nov 2026, 16:00–17:00 MSK", 4, 92, "30")
	}
	// The bot's presence showed the running event and who was in voice.
	var presences []string
	for _, f := range w.Sim.Frames() {
		if !f.Out && f.Op == 3 {
			presences = append(presences, f.Data)
		}
	}
	if !slices.ContainsFunc(presences, func(d string) bool { return strings.Contains(d, "БЗС 16:00 · 2 in voice") }) ||
		!strings.Contains(presences[len(presences)-1], "Next: БЗС Sat 16:00") {
		t.Errorf("presence updates %q", presences)
	}
	// Nothing more is posted later.
	h.RunUntil(at(17, 2, 0), nil)
	if n := len(w.Sim.Messages(w.Reports)); n != 1 {
		t.Fatalf("%d messages after more ticks", n)
	}
}

func checkReport(t *testing.T, m discordsim.Message, title string, participants, total int, median string) {
	t.Helper()
	if len(m.Embeds) != 1 {
		t.Fatalf("report has %d embeds: %+v", len(m.Embeds), m)
	}
	e := m.Embeds[0]
	if e.Title != title {
		t.Errorf("title = %q, want %q", e.Title, title)
	}
	fields := map[string]string{}
	for _, f := range e.Fields {
		fields[f.Name] = f.Value
	}
	if fields["Participants"] != fmt.Sprint(participants) || fields["Total minutes"] != fmt.Sprint(total) || fields["Median minutes"] != median {
		t.Errorf("fields = %v, want participants %d total %d median %s", fields, participants, total, median)
	}
	if len(m.Files) != 1 || m.Files[0].Name != "timeline.png" {
		t.Fatalf("files = %+v", m.Files)
	}
	if e.Image == nil || !strings.HasSuffix(e.Image.URL, "/timeline.png") {
		t.Errorf("embed image = %+v", e.Image)
	}
	if len(m.Files[0].Data) >= 1<<20 {
		t.Errorf("PNG is %d bytes, want under 1 MB", len(m.Files[0].Data))
	}
	img := apptest.DecodePNG(t, m.Files[0].Data)
	if b := img.Bounds(); b.Dx() < 800 || b.Dy() < 100 {
		t.Errorf("PNG is %dx%d", b.Dx(), b.Dy())
	}
	if got := apptest.FilledBands(img, 12); got != participants+legendBands {
		t.Errorf("PNG shows %d filled bands, want %d participants + %d legend", got, participants, legendBands)
	}
}

// legendBands is how many bands the timeline's legend adds above the rows.
const legendBands = 1

func TestE2EMidnightEventIsReportedUnderItsStartDate(t *testing.T) {
	clk := clock.NewFake(at(22, 59, 50))
	w := apptest.NewWorld(t, clk)
	h := apptest.New(t, w, clk, w.ConfigText(`"23:00"`, "60m"))
	w.Sim.SetVoice(w.Guild, w.Members["alexey"], w.BZS, discordsim.VoiceFlags{})
	h.Start()
	h.RunUntil(at(24, 0, 5), map[time.Time]func(){
		at(23, 30, 0): func() { h.SetVoice(w.Members["alexey"], 0, discordsim.VoiceFlags{}) },
	})
	msgs := w.Sim.Messages(w.Reports)
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	checkReport(t, msgs[0], "БЗС · Fri 27 Nov 2026, 23:00–00:00 MSK", 1, 30, "30")
}

func TestE2ERestartMidEventKeepsMinutesAndReportsOnce(t *testing.T) {
	clk := clock.NewFake(at(15, 59, 50))
	w := apptest.NewWorld(t, clk)
	h := apptest.New(t, w, clk, w.ConfigText(`"16:00"`, "60m"))
	w.Sim.SetVoice(w.Guild, w.Members["alexey"], w.BZS, discordsim.VoiceFlags{})
	h.Start()
	h.RunUntil(at(16, 20, 0), nil)
	h.Stop()
	// Down for four minutes: nobody records 16:20:05-16:24:55.
	h.Clock.Set(at(16, 24, 58))
	h.Start()
	h.RunUntil(at(17, 0, 5), nil)
	present, _, _ := storedMinutes(t, h.App.Store, w.Guild)
	wantMins := append(span(0, 20), span(25, 59)...)
	if got := present[w.Members["alexey"]]; !slices.Equal(got, wantMins) {
		t.Fatalf("minutes = %v, want %v", got, wantMins)
	}
	for _, ch := range []snowflake.ID{w.Reports, w.Reports2} {
		msgs := w.Sim.Messages(ch)
		if len(msgs) != 1 {
			t.Fatalf("channel %d got %d messages, want 1", ch, len(msgs))
		}
		checkReport(t, msgs[0], "БЗС · Fri 27 Nov 2026, 16:00–17:00 MSK", 1, 56, "56")
		if f := msgs[0].Embeds[0].Footer; f == nil || !strings.Contains(f.Text, "Not recorded 16:21–16:25") {
			t.Errorf("the downtime is not shown: %+v", f)
		}
	}
	// A third start after the event posts nothing again.
	h.Stop()
	h.Clock.Set(at(17, 10, 0))
	h.Start()
	h.RunUntil(at(17, 11, 0), nil)
	if n := len(w.Sim.Messages(w.Reports)); n != 1 {
		t.Fatalf("%d messages after another restart", n)
	}
}

// A channel name that matches nothing is logged with its key, and the bot
// records the rest anyway: one typo must not silence a whole server.
func TestE2EUnknownChannelNameIsLoggedAndTheRestRecorded(t *testing.T) {
	clk := clock.NewFake(at(15, 59, 50))
	w := apptest.NewWorld(t, clk)
	text := strings.Replace(w.ConfigText(`"16:00"`, "60m"), `voice_channel_names = ["БЗС"]`, `voice_channel_names = ["БЗС", "Рейд"]`, 1)
	h := apptest.New(t, w, clk, text)
	w.Sim.SetVoice(w.Guild, w.Members["alexey"], w.BZS, discordsim.VoiceFlags{})
	h.Start()
	log := h.Logs.Text()
	if !strings.Contains(log, "guilds[0].schedules[0].voice_channel_names[1]") || !strings.Contains(log, "Рейд") {
		t.Fatal("the channel name that matches nothing is not logged with its key")
	}
	h.RunUntil(at(16, 10, 0), nil)
	if got := minutesOf(t, h, w, "alexey"); len(got) != 11 {
		t.Fatalf("minutes = %v, want 0-10 recorded anyway", got)
	}
}

func TestE2EEmptyEventPostsShortText(t *testing.T) {
	clk := clock.NewFake(at(15, 59, 50))
	w := apptest.NewWorld(t, clk)
	h := apptest.New(t, w, clk, w.ConfigText(`"16:00"`, "15m"))
	h.Start()
	h.RunUntil(at(16, 15, 5), nil)
	msgs := w.Sim.Messages(w.Reports)
	if len(msgs) != 1 || len(msgs[0].Embeds) != 1 || msgs[0].Embeds[0].Description != "Nobody attended." || len(msgs[0].Files) != 0 {
		t.Fatalf("messages = %+v", msgs)
	}
	_ = discord.ChannelTypeGuildText
}
