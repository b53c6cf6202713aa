package app_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"

	"rollcall/app/apptest"
	"rollcall/clock"
	"rollcall/discordsim"
)

// waitEventStatus waits until the bot's cache shows the scheduled event
// in status (or gone, for status 0), so the next tick acts on it.
func waitEventStatus(t *testing.T, h *apptest.Harness, guild, id snowflake.ID, status discord.ScheduledEventStatus, start time.Time) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		e, ok := h.App.Bot.Client().Caches.GuildScheduledEvent(guild, id)
		if status == 0 && !ok || ok && e.Status == status && e.ScheduledStartTime.Equal(start) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the bot never saw event %d in status %d", id, status)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// nativeWorld: the configured schedule runs in БЗС at 07:00 only, out of the
// way; the Discord event takes place in Чилл.
func nativeWorld(t *testing.T, start time.Time) (*apptest.World, *apptest.Harness) {
	clk := clock.NewFake(start)
	w := apptest.NewWorld(t, clk)
	h := apptest.New(t, w, clk, w.ConfigText(`"07:00"`, "60m"))
	return w, h
}

func TestE2ENativeEventComparesInterestWithAttendance(t *testing.T) {
	w, h := nativeWorld(t, at(15, 59, 50))
	u := w.Members
	spec := discordsim.ScheduledEventSpec{Name: "Рейд: крепость", ChannelID: w.Chill, Start: at(16, 0, 0), End: at(17, 0, 0),
		Status: discord.ScheduledEventStatusScheduled}
	ev := w.Sim.CreateScheduledEvent(w.Guild, spec)
	w.Sim.AddInterested(w.Guild, ev, u["alexey"])
	w.Sim.AddInterested(w.Guild, ev, u["zoe"])
	w.Sim.SetVoice(w.Guild, u["alexey"], w.Chill, discordsim.VoiceFlags{})
	h.Start()
	setStatus := func(s discord.ScheduledEventStatus) {
		spec.Status = s
		w.Sim.UpdateScheduledEvent(w.Guild, ev, spec)
		waitEventStatus(t, h, w.Guild, ev, s, spec.Start)
	}
	h.RunUntil(at(17, 0, 5), map[time.Time]func(){
		at(16, 0, 0):  func() { setStatus(discord.ScheduledEventStatusActive) },
		at(16, 5, 0):  func() { w.Sim.AddInterested(w.Guild, ev, u["muted_masha"]) }, // USER_ADD while it runs
		at(16, 10, 0): func() { h.SetVoice(u["chill_chris"], w.Chill, discordsim.VoiceFlags{}) },
		at(16, 20, 0): func() { h.SetVoice(u["muted_masha"], w.Chill, discordsim.VoiceFlags{}) },
		at(16, 45, 0): func() { setStatus(discord.ScheduledEventStatusCompleted) },
	})
	present, _, occ := storedMinutes(t, h.Store(), w.Guild)
	if !occ.Start.Equal(at(16, 0, 0)) || !occ.End.Equal(at(16, 45, 0)) || occ.NativeEventID != uint64(ev) {
		t.Errorf("occurrence %+v", occ)
	}
	for name, want := range map[string][]int{"alexey": span(0, 44), "chill_chris": span(10, 44), "muted_masha": span(20, 44)} {
		if got := present[u[name]]; !slices.Equal(got, want) {
			t.Errorf("%s minutes %v, want %v", name, got, want)
		}
	}
	for _, ch := range []snowflake.ID{w.Reports, w.Reports2} {
		msgs := w.Sim.Messages(ch)
		if len(msgs) != 1 || len(msgs[0].Embeds) != 1 {
			t.Fatalf("channel %d: %d messages", ch, len(msgs))
		}
		e := msgs[0].Embeds[0]
		if e.Title != "Рейд: крепость · Fri 27 Nov 2026, 16:00–16:45 MSK" {
			t.Errorf("title %q", e.Title)
		}
		groups := map[string]string{}
		for _, f := range e.Fields {
			groups[f.Name] = f.Value
		}
		want := map[string]string{
			"Interested and came (2)":           "Алексей 🎮, Маша 🎧",
			"Interested, did not come (1)":      "Zoë ⚔️",
			"Came without marking interest (1)": "chill\\_chris",
		}
		for k, v := range want {
			if groups[k] != v {
				t.Errorf("%s = %q, want %q (fields %v)", k, groups[k], v, groups)
			}
		}
		if groups["Participants"] != "3" {
			t.Errorf("participants %q", groups["Participants"])
		}
	}
	// /event and /member show the same comparison.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := w.Sim.Invoke(ctx, discordsim.Invocation{GuildID: w.Guild, UserID: u["zoe"], Command: "event", Locale: "en-US"})
	if err != nil {
		t.Fatal(err)
	}
	if got := fieldValue(r, "Interested, did not come (1)"); got != "Zoë ⚔️" {
		t.Errorf("/event: interested but absent = %q (%+v)", got, r.Embeds)
	}
	for name, want := range map[string]string{
		"zoe":         "Interested and came: 0 · Interested, did not come: 1 · Came without marking interest: 0",
		"chill_chris": "Interested and came: 0 · Interested, did not come: 0 · Came without marking interest: 1",
	} {
		r, err := w.Sim.Invoke(ctx, discordsim.Invocation{GuildID: w.Guild, UserID: u[name], Command: "member", Locale: "en-US",
			Options: []discordsim.Option{{Name: "period", Value: "7d"}}})
		if err != nil {
			t.Fatal(err)
		}
		if got := fieldValue(r, "Discord events (1)"); got != want {
			t.Errorf("/member for %s: %q, want %q", name, got, want)
		}
	}
}

