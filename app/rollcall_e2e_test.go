package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"

	"rollcall/app/apptest"
	"rollcall/clock"
	"rollcall/config"
	"rollcall/discordsim"
	"rollcall/settings"
)

// discordOnly is a harness whose config file lists no guild: the world's
// guild is set up from Discord.
func discordOnly(t *testing.T, start time.Time) (*apptest.World, *apptest.Harness) {
	t.Helper()
	clk := clock.NewFake(start)
	w := apptest.NewWorld(t, clk)
	h := apptest.New(t, w, clk, "poll_interval = \"5s\"\n")
	return w, h
}

// rc runs /rollcall <sub> as user and returns the reply's text (content,
// or the first embed's description).
func rc(t *testing.T, w *apptest.World, user snowflake.ID, sub string, opts ...discordsim.Option) *discordsim.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := w.Sim.Invoke(ctx, discordsim.Invocation{GuildID: w.Guild, UserID: user, Command: "rollcall", Subcommand: sub, Options: opts, Locale: "en-US"})
	if err != nil {
		t.Fatalf("/rollcall %s: %v", sub, err)
	}
	if r.Failed {
		t.Fatalf("/rollcall %s was not acknowledged", sub)
	}
	return r
}

func text(r *discordsim.Response) string {
	if r.Content != "" {
		return r.Content
	}
	if len(r.Embeds) > 0 {
		return r.Embeds[0].Description
	}
	return ""
}

func o(name string, v any) discordsim.Option { return discordsim.Option{Name: name, Value: v} }

// A guild in no file: the bot says hello once, a moderator sets it up and
// adds an event, the event is recorded and reported, the moderator moves it
// to another channel, and the next event is recorded there: all without a
// restart.
func TestE2ESetUpFromDiscordAndChangeLive(t *testing.T) {
	w, h := discordOnly(t, time.Date(2026, 11, 26, 15, 0, 0, 0, msk))
	system := w.Sim.AddChannel(w.Guild, "general", discord.ChannelTypeGuildText)
	w.Sim.SetSystemChannel(w.Guild, system)
	h.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hello, err := w.Sim.WaitMessages(ctx, system, 1)
	if err != nil || !strings.Contains(hello[0].Content, "/rollcall setup") {
		t.Fatalf("no hello in the system channel: %v %+v", err, hello)
	}
	owner := w.Sim.GuildOwner(w.Guild)
	zoe := w.Members["zoe"]

	// Not set up yet: other commands say what to do.
	ev := invokeAs(t, w, zoe, "event")
	if !strings.Contains(ev.Content, "a moderator can run /rollcall setup") {
		t.Fatalf("/event in a guild not set up: %q", ev.Content)
	}
	r := rc(t, w, owner, "setup", o("timezone", "Europe/Moscow"), o("report_channel", w.Reports), o("language", "ru"))
	if !strings.Contains(text(r), "Europe/Moscow") {
		t.Fatalf("setup: %q", text(r))
	}
	r = rc(t, w, owner, "schedule add", o("name", "БЗС"), o("times", "16:00"), o("duration", "60m"), o("voice_channel", w.BZS))
	if !strings.Contains(text(r), "БЗС") || !strings.Contains(text(r), "16:00") {
		t.Fatalf("schedule add: %q", text(r))
	}
	h.SetVoice(w.Members["alexey"], w.BZS, discordsim.VoiceFlags{})
	h.RunUntil(time.Date(2026, 11, 26, 17, 0, 5, 0, msk), nil)
	msgs := posts(w, w.Reports)
	if len(msgs) != 1 || len(msgs[0].Embeds) != 1 || !strings.HasPrefix(msgs[0].Embeds[0].Title, "БЗС · чт 26 ноя 2026") {
		t.Fatalf("the first event's report (in Russian, as set up): %+v", msgs)
	}
	// Moved to another channel: the next event records there only.
	r = rc(t, w, owner, "schedule edit", o("schedule", "БЗС"), o("voice_channel", w.Chill))
	if !strings.Contains(text(r), "voice_channels") {
		t.Fatalf("schedule edit: %q", text(r))
	}
	h.SetVoice(w.Members["zoe"], w.Chill, discordsim.VoiceFlags{})
	// Through the night at once: nothing runs until the next event.
	h.WaitParked()
	h.Clock.Set(time.Date(2026, 11, 27, 15, 59, 0, 0, msk))
	h.RunUntil(time.Date(2026, 11, 27, 17, 0, 5, 0, msk), nil)
	second := time.Date(2026, 11, 27, 16, 0, 0, 0, msk)
	if got := minutesIn(t, h, w, "zoe", second); got != 60 {
		t.Fatalf("zoe in the new channel: %d minutes, want 60", got)
	}
	if got := minutesIn(t, h, w, "alexey", second); got != 0 {
		t.Fatalf("alexey, still in the old channel, has %d minutes in the second event: want 0", got)
	}
	if got := minutesIn(t, h, w, "alexey", time.Date(2026, 11, 26, 16, 0, 0, 0, msk)); got != 60 {
		t.Fatalf("alexey in the first event: %d minutes, want 60", got)
	}
	if n := len(posts(w, w.Reports)); n != 2 {
		t.Fatalf("%d reports, want 2", n)
	}
	if n := len(w.Sim.Messages(system)); n != 1 {
		t.Fatalf("%d hellos, want 1", n)
	}
	// Every change is in the log with who made it and the values.
	r = rc(t, w, owner, "log")
	for _, want := range []string{"schedules[БЗС].voice_channels", "timezone", "Owner"} {
		if !strings.Contains(text(r), want) {
			t.Errorf("log lacks %q:\n%s", want, text(r))
		}
	}
}

