package settings_test

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"rollcall/config"
	"rollcall/settings"
)

func ptr[T any](v T) *T { return &v }

func raid() settings.Spec {
	d := settings.Duration(90 * time.Minute)
	late := settings.Duration(10 * time.Minute)
	return settings.Spec{
		ID: 123456789012345678, TimeZone: "Europe/Moscow", Language: "ru",
		ReportChannels: []settings.Snowflake{234567890123456789}, EmptyReport: "skip",
		ModeratorRoles: []settings.Snowflake{345678901234567890}, NativeEvents: ptr(false),
		WeeklyReport: settings.WeeklySpec{Day: "sun", Time: "21:30"},
		Schedules: []settings.ScheduleSpec{
			{Name: "БЗС", Times: []string{"07:00", "16:00", "21:00", "23:00"}, Duration: nil, VoiceChannelNames: []string{"БЗС"}},
			{Name: "Raid night", Days: []string{"sat"}, Times: []string{"19:00"}, Duration: &d, VoiceChannels: []settings.Snowflake{456789012345678901},
				MinMinutes: ptr(10), CountSelfMuted: ptr(false), LateAfter: &late},
		},
	}
}

// What /rollcall export prints is a config.toml that loads back into the
// same settings: the two sources cannot drift apart.
func TestTOMLRoundTrip(t *testing.T) {
	want, ps := settings.Validate(raid(), "guilds[0]", settings.FromFile)
	if ps != nil {
		t.Fatal(ps)
	}
	text, err := settings.TOML(raid())
	if err != nil {
		t.Fatal(err)
	}
	tok := base64.RawStdEncoding.EncodeToString([]byte("1")) + ".a.b"
	c, err := config.Parse(text, func(k string) string { return map[string]string{"DISCORD_TOKEN": tok}[k] })
	if err != nil {
		t.Fatalf("the export does not load: %v\n%s", err, text)
	}
	got := c.Validated[0]
	// Locations are equal by name; compare the rest as values.
	if got.Location.String() != want.Location.String() {
		t.Fatalf("zone %v, want %v", got.Location, want.Location)
	}
	got.Location, want.Location = nil, nil
	for i := range got.Schedules {
		got.Schedules[i].Parsed.Location, want.Schedules[i].Parsed.Location = nil, nil
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip changed the settings:\n got %+v\nwant %+v\n%s", got, want, text)
	}
}

