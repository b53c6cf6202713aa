package commands_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image"
	"os"
	"regexp"
	"strconv"
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

// at is a time in Moscow in November 2026; Friday the 27th is "today".
func at(day, hh, mm, ss int) time.Time { return time.Date(2026, 11, day, hh, mm, ss, 0, msk) }

// fixture is one running bot over a seeded guild.
type fixture struct {
	h               *apptest.Harness
	w               *apptest.World
	u               map[string]snowflake.ID // users by username
	owner           snowflake.ID            // Manage Server through ownership
	mods, raiders   snowflake.ID            // roles: configured moderators; a roster-free role
	other, stranger snowflake.ID            // a guild rollcall is not configured for, and its member
	occ             map[string]int64        // seeded occurrences by name
	ctx             context.Context
	cancel          context.CancelFunc
}

func configText(w *apptest.World, scope string, mods snowflake.ID) string {
	return fmt.Sprintf(`
poll_interval = "5s"
commands = %q
[[guilds]]
id = "%d"
timezone = "Europe/Moscow"
report_channels = ["%d"]
moderator_roles = ["%d"]
  [guilds.weekly_report]
  enabled = false
  [[guilds.schedules]]
  name = "БЗС"
  times = ["16:00"]
  duration = "60m"
  voice_channel_names = ["БЗС"]
`, scope, w.Guild, w.Reports, mods)
}

// newFixture starts the bot at Fri 27 Nov 2026 15:59:50 MSK over the
// standard world plus a moderator (by role), a raider and a second,
// unconfigured guild.
func newFixture(t *testing.T, scope string) *fixture {
	t.Helper()
	clk := clock.NewFake(at(27, 15, 59, 50))
	w := apptest.NewWorld(t, clk)
	f := &fixture{w: w, u: w.Members, occ: map[string]int64{}}
	f.owner = w.Sim.GuildOwner(w.Guild)
	f.mods = w.Sim.AddRole(w.Guild, "Модераторы", 0)
	f.raiders = w.Sim.AddRole(w.Guild, "Raiders", 0)
	monthAgo := clk.Now().AddDate(0, -1, 0)
	f.u["mod_mike"] = w.Sim.AddMember(w.Guild, discordsim.MemberSpec{Username: "mod_mike", GlobalName: "Mike", Roles: []snowflake.ID{f.mods}, JoinedAt: monthAgo})
	f.u["raider_rita"] = w.Sim.AddMember(w.Guild, discordsim.MemberSpec{Username: "raider_rita", GlobalName: "Рита 🛡️", Roles: []snowflake.ID{f.raiders}, JoinedAt: monthAgo})
	f.other = w.Sim.AddGuild("Чужой сервер")
	w.Sim.AddChannel(f.other, "general", discord.ChannelTypeGuildText)
	f.stranger = w.Sim.AddMember(f.other, discordsim.MemberSpec{Username: "stranger", JoinedAt: monthAgo})
	f.h = apptest.New(t, w, clk, configText(w, scope, f.mods))
	f.h.Start()
	f.ctx, f.cancel = context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(f.cancel)
	return f
}

// seat is one member's present minutes [from, to] in an occurrence.
type seat struct {
	user     string
	from, to int
}