// invokeAs runs a slash command without options.
func invokeAs(t *testing.T, w *apptest.World, user snowflake.ID, command string) *discordsim.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := w.Sim.Invoke(ctx, discordsim.Invocation{GuildID: w.Guild, UserID: user, Command: command, Locale: "en-US"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Every bad input is refused with a message that names the option and
// shows what works, and nothing is stored.
func TestE2ERollcallRefusesBadInput(t *testing.T) {
	w, h := discordOnly(t, time.Date(2026, 11, 26, 12, 0, 0, 0, msk))
	h.Start()
	owner := w.Sim.GuildOwner(w.Guild)
	rc(t, w, owner, "setup", o("timezone", "Europe/Moscow"), o("report_channel", w.Reports))
	rc(t, w, owner, "schedule add", o("name", "БЗС"), o("times", "16:00"), o("voice_channel", w.BZS))
	hidden := w.Sim.AddChannel(w.Guild, "secret", discord.ChannelTypeGuildText)
	w.Sim.SetChannelOverwrite(w.Guild, hidden, discordsim.Overwrite{ID: w.Sim.BotRole(w.Guild), Deny: discord.PermissionEmbedLinks})
	st := h.Store()
	version := func() int {
		s, err := st.GuildSetting(context.Background(), uint64(w.Guild))
		if err != nil {
			t.Fatal(err)
		}
		return s.Version
	}
	before := version()
	for _, tc := range []struct {
		name string
		sub  string
		opts []discordsim.Option
		want []string
	}{
		{"time without a leading zero", "schedule add", []discordsim.Option{o("name", "Raid"), o("times", "7:00"), o("voice_channel", w.BZS2)},
			[]string{"**times**", `"7:00" is not a time of day`, "07:00,16:00"}},
		{"bad day", "schedule add", []discordsim.Option{o("name", "Raid"), o("times", "21:00"), o("days", "mon,funday"), o("voice_channel", w.BZS2)},
			[]string{"**days**", `"funday" is not a day`}},
		{"bad duration", "schedule add", []discordsim.Option{o("name", "Raid"), o("times", "21:00"), o("duration", "an hour"), o("voice_channel", w.BZS2)},
			[]string{"**duration**", "60m"}},
		{"duration too long", "schedule add", []discordsim.Option{o("name", "Raid"), o("times", "21:00"), o("duration", "25h"), o("voice_channel", w.BZS2)},
			[]string{"**duration**", "out of range"}},
		{"no voice channel", "schedule add", []discordsim.Option{o("name", "Raid"), o("times", "21:00")},
			[]string{"voice_channel", "voice_name"}},
		{"a text channel as voice", "schedule add", []discordsim.Option{o("name", "Raid"), o("times", "21:00"), o("voice_channel", w.Reports2)},
			[]string{"**voice_channel**", "not a voice or stage channel"}},
		{"duplicate name", "schedule add", []discordsim.Option{o("name", "бзс"), o("times", "10:00"), o("voice_channel", w.BZS2)},
			[]string{"**name**", "used by another schedule"}},
		{"overlapping schedule", "schedule add", []discordsim.Option{o("name", "Raid"), o("times", "16:30"), o("voice_channel", w.BZS)},
			[]string{"**times**", "overlaps", "БЗС"}},
		{"report channel the bot cannot post in", "schedule add", []discordsim.Option{o("name", "Raid"), o("times", "21:00"), o("voice_channel", w.BZS2), o("report_channel", hidden)},
			[]string{"**report_channel**", "Embed Links"}},
		{"late after longer than the event", "schedule add", []discordsim.Option{o("name", "Raid"), o("times", "21:00"), o("voice_channel", w.BZS2), o("late_after", "90m")},
			[]string{"**late_after**", "out of range"}},
		{"unknown schedule", "schedule edit", []discordsim.Option{o("schedule", "Nope"), o("times", "10:00")},
			[]string{`no event "Nope"`}},
		{"bad time zone", "set timezone", []discordsim.Option{o("value", "Europe/Mordor")},
			[]string{"**value**", "not an IANA time zone"}},
		{"weekly time", "set weekly", []discordsim.Option{o("time", "25:00")},
			[]string{"**time**", "not a time of day"}},
		{"nothing to change", "set weekly", nil, []string{"at least one"}},
		{"retention not in days", "set privacy", []discordsim.Option{o("retention", "a year")}, []string{"**retention**", "365d"}},
		{"retention too short", "set privacy", []discordsim.Option{o("retention", "3d")}, []string{"**retention**", "out of range"}},
		{"the same value again", "set timezone", []discordsim.Option{o("value", "Europe/Moscow")}, []string{"Nothing changed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rc(t, w, owner, tc.sub, tc.opts...)
			got := text(r)
			for _, want := range tc.want {
				if !strings.Contains(got, want) {
					t.Errorf("answer %q lacks %q", got, want)
				}
			}
			if !r.Ephemeral {
				t.Error("the refusal is not private")
			}
		})
	}
	if after := version(); after != before {
		t.Errorf("settings changed from version %d to %d by refused commands", before, after)
	}
	t.Run("a member without permission", func(t *testing.T) {
		r := rc(t, w, w.Members["zoe"], "schedule add", o("name", "Raid"), o("times", "21:00"), o("voice_channel", w.BZS2))
		if !strings.Contains(text(r), "for moderators") {
			t.Errorf("answer %q", text(r))
		}
	})
	t.Run("the same in Russian", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		r, err := w.Sim.Invoke(ctx, discordsim.Invocation{GuildID: w.Guild, UserID: owner, Command: "rollcall", Subcommand: "schedule add",
			Options: []discordsim.Option{o("name", "Рейд"), o("times", "7:00"), o("voice_channel", w.BZS2)}, Locale: "ru"})
		if err != nil {
			t.Fatal(err)
		}
		if got := text(r); !strings.Contains(got, "**время**") || !strings.Contains(got, "не время") {
			t.Errorf("answer %q", got)
		}
	})
}

// A guild of the file: /rollcall shows its settings and refuses changes.
func TestE2ERollcallFileManagedGuild(t *testing.T) {
	w, h := oneEvent(t, at(12, 0, 0))
	h.Start()
	owner := w.Sim.GuildOwner(w.Guild)
	r := rc(t, w, owner, "set timezone", o("value", "Asia/Tokyo"))
	if !strings.Contains(text(r), "managed in config.toml on the host") {
		t.Fatalf("a change to a file guild: %q", text(r))
	}
	r = rc(t, w, owner, "settings")
	if !strings.Contains(text(r), "config.toml on the host") || !strings.Contains(text(r), `timezone = "Europe/Moscow"`) {
		t.Fatalf("settings of a file guild: %q", text(r))
	}
}

// Two processes on one database: a change made through one is applied by
// the other by its next tick.
func TestE2ERollcallChangeAppliedByOtherProcess(t *testing.T) {
	w, h := discordOnly(t, time.Date(2026, 11, 26, 15, 59, 0, 0, msk))
	twin := h.Twin()
	h.Start()
	twin.Start()
	owner := w.Sim.GuildOwner(w.Guild)
	rc(t, w, owner, "setup", o("timezone", "Europe/Moscow"), o("report_channel", w.Reports))
	r := rc(t, w, owner, "schedule add", o("name", "БЗС"), o("times", "16:00"), o("voice_channel", w.BZS))
	if !strings.Contains(text(r), "БЗС") {
		t.Fatal(text(r))
	}
	// Whichever process answered, both know the schedule one tick later.
	h.RunUntil(h.Clock.Now().Add(5*time.Second), nil)
	for _, x := range []*apptest.Harness{h, twin} {
		g, ok := x.App.Settings.Get(uint64(w.Guild))
		if !ok || g.ScheduleByName("БЗС") == nil {
			t.Fatalf("a process does not know the new schedule after one tick: %+v", g)
		}
	}
}

// What /rollcall export gives loads as a config.toml into the same
// settings.
func TestE2ERollcallExportRoundTrips(t *testing.T) {
	w, h := discordOnly(t, time.Date(2026, 11, 26, 12, 0, 0, 0, msk))
	h.Start()
	owner := w.Sim.GuildOwner(w.Guild)
	rc(t, w, owner, "setup", o("timezone", "Europe/Moscow"), o("report_channel", w.Reports), o("name", "БЗС"),
		o("times", "07:00,16:00"), o("days", "mon,wed"), o("voice_name", "бзс"))
	rc(t, w, owner, "schedule add", o("name", "Raid"), o("times", "21:00"), o("duration", "1h30m"), o("voice_channel", w.Chill),
		o("count_muted", false), o("late_after", "10m"))
	rc(t, w, owner, "set weekly", o("day", "sun"), o("time", "21:30"), o("channel", w.Reports2))
	r := rc(t, w, owner, "export")
	if len(r.Files) != 1 {
		t.Fatalf("export: %+v", r)
	}
	cfg, err := config.Parse(string(r.Files[0].Data), func(k string) string {
		return map[string]string{"DISCORD_TOKEN": w.Sim.Token()}[k]
	})
	if err != nil {
		t.Fatalf("the export does not load: %v\n%s", err, r.Files[0].Data)
	}
	got := cfg.Validated[0]
	want, _ := h.App.Settings.Get(uint64(w.Guild))
	a, _ := json.Marshal(got.Spec)
	b, _ := json.Marshal(want.Spec)
	if string(a) != string(b) {
		t.Fatalf("export round trip:\n got %s\nwant %s", a, b)
	}
	gs := []*settings.Guild{got, want}
	for _, g := range gs {
		g.Key, g.Source, g.Version, g.Location = "", 0, 0, nil
		for i := range g.Schedules {
			g.Schedules[i].Key, g.Schedules[i].Parsed.Location = "", nil
		}
	}
	if !reflect.DeepEqual(got.Schedules, want.Schedules) || !slices.Equal(got.ReportChannels, want.ReportChannels) || !reflect.DeepEqual(got.Weekly, want.Weekly) {
		t.Fatalf("export loads into other settings:\n got %+v\nwant %+v", got, want)
	}
}

// posts are a channel's messages that are not replies to commands.
func posts(w *apptest.World, ch snowflake.ID) []discordsim.Message {
	var out []discordsim.Message
	for _, m := range w.Sim.Messages(ch) {
		if !m.Interaction {
			out = append(out, m)
		}
	}
	return out
}

// minutesIn counts a member's stored minutes in the occurrence starting at start.
func minutesIn(t *testing.T, h *apptest.Harness, w *apptest.World, user string, start time.Time) int {
	t.Helper()
	st := h.Store()
	occs, err := st.Occurrences(context.Background(), uint64(w.Guild), start, start.Add(time.Second))
	if err != nil || len(occs) != 1 {
		t.Fatalf("occurrences at %s: %+v, %v", start, occs, err)
	}
	mm, _, err := st.OccurrenceMinutes(context.Background(), occs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mm {
		if m.Member.UserID == uint64(w.Members[user]) {
			return m.Present.Count()
		}
	}
	return 0
}

// A schedule edited while its event runs: the running event finishes
// under the settings it started with, the reply says so.
func TestE2ERollcallEditWhileRunning(t *testing.T) {
	w, h := discordOnly(t, time.Date(2026, 11, 27, 15, 59, 0, 0, msk))
	h.Start()
	owner := w.Sim.GuildOwner(w.Guild)
	rc(t, w, owner, "setup", o("timezone", "Europe/Moscow"), o("report_channel", w.Reports))
	rc(t, w, owner, "schedule add", o("name", "БЗС"), o("times", "16:00"), o("voice_channel", w.BZS))
	h.SetVoice(w.Members["alexey"], w.BZS, discordsim.VoiceFlags{})
	h.RunUntil(at(16, 10, 0), nil)
	r := rc(t, w, owner, "schedule edit", o("schedule", "БЗС"), o("voice_channel", w.Chill), o("duration", "30m"))
	if !strings.Contains(text(r), "finishes as it started") {
		t.Fatalf("edit while running: %q", text(r))
	}
	h.RunUntil(at(17, 0, 5), nil)
	if got := minutesIn(t, h, w, "alexey", at(16, 0, 0)); got != 60 {
		t.Fatalf("the running event recorded %d minutes in the old channel, want all 60", got)
	}
}

// Two moderators change the same schedule from what they each picked:
// the second is told it changed meanwhile and shown what it says now.
func TestE2ERollcallConcurrentEditsAreNotLost(t *testing.T) {
	w, h := discordOnly(t, time.Date(2026, 11, 26, 12, 0, 0, 0, msk))
	mods := w.Sim.AddRole(w.Guild, "Mods", discord.PermissionManageGuild)
	w.Sim.UpdateMember(w.Guild, w.Members["zoe"], discordsim.MemberSpec{Username: "zoe", GlobalName: "Zoë ⚔️", Roles: []snowflake.ID{mods}})
	h.Start()
	owner, zoe := w.Sim.GuildOwner(w.Guild), w.Members["zoe"]
	rc(t, w, owner, "setup", o("timezone", "Europe/Moscow"), o("report_channel", w.Reports))
	rc(t, w, owner, "schedule add", o("name", "БЗС"), o("times", "16:00"), o("voice_channel", w.BZS))
	pick := func(user snowflake.ID) string {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		choices, err := w.Sim.Autocomplete(ctx, discordsim.Invocation{GuildID: w.Guild, UserID: user, Command: "rollcall", Subcommand: "schedule edit",
			Options: []discordsim.Option{{Name: "schedule", Value: "бз", Focused: true}}})
		if err != nil || len(choices) != 1 {
			t.Fatalf("choices %+v, %v", choices, err)
		}
		return choices[0].(discord.AutocompleteChoiceString).Value
	}
	a, b := pick(owner), pick(zoe)
	if r := rc(t, w, owner, "schedule edit", o("schedule", a), o("times", "17:00")); !strings.Contains(text(r), "17:00") {
		t.Fatalf("first edit: %q", text(r))
	}
	r := rc(t, w, zoe, "schedule edit", o("schedule", b), o("duration", "90m"))
	if !strings.Contains(text(r), "changed meanwhile") || !strings.Contains(text(r), `"17:00"`) {
		t.Fatalf("second edit of the old version: %q", text(r))
	}
	g, _ := h.App.Settings.Get(uint64(w.Guild))
	if s := g.ScheduleByName("БЗС"); s.Parsed.Starts[0].String() != "17:00" || s.Duration != time.Hour {
		t.Fatalf("schedule now %+v", s)
	}
}

// Removing a schedule keeps its history; deleting the history too asks
// first, and only the confirm button deletes.
func TestE2ERollcallRemoveScheduleAndHistory(t *testing.T) {
	w, h := discordOnly(t, time.Date(2026, 11, 27, 15, 59, 0, 0, msk))
	h.Start()
	owner := w.Sim.GuildOwner(w.Guild)
	rc(t, w, owner, "setup", o("timezone", "Europe/Moscow"), o("report_channel", w.Reports))
	rc(t, w, owner, "schedule add", o("name", "БЗС"), o("times", "16:00"), o("voice_channel", w.BZS))
	h.SetVoice(w.Members["alexey"], w.BZS, discordsim.VoiceFlags{})
	h.RunUntil(at(17, 0, 5), nil)
	r := rc(t, w, owner, "schedule remove", o("schedule", "БЗС"), o("delete_history", true))
	if r.Message == nil || len(r.Message.Buttons) != 2 || !strings.Contains(text(r), "cannot be undone") {
		t.Fatalf("no confirmation: %+v", r)
	}
	occs, _ := h.Store().Occurrences(context.Background(), uint64(w.Guild), at(0, 0, 0), at(23, 0, 0))
	if len(occs) != 1 {
		t.Fatalf("history touched before the confirmation: %d events", len(occs))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	clicked, err := w.Sim.Click(ctx, discordsim.ClickSpec{GuildID: w.Guild, UserID: owner, MessageID: r.Message.ID, CustomID: r.Message.Buttons[0].CustomID})
	if err != nil {
		t.Fatal(err)
	}
	// The answer comes after the deferred update: wait for the edit.
	if _, err := w.Sim.WaitMessage(ctx, r.Message.ID, func(m discordsim.Message) bool { return strings.Contains(m.Content, "were deleted") }); err != nil {
		t.Fatalf("the confirmation did not report the deletion: %v (%+v)", err, clicked)
	}
	occs, _ = h.Store().Occurrences(context.Background(), uint64(w.Guild), at(0, 0, 0), at(23, 0, 0))
	g, _ := h.App.Settings.Get(uint64(w.Guild))
	if len(occs) != 0 || g.ScheduleByName("БЗС") != nil {
		t.Fatalf("after deleting: %d events, schedule %v", len(occs), g.ScheduleByName("БЗС"))
	}
}

// Without permission to post in the system channel the bot stays quiet.
func TestE2EHelloOnlyWhereAllowed(t *testing.T) {
	w, h := discordOnly(t, time.Date(2026, 11, 26, 12, 0, 0, 0, msk))
	system := w.Sim.AddChannel(w.Guild, "general", discord.ChannelTypeGuildText)
	w.Sim.SetSystemChannel(w.Guild, system)
	w.Sim.SetChannelOverwrite(w.Guild, system, discordsim.Overwrite{ID: w.Sim.BotRole(w.Guild), Deny: discord.PermissionSendMessages})
	h.Start()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(h.Logs.Text(), "not saying hello") {
		if time.Now().After(deadline) {
			t.Fatal("the bot never decided about its hello")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := len(w.Sim.Messages(system)); n != 0 {
		t.Fatalf("%d messages where the bot may not post", n)
	}
}

// A guild set up a moment ago by another process, whose notification has
// not arrived: /rollcall looks in the database before saying "not set up".
func TestE2ERollcallSetUpElsewhereJustNow(t *testing.T) {
	w, h := discordOnly(t, time.Date(2026, 11, 26, 12, 0, 0, 0, msk))
	h.Start()
	// What another process's /rollcall setup stored, without its NOTIFY.
	spec := fmt.Sprintf(`{"id":"%d","timezone":"Asia/Tokyo","report_channels":["%d"],"schedules":[]}`, w.Guild, w.Reports)
	if _, err := h.Store().Pool().Exec(context.Background(),
		`INSERT INTO guild_settings (guild_id, spec, version, updated_at, updated_by) VALUES ($1, $2, 1, now(), 1)`, int64(w.Guild), spec); err != nil {
		t.Fatal(err)
	}
	r := rc(t, w, w.Sim.GuildOwner(w.Guild), "settings")
	if !strings.Contains(fmt.Sprint(r.Content, r.Embeds, r.Files), "Asia/Tokyo") {
		t.Fatalf("/rollcall settings right after a setup elsewhere: %q %+v", r.Content, r.Embeds)
	}
}