func fieldValue(r *discordsim.Response, name string) string {
	for _, e := range r.Embeds {
		for _, f := range e.Fields {
			if f.Name == name {
				return f.Value
			}
		}
	}
	return ""
}

func TestE2ENativeEventRescheduledRecordsAtNewTime(t *testing.T) {
	w, h := nativeWorld(t, at(15, 59, 50))
	spec := discordsim.ScheduledEventSpec{Name: "Late raid", ChannelID: w.Chill, Start: at(16, 0, 0), End: at(16, 30, 0),
		Status: discord.ScheduledEventStatusScheduled}
	ev := w.Sim.CreateScheduledEvent(w.Guild, spec)
	w.Sim.SetVoice(w.Guild, w.Members["zoe"], w.Chill, discordsim.VoiceFlags{})
	h.Start()
	// Edited before it starts: now 16:10-16:40. Never started by hand, so
	// recording begins at the new scheduled start and ends at the new end.
	spec.Start, spec.End = at(16, 10, 0), at(16, 40, 0)
	w.Sim.UpdateScheduledEvent(w.Guild, ev, spec)
	waitEventStatus(t, h, w.Guild, ev, discord.ScheduledEventStatusScheduled, spec.Start)
	h.RunUntil(at(16, 41, 0), nil)
	present, _, occ := storedMinutes(t, h.Store(), w.Guild)
	if !occ.Start.Equal(at(16, 10, 0)) || !occ.End.Equal(at(16, 40, 0)) {
		t.Fatalf("occurrence %v–%v, want 16:10–16:40", occ.Start, occ.End)
	}
	if got := present[w.Members["zoe"]]; !slices.Equal(got, span(0, 29)) {
		t.Errorf("zoe minutes %v, want 0-29 of the moved event", got)
	}
	if n := len(w.Sim.Messages(w.Reports)); n != 1 {
		t.Fatalf("%d reports", n)
	}
}

func TestE2ENativeEventCanceledPostsNothing(t *testing.T) {
	w, h := nativeWorld(t, at(15, 59, 50))
	spec := discordsim.ScheduledEventSpec{Name: "Maybe", ChannelID: w.Chill, Start: at(16, 0, 0), End: at(17, 0, 0),
		Status: discord.ScheduledEventStatusScheduled}
	ev := w.Sim.CreateScheduledEvent(w.Guild, spec)
	w.Sim.SetVoice(w.Guild, w.Members["zoe"], w.Chill, discordsim.VoiceFlags{})
	h.Start()
	h.RunUntil(at(16, 5, 0), nil) // it began recording on its own at 16:00
	spec.Status = discord.ScheduledEventStatusCancelled
	w.Sim.UpdateScheduledEvent(w.Guild, ev, spec)
	waitEventStatus(t, h, w.Guild, ev, discord.ScheduledEventStatusCancelled, spec.Start)
	h.RunUntil(at(17, 5, 0), nil)
	for _, ch := range []snowflake.ID{w.Reports, w.Reports2} {
		if msgs := w.Sim.Messages(ch); len(msgs) != 0 {
			t.Fatalf("a canceled event posted %d messages: %+v", len(msgs), msgs[0])
		}
	}
}