// seed writes a 60-minute occurrence of БЗС at start with everyone's
// minutes, as the poller would have, and full coverage.
func (f *fixture) seed(t *testing.T, name string, start time.Time, seats ...seat) int64 {
	t.Helper()
	st := f.h.App.Store
	id, err := st.EnsureOccurrence(f.ctx, uint64(f.w.Guild), "БЗС", start, start.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var samples []store.Sample
	for _, s := range seats {
		var mask uint64
		for m := s.from; m <= s.to; m++ {
			mask |= 1 << m
		}
		samples = append(samples, store.Sample{OccurrenceID: id, UserID: uint64(f.u[s.user]), Present: mask})
	}
	if err := st.Record(f.ctx, samples, []store.Coverage{{OccurrenceID: id, Sampled: 1<<60 - 1}}); err != nil {
		t.Fatal(err)
	}
	f.occ[name] = id
	return id
}

// seedStandard is the history the expectations below are computed from.
// Late means first minute >= 5, left early means last minute < 55.
//
//	O1 Mon 16 Nov: alexey 0-59 (60), zoe 10-59 (50, late), masha 0-29 (30, left early)
//	O2 Wed 18 Nov: alexey 0-44 (45, left early), lena 0-59 (60)
//	O3 Fri 20 Nov: alexey 0-59 (60), zoe 0-59 (60), masha 20-39 (20, late and left early)
//	O4 Tue 24 Nov: alexey 0-59 (60), lena 30-59 (30, late)
//	O5 Thu 26 Nov: zoe 0-59 (60)
func (f *fixture) seedStandard(t *testing.T) {
	f.seed(t, "O1", at(16, 16, 0, 0), seat{"alexey", 0, 59}, seat{"zoe", 10, 59}, seat{"muted_masha", 0, 29})
	f.seed(t, "O2", at(18, 16, 0, 0), seat{"alexey", 0, 44}, seat{"late_lena", 0, 59})
	f.seed(t, "O3", at(20, 16, 0, 0), seat{"alexey", 0, 59}, seat{"zoe", 0, 59}, seat{"muted_masha", 20, 39})
	f.seed(t, "O4", at(24, 16, 0, 0), seat{"alexey", 0, 59}, seat{"late_lena", 30, 59})
	f.seed(t, "O5", at(26, 16, 0, 0), seat{"zoe", 0, 59})
}

// invoke runs a slash command as user in the configured guild and returns
// the final response; it fails the test if Discord would show "interaction failed".
func (f *fixture) invoke(t *testing.T, user snowflake.ID, command string, opts ...discordsim.Option) *discordsim.Response {
	t.Helper()
	return f.invokeIn(t, f.w.Guild, user, "", command, opts...)
}

func (f *fixture) invokeIn(t *testing.T, guild, user snowflake.ID, locale, command string, opts ...discordsim.Option) *discordsim.Response {
	t.Helper()
	r, err := f.w.Sim.Invoke(f.ctx, discordsim.Invocation{GuildID: guild, UserID: user, Command: command, Options: opts, Locale: locale})
	if err != nil {
		t.Fatal(err)
	}
	if r.Failed {
		t.Fatalf("/%s was not acknowledged within 3 s", command)
	}
	return r
}

func opt(name string, v any) discordsim.Option { return discordsim.Option{Name: name, Value: v} }

var countedHeading = regexp.MustCompile(`^(.*) \((\d+)\)$`)

func fields(t *testing.T, r *discordsim.Response) map[string]string {
	t.Helper()
	if len(r.Embeds) != 1 {
		t.Fatalf("want one embed, got %d (content %q)", len(r.Embeds), r.Content)
	}
	out := map[string]string{}
	for _, f := range r.Embeds[0].Fields {
		out[f.Name] = f.Value
		// A list's count is in its heading, "Never attended (4)": read it
		// as the field "Never attended" with the value "4" too.
		if m := countedHeading.FindStringSubmatch(f.Name); m != nil {
			out[m[1]] = m[2]
		}
	}
	return out
}

func wantFields(t *testing.T, r *discordsim.Response, want map[string]string) {
	t.Helper()
	got := fields(t, r)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("field %q = %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
}

// refusal checks an ephemeral text answer without embeds or files.
func refusal(t *testing.T, r *discordsim.Response, wants ...string) {
	t.Helper()
	if !r.Ephemeral {
		t.Errorf("refusal is not ephemeral: %q", r.Content)
	}
	if len(r.Embeds) != 0 || len(r.Files) != 0 {
		t.Errorf("refusal carries %d embeds and %d files", len(r.Embeds), len(r.Files))
	}
	for _, w := range wants {
		if !strings.Contains(r.Content, w) {
			t.Errorf("message %q does not contain %q", r.Content, w)
		}
	}
}

// chartPNG returns the decoded chart the embed shows.
func chartPNG(t *testing.T, r *discordsim.Response, name string) image.Image {
	t.Helper()
	if len(r.Embeds) != 1 || r.Embeds[0].Image == nil || !strings.HasSuffix(r.Embeds[0].Image.URL, "/"+name) {
		t.Fatalf("embed does not show %s: %+v", name, r.Embeds)
	}
	for _, f := range r.Files {
		if f.Name == name {
			if len(f.Data) >= 1<<20 {
				t.Errorf("%s is %d bytes, want under 1 MB", name, len(f.Data))
			}
			img := apptest.DecodePNG(t, f.Data)
			if b := img.Bounds(); b.Dx() < 800 || b.Dx() > 2400 || b.Dy() < 150 {
				t.Errorf("%s is %dx%d", name, b.Dx(), b.Dy())
			}
			return img
		}
	}
	t.Fatalf("no file %s among %d files", name, len(r.Files))
	return nil
}

// bands counts filled horizontal bands in the chart's colour: a timeline's
// rows plus its legend swatch, or a bar chart's non-zero bars.
func bands(img image.Image) int { return apptest.FilledBands(img, 12) }

func TestE2ECommandReports(t *testing.T) {
	f := newFixture(t, "guild")
	f.seedStandard(t)
	u := f.u

	t.Run("registered with Russian localizations and moderator defaults", func(t *testing.T) {
		cmds := f.w.Sim.Commands(f.w.Guild)
		if len(cmds) != 6 {
			t.Fatalf("%d guild commands registered, want 6", len(cmds))
		}
		if g := f.w.Sim.Commands(0); len(g) != 0 {
			t.Errorf("%d global commands with commands = \"guild\"", len(g))
		}
		want := map[string]struct{ ru, perms string }{
			"event": {"событие", ""}, "week": {"неделя", "32"}, "member": {"участник", ""}, "absent": {"отсутствующие", "32"},
			"rollcall": {"перекличка", "32"}, "privacy": {"приватность", ""},
		}
		for _, raw := range cmds {
			var c struct {
				Name, Description        string
				NameLocalizations        map[string]string `json:"name_localizations"`
				DescriptionLocalizations map[string]string `json:"description_localizations"`
				DefaultMemberPermissions *string           `json:"default_member_permissions"`
				Options                  []struct {
					Name                     string
					NameLocalizations        map[string]string `json:"name_localizations"`
					DescriptionLocalizations map[string]string `json:"description_localizations"`
				}
			}
			if err := json.Unmarshal(raw, &c); err != nil {
				t.Fatal(err)
			}
			w, ok := want[c.Name]
			if !ok {
				t.Errorf("unexpected command %q", c.Name)
				continue
			}
			if c.NameLocalizations["ru"] != w.ru || c.DescriptionLocalizations["ru"] == "" || c.DescriptionLocalizations["ru"] == c.Description {
				t.Errorf("/%s localizations: %v / %v", c.Name, c.NameLocalizations, c.DescriptionLocalizations)
			}
			perms := ""
			if c.DefaultMemberPermissions != nil {
				perms = *c.DefaultMemberPermissions
			}
			if perms != w.perms {
				t.Errorf("/%s default_member_permissions = %q, want %q", c.Name, perms, w.perms)
			}
			for _, o := range c.Options {
				if o.NameLocalizations["ru"] == "" || o.DescriptionLocalizations["ru"] == "" {
					t.Errorf("/%s option %s has no Russian name or description", c.Name, o.Name)
				}
			}
		}
	})

	t.Run("event/latest for a plain member", func(t *testing.T) {
		r := f.invoke(t, u["alexey"], "event")
		if !r.Deferred || !r.Ephemeral {
			t.Errorf("deferred %v ephemeral %v, want both", r.Deferred, r.Ephemeral)
		}
		if got := r.Embeds[0].Title; got != "БЗС · Thu 26 Nov 2026, 16:00–17:00 MSK" {
			t.Errorf("title %q", got)
		}
		wantFields(t, r, map[string]string{"Participants": "1", "Total minutes": "60", "Median minutes": "60"})
		if n := bands(chartPNG(t, r, "timeline.png")); n != 1+1 {
			t.Errorf("timeline shows %d bands, want 1 row + legend", n)
		}
	})

	t.Run("event/by id with late and left early, for a moderator, public", func(t *testing.T) {
		r := f.invoke(t, f.owner, "event", opt("event", strconv.FormatInt(f.occ["O1"], 10)), opt("public", true))
		if r.Ephemeral {
			t.Error("public:true answered ephemerally")
		}
		// 60 + 50 + 30 = 140; median of 30, 50, 60 = 50.
		wantFields(t, r, map[string]string{"Participants": "3", "Total minutes": "140", "Median minutes": "50",
			"Late · left early · partial": "1 · 1 · 0", "Late (1)": "Zoë ⚔️", "Left early (1)": "Маша 🎧"})
		if n := bands(chartPNG(t, r, "timeline.png")); n != 3+1 {
			t.Errorf("timeline shows %d bands, want 3 rows + legend", n)
		}
	})

	t.Run("event/by date", func(t *testing.T) {
		r := f.invoke(t, u["zoe"], "event", opt("date", "2026-11-20"))
		// 60 + 60 + 20 = 140; median 60; Masha both late and early.
		wantFields(t, r, map[string]string{"Participants": "3", "Total minutes": "140", "Median minutes": "60",
			"Late · left early · partial": "0 · 0 · 1", "Late and left early (1)": "Маша 🎧"})
		chartPNG(t, r, "timeline.png")
	})

	t.Run("event/in Russian", func(t *testing.T) {
		r := f.invokeIn(t, f.w.Guild, u["alexey"], "ru", "event", opt("event", strconv.FormatInt(f.occ["O2"], 10)))
		if got := r.Embeds[0].Title; got != "БЗС · ср 18 ноя 2026, 16:00–17:00 MSK" {
			t.Errorf("title %q", got)
		}
		wantFields(t, r, map[string]string{"Участники": "2", "Всего минут": "105", "Медиана минут": "52.5", "Ушли раньше (1)": "Алексей 🎮"})
	})

	t.Run("event/autocomplete", func(t *testing.T) {
		all, err := f.w.Sim.Autocomplete(f.ctx, discordsim.Invocation{GuildID: f.w.Guild, UserID: u["alexey"], Command: "event",
			Options: []discordsim.Option{{Name: "event", Value: "", Focused: true}}})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range all {
			got = append(got, c.(discord.AutocompleteChoiceString).Value)
		}
		want := []string{}
		for _, n := range []string{"O5", "O4", "O3", "O2", "O1"} {
			want = append(want, strconv.FormatInt(f.occ[n], 10))
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("choices %v, want newest first %v", got, want)
		}
		if n := all[0].ChoiceName(); n != "БЗС · Thu 26 Nov 2026, 16:00–17:00 MSK" {
			t.Errorf("first choice named %q", n)
		}
		typed, err := f.w.Sim.Autocomplete(f.ctx, discordsim.Invocation{GuildID: f.w.Guild, UserID: u["alexey"], Command: "event",
			Options: []discordsim.Option{{Name: "event", Value: "20 nov", Focused: true}}})
		if err != nil || len(typed) != 1 || typed[0].(discord.AutocompleteChoiceString).Value != strconv.FormatInt(f.occ["O3"], 10) {
			t.Errorf("typing \"20 nov\" offers %v (%v), want O3 only", typed, err)
		}
		onDay, err := f.w.Sim.Autocomplete(f.ctx, discordsim.Invocation{GuildID: f.w.Guild, UserID: u["alexey"], Command: "event",
			Options: []discordsim.Option{{Name: "date", Value: "2026-11-18"}, {Name: "event", Value: "", Focused: true}}})
		if err != nil || len(onDay) != 1 || onDay[0].(discord.AutocompleteChoiceString).Value != strconv.FormatInt(f.occ["O2"], 10) {
			t.Errorf("with date 2026-11-18 offers %v (%v), want O2 only", onDay, err)
		}
	})

	t.Run("week/last for a moderator", func(t *testing.T) {
		r := f.invoke(t, f.owner, "week", opt("week", "last"))
		// Week 16-22 Nov: O1-O3. Alexey 60+45+60, Zoë 50+60, Lena 60, Masha 30+20.
		// Never: Andy, chill_chris, Mike, Рита (members for a month, no minutes).
		wantFields(t, r, map[string]string{"Events held": "3", "Members attended": "4", "Never attended": "4"})
		e := r.Embeds[0]
		if e.Title != "Weekly report · 16–22 Nov 2026 · 2026-W47" {
			t.Errorf("title %q", e.Title)
		}
		lines := strings.Split(e.Description, "\n")
		want := []string{
			"1. **Алексей 🎮** (alexey) — 165 min · 3/3 events (100%)",
			"2. **Zoë ⚔️** (zoe) — 110 min · 2/3 events (67%)",
			"3. **late\\_lena** — 60 min · 1/3 events (33%)",
			"4. **Маша 🎧** (muted\\_masha) — 50 min · 2/3 events (67%)",
		}
		if strings.Join(lines, "\n") != strings.Join(want, "\n") {
			t.Errorf("ranks:\n%s\nwant:\n%s", e.Description, strings.Join(want, "\n"))
		}
		if n := bands(chartPNG(t, r, "week.png")); n != 4 {
			t.Errorf("leaderboard shows %d bars, want 4", n)
		}
		if len(r.Files) != 1 {
			t.Errorf("%d files without format:csv and 4 members", len(r.Files))
		}
	})

	t.Run("week/ISO week with CSV, moderator by role", func(t *testing.T) {
		r := f.invoke(t, u["mod_mike"], "week", opt("week", "2026-W48"), opt("format", "csv"))
		// Week 23-29 Nov so far: O4, O5. Zoë 60, Алексей 60, Lena 30; never: Andy, Chris, Masha, Mike, Рита.
		wantFields(t, r, map[string]string{"Events held": "2", "Members attended": "3", "Never attended": "5"})
		chartPNG(t, r, "week.png")
		rows := csvRows(t, r, "week-2026-W48.csv")
		if len(rows) != 1+3+5 || rows[1][1] != "Zoë ⚔️" || rows[1][4] != "60" || rows[3][1] != "late_lena" || rows[3][4] != "30" {
			t.Errorf("CSV rows: %v", rows)
		}
	})

	t.Run("week/a date inside it, in Russian", func(t *testing.T) {
		r := f.invokeIn(t, f.w.Guild, f.owner, "ru", "week", opt("week", "18.11.2026"))
		wantFields(t, r, map[string]string{"Событий": "3", "Участвовали": "4", "Ни разу не были": "4"})
		if !strings.HasPrefix(r.Embeds[0].Title, "Отчёт за неделю · 16–22 ноя 2026") {
			t.Errorf("title %q", r.Embeds[0].Title)
		}
	})

	t.Run("member/self for a plain member", func(t *testing.T) {
		r := f.invoke(t, u["alexey"], "member")
		if !r.Ephemeral {
			t.Error("a reply about oneself is not ephemeral")
		}
		// Last 30 days (29 Oct-27 Nov): O1-O5 held; Alexey came to 4, 60+45+60+60 minutes.
		wantFields(t, r, map[string]string{"Events attended of expected": "4 of 5", "Total minutes": "225", "Attendance rate": "80%", "Last seen": "Tue 24 Nov 2026"})
		if got := r.Embeds[0].Title; got != "Алексей 🎮 · 29 Oct – 27 Nov 2026" {
			t.Errorf("title %q", got)
		}
		if n := bands(chartPNG(t, r, "member.png")); n != 4 {
			t.Errorf("member chart shows %d bars, want 4 (one event missed)", n)
		}
	})

	t.Run("member/someone else for a moderator, from and to", func(t *testing.T) {
		r := f.invoke(t, f.owner, "member", opt("member", u["zoe"]), opt("from", "2026-11-16"), opt("to", "2026-11-20"))
		wantFields(t, r, map[string]string{"Events attended of expected": "2 of 3", "Total minutes": "110", "Attendance rate": "67%", "Last seen": "Fri 20 Nov 2026"})
		if n := bands(chartPNG(t, r, "member.png")); n != 2 {
			t.Errorf("member chart shows %d bars, want 2", n)
		}
	})

	t.Run("member/never came in the period", func(t *testing.T) {
		r := f.invoke(t, u["mod_mike"], "member", opt("member", u["muted_masha"]), opt("period", "7d"))
		wantFields(t, r, map[string]string{"Events attended of expected": "0 of 2", "Total minutes": "0", "Attendance rate": "0%", "Last seen": "never"})
	})

	t.Run("absent/for a moderator", func(t *testing.T) {
		r := f.invoke(t, f.owner, "absent")
		// 30 days: O1-O5; nobody of Andy, chill_chris, Mike, Рита came; each missed 5.
		wantFields(t, r, map[string]string{"Members absent": "4", "Events held": "5"})
		want := "1. Andy — 5 of 5\n2. chill\\_chris — 5 of 5\n3. Mike — 5 of 5\n4. Рита 🛡️ — 5 of 5"
		if d := r.Embeds[0].Description; d != want {
			t.Errorf("list:\n%s\nwant:\n%s", d, want)
		}
		if n := bands(chartPNG(t, r, "absent.png")); n != 4 {
			t.Errorf("absent chart shows %d bars, want 4", n)
		}
	})

	t.Run("absent/by role and period", func(t *testing.T) {
		r := f.invoke(t, u["mod_mike"], "absent", opt("role", f.raiders))
		wantFields(t, r, map[string]string{"Members absent": "1"})
		if d := r.Embeds[0].Description; d != "1. Рита 🛡️ — 5 of 5" {
			t.Errorf("list %q", d)
		}
		r = f.invoke(t, f.owner, "absent", opt("period", "7d"))
		// 21-27 Nov: O4, O5; Masha came to neither.
		wantFields(t, r, map[string]string{"Members absent": "5", "Events held": "2"})
	})

	t.Run("refusals", func(t *testing.T) {
		ex := "2026-11-26" // every example in an error message is yesterday
		for _, tc := range []struct {
			name    string
			user    string
			locale  string
			command string
			opts    []discordsim.Option
			want    []string
		}{
			{"non-moderator week", "alexey", "", "week", nil, []string{"/week is for moderators", "/member"}},
			{"non-moderator absent", "alexey", "", "absent", nil, []string{"/absent is for moderators"}},
			{"non-moderator member other", "alexey", "", "member", []discordsim.Option{opt("member", u["zoe"])}, []string{"only moderators can see another member"}},
			{"non-moderator in Russian", "alexey", "ru", "week", nil, []string{"/неделя — только для модераторов"}},
			{"future date", "alexey", "", "event", []discordsim.Option{opt("date", "2026-12-01")}, []string{"2026-12-01 is in the future", ex}},
			{"bad date", "alexey", "", "event", []discordsim.Option{opt("date", "31/12")}, []string{`"31/12" is not a date`, "YYYY-MM-DD", ex}},
			{"from after to", "alexey", "", "member", []discordsim.Option{opt("from", "2026-11-20"), opt("to", "2026-11-10")}, []string{"after the last day", "from:2026-11-10 to:2026-11-20"}},
			{"over 366 days", "alexey", "", "member", []discordsim.Option{opt("from", "2025-01-01"), opt("to", "2026-11-27")}, []string{"696 days", "366", "period:all"}},
			{"period and dates", "alexey", "", "member", []discordsim.Option{opt("period", "7d"), opt("from", "2026-11-01")}, []string{"either a period or from/to"}},
			{"bad ISO week", "mod_mike", "", "week", []discordsim.Option{opt("week", "2026-W54")}, []string{"2026 has no week 54", "1 to 53"}},
			{"not a week", "mod_mike", "", "week", []discordsim.Option{opt("week", "soon")}, []string{`"soon" is not a week`, "2026-W48"}},
			{"future week", "mod_mike", "", "week", []discordsim.Option{opt("week", "2026-W50")}, []string{"has not started yet"}},
			{"unparsable event id", "alexey", "", "event", []discordsim.Option{opt("event", "last friday")}, []string{`no event "last friday"`, "/event date:" + ex}},
			{"bot member", "owner", "", "member", []discordsim.Option{opt("member", u["musicbot"])}, []string{"is a bot"}},
			{"date of the wrong type", "alexey", "", "event", []discordsim.Option{{Name: "date", Value: 20261120, Type: discord.ApplicationCommandOptionTypeInt}}, []string{`option "date" could not be read`}},
			{"member id that does not parse", "owner", "", "member", []discordsim.Option{{Name: "member", Value: "@zoe", Type: discord.ApplicationCommandOptionTypeString}}, []string{`option "member" could not be read`}},
			{"format Discord never offers", "owner", "", "week", []discordsim.Option{opt("format", "pdf")}, []string{`option "format" could not be read`}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				user := u[tc.user]
				if tc.user == "owner" {
					user = f.owner
				}
				r := f.invokeIn(t, f.w.Guild, user, tc.locale, tc.command, tc.opts...)
				refusal(t, r, tc.want...)
				if r.Deferred {
					t.Error("an input error was deferred instead of answered at once")
				}
			})
		}
	})

	t.Run("refusals found after deferring", func(t *testing.T) {
		r := f.invoke(t, u["alexey"], "event", opt("event", "999999"))
		refusal(t, r, `There is no event "999999" in this server`, "/event date:2026-11-26")
		r = f.invoke(t, u["alexey"], "event", opt("date", "2026-11-21"))
		refusal(t, r, "No event was recorded on Sat 21 Nov 2026", "2026-11-26")
		r = f.invoke(t, f.owner, "member", opt("member", f.stranger))
		refusal(t, r, fmt.Sprintf("<@%d> is not a member of this server", f.stranger))
		// A public request that fails still fails privately.
		r = f.invoke(t, u["alexey"], "event", opt("event", "999998"), opt("public", true))
		if r.Message != nil {
			t.Errorf("the public placeholder was left in the channel: %+v", r.Message)
		}
		// Invoke returns once the placeholder is deleted; the follow-up comes next.
		var private []discordsim.Message
		for deadline := time.Now().Add(10 * time.Second); len(private) == 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			for _, m := range f.w.Sim.Messages(f.w.Reports) {
				if m.Interaction && strings.Contains(m.Content, `no event "999998"`) {
					private = append(private, m)
				}
			}
		}
		if len(private) != 1 || !private[0].Flags.Has(discord.MessageFlagEphemeral) {
			t.Errorf("error follow-up: %+v", private)
		}
	})

	// Last: the clock moves on into today's event, which changes "latest".
	t.Run("event/running shows the live state so far", func(t *testing.T) {
		h := f.h
		h.SetVoice(u["alexey"], f.w.BZS, discordsim.VoiceFlags{})
		h.RunUntil(at(27, 16, 10, 30), map[time.Time]func(){
			at(27, 16, 5, 0): func() { h.SetVoice(u["zoe"], f.w.BZS2, discordsim.VoiceFlags{}) },
		})
		r := f.invoke(t, u["zoe"], "event")
		// 16:00-16:10:30 is 11 minutes begun: Alexey 0-10 (11), Zoë 5-10 (6, late); median 8.5.
		wantFields(t, r, map[string]string{"Participants": "2", "Total minutes": "17", "Median minutes": "8.5", "Late (1)": "Zoë ⚔️"})
		e := r.Embeds[0]
		if e.Title != "БЗС · Fri 27 Nov 2026, 16:00–17:00 MSK" || e.Footer == nil || e.Footer.Text != "Running now: minutes up to 16:10 so far." {
			t.Errorf("title %q footer %+v", e.Title, e.Footer)
		}
		if _, ok := fields(t, r)["Left early (1)"]; ok {
			t.Error("members still in the channel are counted as leaving early")
		}
		if n := bands(chartPNG(t, r, "timeline.png")); n != 2+1 {
			t.Errorf("timeline shows %d bands, want 2 rows + legend", n)
		}
	})
}