// The stored document (JSON) round-trips too, ids as strings.
func TestJSONRoundTrip(t *testing.T) {
	b, err := json.Marshal(raid())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"id":"123456789012345678"`) || !strings.Contains(string(b), `"duration":"90m"`) {
		t.Fatalf("ids and durations are not written as people write them: %s", b)
	}
	var back settings.Spec
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, raid()) {
		t.Fatalf("JSON round trip: got %+v", back)
	}
}

// Every problem is reported at once, each with its key and a message in
// either language.
func TestValidateReportsEveryProblem(t *testing.T) {
	s := raid()
	s.TimeZone = "Europe/Mordor"
	s.Schedules[0].Times = []string{"7:00", "16:00"}
	zero := settings.Duration(0)
	s.Schedules[1].Duration = &zero
	s.Schedules[1].Name = "бзс"
	_, ps := settings.Validate(s, "", settings.FromDiscord)
	var paths []string
	for _, p := range ps {
		paths = append(paths, p.Path)
	}
	want := []string{"timezone", "schedules[0].times[0]", "schedules[1].duration", "schedules[1].name"}
	if !reflect.DeepEqual(paths, want) {
		t.Fatalf("problems at %v, want %v", paths, want)
	}
	if p := ps[1]; p.Field != "times" || p.Index != 0 || p.Schedule != "БЗС" {
		t.Fatalf("problem %+v does not say where it is", p)
	}
	if got := ps[1].Text("ru", nil); !strings.Contains(got, "не время") {
		t.Fatalf("Russian text = %q", got)
	}
}

// A key named in a message is written by the caller's name for it: the
// file's key in check-config, the option in /rollcall.
func TestProblemTextNamesKeys(t *testing.T) {
	s := raid()
	s.Schedules[0].VoiceChannelNames = nil
	_, ps := settings.Validate(s, "", settings.FromDiscord)
	if len(ps) != 1 {
		t.Fatalf("problems: %v", ps)
	}
	file := ps[0].Text("en", nil)
	discord := ps[0].Text("en", func(k string) string {
		return map[string]string{"voice_channels": "voice_channel", "voice_channel_names": "voice_name"}[k]
	})
	if !strings.Contains(file, "voice_channel_names") || !strings.Contains(discord, "voice_name") || strings.Contains(discord, "voice_channel_names") {
		t.Fatalf("file: %q\ndiscord: %q", file, discord)
	}
}

// A token pasted into a key is never quoted back, not even its first part.
func TestSecretShapedValuesAreNotQuoted(t *testing.T) {
	tok := base64.RawStdEncoding.EncodeToString([]byte("1234567890123456789")) + ".GhIjKl.abcdefghijklmnopqrstuvwxyz0123"
	s := raid()
	s.TimeZone = tok
	_, ps := settings.Validate(s, "", settings.FromDiscord)
	if len(ps) != 1 || strings.Contains(ps.Error(), tok[:12]) {
		t.Fatalf("the token shows in %q", ps.Error())
	}
	if !settings.LooksSecret("postgres://u:hunter2@host/db") || settings.LooksSecret("Europe/Moscow") {
		t.Fatal("LooksSecret misjudges")
	}
}

func TestRegistryKeepsNewestAndFileGuilds(t *testing.T) {
	file, _ := settings.Validate(raid(), "guilds[0]", settings.FromFile)
	r := settings.NewRegistry(file)
	d, _ := settings.Validate(raid(), "", settings.FromDiscord)
	r.Put(d)
	if g, _ := r.Get(file.ID); g.Source != settings.FromFile {
		t.Fatal("a stored document replaced a guild the file manages")
	}
	other := raid()
	other.ID = 2
	v2, _ := settings.Validate(other, "", settings.FromDiscord)
	v2.Version = 2
	v1, _ := settings.Validate(other, "", settings.FromDiscord)
	v1.Version = 1
	r.Put(v2)
	r.Put(v1)
	if g, _ := r.Get(2); g.Version != 2 {
		t.Fatal("an older version replaced a newer one")
	}
}

// A token pasted as a schedule's name or channel name is refused, from the
// file or from Discord: names are posted in every report.
func TestSecretShapedNamesAreRefused(t *testing.T) {
	tok := base64.RawStdEncoding.EncodeToString([]byte("1234567890123456789")) + ".GhIjKl.abcdefghijklmnopqrstuv"
	s := raid()
	s.Schedules[0].Name = tok
	s.Schedules[0].VoiceChannelNames = []string{tok}
	_, ps := settings.Validate(s, "", settings.FromDiscord)
	var codes []string
	for _, p := range ps {
		codes = append(codes, p.Path+" "+p.Code)
	}
	want := []string{"schedules[0].name value_secret_shaped", "schedules[0].voice_channel_names[0] value_secret_shaped"}
	if !reflect.DeepEqual(codes, want) || strings.Contains(ps.Error(), tok[20:]) {
		t.Fatalf("problems %v, want %v; text %q", codes, want, ps.Error())
	}
}

// Role rules: every mistake refused with its key, the good ones filled in.
func TestRoleRules(t *testing.T) {
	days := func(n int) *settings.Days { d := settings.Days(n); return &d }
	tests := []struct {
		name string
		rule settings.RoleRuleSpec
		want string // the problem's code; "" for a valid rule
	}{
		{"attended of last", settings.RoleRuleSpec{Role: 9, AttendedAtLeast: ptr(3), OfLast: ptr(4), Schedule: " бзс "}, ""},
		{"attended the last N", settings.RoleRuleSpec{Role: 9, AttendedAtLeast: ptr(3)}, ""},
		{"minutes", settings.RoleRuleSpec{Role: 9, MinutesAtLeast: ptr(120), MinutesInLast: days(14)}, ""},
		{"inactive", settings.RoleRuleSpec{Role: 9, InactiveFor: days(30)}, ""},
		{"no role", settings.RoleRuleSpec{AttendedAtLeast: ptr(1)}, "rule_role_missing"},
		{"everyone", settings.RoleRuleSpec{Role: 123456789012345678, AttendedAtLeast: ptr(1)}, "rule_role_everyone"},
		{"no condition", settings.RoleRuleSpec{Role: 9}, "rule_no_condition"},
		{"of_last alone", settings.RoleRuleSpec{Role: 9, OfLast: ptr(4)}, "rule_of_last_alone"},
		{"of_last too small", settings.RoleRuleSpec{Role: 9, AttendedAtLeast: ptr(5), OfLast: ptr(4)}, "rule_of_last_small"},
		{"minutes without days", settings.RoleRuleSpec{Role: 9, MinutesAtLeast: ptr(5)}, "rule_minutes_pair"},
		{"inactive and streak", settings.RoleRuleSpec{Role: 9, InactiveFor: days(30), Streak: ptr(3)}, "rule_inactive_alone"},
		{"window too long", settings.RoleRuleSpec{Role: 9, InactiveFor: days(400)}, "rule_days_range"},
		{"streak of one", settings.RoleRuleSpec{Role: 9, Streak: ptr(1)}, "rule_count_range"},
		{"unknown schedule", settings.RoleRuleSpec{Role: 9, Streak: ptr(3), Schedule: "nope"}, "rule_schedule_unknown"},
		{"schedule unused", settings.RoleRuleSpec{Role: 9, MinutesAtLeast: ptr(5), MinutesInLast: days(7), Schedule: "БЗС"}, "rule_schedule_unused"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := raid()
			s.RoleRules = []settings.RoleRuleSpec{tc.rule}
			g, ps := settings.Validate(s, "", settings.FromDiscord)
			switch {
			case tc.want == "" && ps != nil:
				t.Fatalf("refused: %v", ps)
			case tc.want == "":
				if r := g.RoleRules[0]; r.OfLast < r.Attended || tc.rule.Schedule != "" && r.Schedule != "БЗС" {
					t.Errorf("rule %+v", r)
				}
			case len(ps) != 1 || ps[0].Code != tc.want:
				t.Fatalf("problems %v, want one %s", ps, tc.want)
			case !strings.HasPrefix(ps[0].Path, "role_rules[0]"):
				t.Errorf("problem at %s", ps[0].Path)
			}
		})
	}
	s := raid()
	s.RoleRules = []settings.RoleRuleSpec{{Role: 9, Streak: ptr(3)}, {Role: 9, Streak: ptr(4)}}
	if _, ps := settings.Validate(s, "", settings.FromDiscord); len(ps) != 1 || ps[0].Code != "rule_role_taken" {
		t.Errorf("two rules of a role: %v", ps)
	}
}