func csvRows(t *testing.T, r *discordsim.Response, name string) [][]string {
	t.Helper()
	for _, f := range r.Files {
		if f.Name == name {
			rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(f.Data, []byte("\ufeff")))).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			return rows
		}
	}
	var names []string
	for _, f := range r.Files {
		names = append(names, f.Name)
	}
	t.Fatalf("no %s among %v", name, names)
	return nil
}

func TestE2ECommandWeekOfABigServer(t *testing.T) {
	f := newFixture(t, "guild")
	// 530 members who were in the server in mid October only: 500 came to
	// one event for 1 to 60 minutes (member i for i%60+1), 30 never came.
	st := f.h.App.Store
	joined, left := at(1, 12, 0, 0).AddDate(0, -1, 0), at(1, 12, 0, 0).AddDate(0, 0, -10)
	var ms []store.Member
	for i := range 530 {
		ms = append(ms, store.Member{UserID: uint64(9_000_000 + i), Username: fmt.Sprintf("player%03d", i),
			DisplayName: fmt.Sprintf("Игрок %03d 🎯", i), JoinedAt: joined})
	}
	if err := st.UpsertMembers(f.ctx, uint64(f.w.Guild), ms); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if err := st.MarkLeft(f.ctx, uint64(f.w.Guild), m.UserID, left); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Date(2026, 10, 14, 16, 0, 0, 0, msk)
	id, err := st.EnsureOccurrence(f.ctx, uint64(f.w.Guild), "БЗС", start, start.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var samples []store.Sample
	for i := range 500 {
		samples = append(samples, store.Sample{OccurrenceID: id, UserID: uint64(9_000_000 + i), Present: 1<<(i%60+1) - 1})
	}
	if err := st.Record(f.ctx, samples, []store.Coverage{{OccurrenceID: id, Sampled: 1<<60 - 1}}); err != nil {
		t.Fatal(err)
	}

	r := f.invoke(t, f.owner, "week", opt("week", "2026-10-14"))
	wantFields(t, r, map[string]string{"Events held": "1", "Members attended": "500", "Never attended": "30"})
	lines := strings.Split(r.Embeds[0].Description, "\n")
	if len(lines) != 16 || lines[0] != "1. **Игрок 059 🎯** (player059) — 60 min · 1/1 events (100%)" || lines[15] != "…and 485 more in the attached CSV." {
		t.Errorf("ranks: %q … %q (%d lines)", lines[0], lines[len(lines)-1], len(lines))
	}
	img := chartPNG(t, r, "week.png")
	// Capped at 50 bars of 24 px: a readable height, not 500 rows.
	if h := img.Bounds().Dy(); h < 50*24 || h > 50*24+400 {
		t.Errorf("chart is %d px high, want about 50 bars", h)
	}
	if n := bands(img); n != 50 {
		t.Errorf("chart shows %d bars, want the top 50", n)
	}
	rows := csvRows(t, r, "week-2026-W42.csv")
	if len(rows) != 1+530 || rows[1][4] != "60" || rows[530][4] != "0" {
		t.Errorf("CSV has %d rows (first %v, last %v)", len(rows), rows[1], rows[len(rows)-1])
	}

	// The 30 who never came, over 90 days: a long list goes out as CSV too.
	r = f.invoke(t, f.owner, "absent", opt("period", "90d"))
	wantFields(t, r, map[string]string{"Members absent": "30", "Events held": "1"})
	if d := r.Embeds[0].Description; !strings.HasPrefix(d, "1. Игрок 500 🎯 — 1 of 1\n") || !strings.HasSuffix(d, "The full list is in the attached CSV.") {
		t.Errorf("description:\n%s", d)
	}
	if n := bands(chartPNG(t, r, "absent.png")); n != 30 {
		t.Errorf("absent chart shows %d bars, want 30", n)
	}
	absent := csvRows(t, r, "absent-2026-08-30.csv")
	if len(absent) != 1+30 || absent[1][1] != "player500" || absent[1][3] != "1" || absent[1][4] != "2026-10-01" {
		t.Errorf("absent CSV: %d rows, first %v", len(absent), absent[1])
	}
}

func TestE2ECommandOutsideConfiguredGuilds(t *testing.T) {
	f := newFixture(t, "global")
	if n := len(f.w.Sim.Commands(0)); n != 6 {
		t.Fatalf("%d global commands, want 6", n)
	}
	if n := len(f.w.Sim.Commands(f.w.Guild)); n != 0 {
		t.Errorf("%d guild commands with commands = \"global\"", n)
	}
	t.Run("direct message", func(t *testing.T) {
		r := f.invokeIn(t, 0, f.u["alexey"], "", "member")
		refusal(t, r, "work inside a server, not in direct messages")
	})
	t.Run("direct message in Russian", func(t *testing.T) {
		r := f.invokeIn(t, 0, f.u["alexey"], "ru", "event")
		refusal(t, r, "работают на сервере")
	})
	t.Run("guild not configured", func(t *testing.T) {
		r := f.invokeIn(t, f.other, f.stranger, "", "week")
		refusal(t, r, "rollcall is not set up here yet: a moderator can run /rollcall setup")
	})
	t.Run("configured guild works with global commands", func(t *testing.T) {
		f.seed(t, "O1", at(16, 16, 0, 0), seat{"alexey", 0, 59})
		r := f.invoke(t, f.u["alexey"], "event")
		wantFields(t, r, map[string]string{"Participants": "1", "Total minutes": "60"})
	})
}

func TestE2ECommandRegistrationFailureStopsStart(t *testing.T) {
	clk := clock.NewFake(at(27, 12, 0, 0))
	w := apptest.NewWorld(t, clk)
	// A guild the bot was never invited to: Discord answers Unknown Guild.
	text := strings.Replace(configText(w, "guild", w.Guild), fmt.Sprintf(`id = "%d"`, w.Guild), `id = "123456789012345678"`, 1)
	h := apptest.New(t, w, clk, text)
	stop, done := h.StartNoWait()
	defer stop()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "guilds[0].id") || !strings.Contains(err.Error(), "not in guild 123456789012345678") || !strings.Contains(err.Error(), "applications.commands") {
			t.Fatalf("error = %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the bot started although its commands could not be registered")
	}
}
