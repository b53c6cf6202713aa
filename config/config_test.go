package config

import (
	"encoding/base64"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"rollcall/attendance"
	"rollcall/settings"
)

// testToken is shaped like a bot token (first part: base64 of an application id).
var testToken = base64.RawStdEncoding.EncodeToString([]byte("1234567890123456789")) + ".GhIjK.secretsecretsecret"

const valid = `
poll_interval = "5s"
[[guilds]]
id = "111111111111111111"
timezone = "Europe/Moscow"
report_channels = ["222222222222222222"]
  [[guilds.schedules]]
  name = "БЗС"
  times = ["07:00", "16:00", "21:00", "23:00"]
  voice_channel_names = ["БЗС"]
  [[guilds.role_rules]]
  role = "333333333333333333"
  attended_at_least = 3
  of_last = 4
  schedule = "БЗС"
`

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

var okEnv = env(map[string]string{"DISCORD_TOKEN": testToken, "DATABASE_URL": "postgres://u:pw@h/db"})

func TestNoDatabaseURLMeansPrivateDatabase(t *testing.T) {
	c, err := Parse(valid, env(map[string]string{"DISCORD_TOKEN": testToken}))
	if err != nil || c.DatabaseURL != "" {
		t.Fatalf("%v %q", err, c.DatabaseURL)
	}
}

func TestParseValid(t *testing.T) {
	c, err := Parse(valid, okEnv)
	if err != nil {
		t.Fatal(err)
	}
	s := c.Validated[0].Schedules[0]
	if s.Duration.Minutes() != 60 || len(s.Parsed.Starts) != 4 || s.ReportChannels[0] != 222222222222222222 {
		t.Fatalf("defaults not applied: %+v", s)
	}
	if s.Rules != attendance.DefaultRules() {
		t.Fatalf("rules = %+v", s.Rules)
	}
	if c.Validated[0].Location.String() != "Europe/Moscow" || c.PollInterval.D().Seconds() != 5 {
		t.Fatalf("guild: %+v", c.Validated[0])
	}
	if strings.Contains(c.String(), "secret") || strings.Contains(c.String(), "pw") || strings.Contains(fmtAll(c), "secret") {
		t.Fatalf("String leaks a secret: %s", c.String())
	}
}

func fmtAll(c *Config) string {
	return strings.Join([]string{c.Token.String(), c.Token.GoString(), c.DatabaseURL.String()}, " ")
}

func TestParseErrorsNameTheKey(t *testing.T) {
	sched := func(extra string) string {
		return `
[[guilds]]
id = "111111111111111111"
timezone = "Europe/Moscow"
report_channels = ["222222222222222222"]
  [[guilds.schedules]]
  name = "БЗС"
  times = ["16:00"]
  voice_channel_names = ["БЗС"]
` + extra
	}
	for _, tc := range []struct {
		name, text string
		env        func(string) string
		key        string
	}{
		{"bad time zone", strings.Replace(valid, "Europe/Moscow", "Europe/Mordor", 1), okEnv, "guilds[0].timezone"},
		{"duration zero", strings.Replace(valid, `times =`, `duration = "0m"`+"\n  times =", 1), okEnv, "guilds[0].schedules[0].duration"},
		{"duration too long", strings.Replace(valid, `times =`, `duration = "25h"`+"\n  times =", 1), okEnv, "guilds[0].schedules[0].duration"},
		{"bad duration text", strings.Replace(valid, `times =`, `duration = "an hour"`+"\n  times =", 1), okEnv, "duration"},
		{"bad time", strings.Replace(valid, `"16:00"`, `"16:60"`, 1), okEnv, "guilds[0].schedules[0].times[1]"},
		{"bad day", strings.Replace(valid, `times =`, `days = ["mon", "funday"]`+"\n  times =", 1), okEnv, "guilds[0].schedules[0].days[1]"},
		{"no token", valid, env(map[string]string{"DATABASE_URL": "postgres://x"}), "token"},
		{"malformed token", valid, env(map[string]string{"DISCORD_TOKEN": "not-a-token", "DATABASE_URL": "postgres://x"}), "token"},
		{"bad database url", valid, env(map[string]string{"DISCORD_TOKEN": testToken, "DATABASE_URL": "mysql://x"}), "database_url"},
		{"unknown key", valid + "\npoll_intervall = \"5s\"\n", okEnv, "poll_intervall"},
		{"bad id", strings.Replace(valid, `"111111111111111111"`, `"my server"`, 1), okEnv, "id"},
		{"poll too fast", strings.Replace(valid, `"5s"`, `"10ms"`, 1), okEnv, "poll_interval"},
		{"poll zero", strings.Replace(valid, `"5s"`, `"0s"`, 1), okEnv, "poll_interval"},
		{"outage window zero", "db_outage_window = \"0s\"\n" + valid, okEnv, "db_outage_window"},
		{"no schedules", "[[guilds]]\nid = \"1\"\ntimezone = \"UTC\"\nreport_channels=[\"2\"]\n", okEnv, "guilds[0].schedules"},
		{"no voice channels", strings.Replace(valid, `voice_channel_names = ["БЗС"]`, ``, 1), okEnv, "guilds[0].schedules[0]"},
		{"self overlap", strings.Replace(valid, `"07:00"`, `"06:30"`, 1) + "", okEnv, ""},
		{"overlapping schedules", sched(`
  [[guilds.schedules]]
  name = "Late"
  times = ["16:30"]
  voice_channel_names = ["бзс"]
`), okEnv, "guilds[0].schedules[1]"},
		{"duplicate schedule name", sched(`
  [[guilds.schedules]]
  name = "бзс"
  times = ["10:00"]
  voice_channel_names = ["other"]
`), okEnv, "guilds[0].schedules[1].name"},
		{"min minutes zero", strings.Replace(valid, `times =`, `min_minutes = 0`+"\n  times =", 1), okEnv, "guilds[0].schedules[0].min_minutes"},
		{"late after too long", strings.Replace(valid, `times =`, `late_after = "60m"`+"\n  times =", 1), okEnv, "guilds[0].schedules[0].late_after"},
		{"weekly day", valid + "[guilds.weekly_report]\nday = \"monday\"\n", okEnv, "guilds[0].weekly_report.day"},
		{"weekly time", valid + "[guilds.weekly_report]\ntime = \"25:00\"\n", okEnv, "guilds[0].weekly_report.time"},
		{"commands", strings.Replace(valid, `poll_interval`, `commands = "everywhere"`+"\npoll_interval", 1), okEnv, "commands"},
		{"empty report", strings.Replace(valid, `report_channels`, `empty_report = "maybe"`+"\nreport_channels", 1), okEnv, "guilds[0].empty_report"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "self overlap" {
				// 06:30 + 60m does not overlap 16:00; make a real one.
				tc.text = strings.Replace(valid, `"16:00"`, `"07:30"`, 1)
				tc.key = "guilds[0].schedules[0].times"
			}
			_, err := Parse(tc.text, tc.env)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.key) {
				t.Fatalf("error %q does not name key %q", err, tc.key)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("error leaks the token: %v", err)
			}
			var ke *KeyError
			var p *settings.Problem
			if strings.HasPrefix(tc.key, "guilds[") && !errors.As(err, &ke) && !errors.As(err, &p) {
				t.Fatalf("want a *KeyError or *settings.Problem, got %T", err)
			}
		})
	}
}

func TestNonOverlappingSchedulesOnDifferentDays(t *testing.T) {
	text := valid + `
  [[guilds.schedules]]
  name = "Weekend"
  days = ["sat"]
  times = ["12:00"]
  voice_channel_names = ["БЗС"]
`
	if _, err := Parse(text, okEnv); err != nil {
		t.Fatal(err)
	}
}

func TestTokenNeverInParseErrors(t *testing.T) {
	// A syntax error on the token's own line must not echo the line.
	text := "token = \"" + testToken + "\" oops\n"
	_, err := Parse(text, env(nil))
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("err = %v", err)
	}
}

// The example config must stay valid: newcomers start from it.
func TestExampleConfigParses(t *testing.T) {
	b, err := os.ReadFile("../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(string(b), env(map[string]string{"DISCORD_TOKEN": testToken}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Validated[0].Schedules[0].Parsed.Starts) != 4 {
		t.Fatalf("example schedule: %+v", c.Validated[0].Schedules[0])
	}
}

func TestRulesFromConfig(t *testing.T) {
	text := strings.Replace(valid, `times =`, "min_minutes = 10\n  count_self_deafened = false\n  late_after = \"10m\"\n  left_early_before = \"0m\"\n  times =", 1)
	c, err := Parse(text, okEnv)
	if err != nil {
		t.Fatal(err)
	}
	r := c.Validated[0].Schedules[0].Rules
	want := attendance.Rules{MinMinutes: 10, CountSelfMuted: true, CountSelfDeafened: false, CountServerDeafened: true, LateAfter: 10, LeftEarlyBefore: 0}
	if r != want {
		t.Fatalf("rules = %+v, want %+v", r, want)
	}
}

func TestCatchUpZeroTurnsCatchUpOff(t *testing.T) {
	c, err := Parse("catch_up = \"0s\"\n"+valid, okEnv)
	if err != nil || c.CatchUp.D() != 0 {
		t.Fatalf("catch_up = %v, %v; want 0 (off)", c.CatchUp.D(), err)
	}
	c, err = Parse(valid, okEnv)
	if err != nil || c.CatchUp.D() != DefaultCatchUp {
		t.Fatalf("default catch_up = %v, %v", c.CatchUp.D(), err)
	}
}

func TestPrivacyKeys(t *testing.T) {
	c, err := Parse(valid+"\n", okEnv)
	_ = c
	text := `
[[guilds]]
id = "111111111111111111"
timezone = "Europe/Moscow"
report_channels = ["222222222222222222"]
retention = "365d"
paused_by_default = true
departed_guild_retention = "8w"
  [[guilds.schedules]]
  name = "БЗС"
  times = ["07:00"]
  voice_channel_names = ["БЗС"]
`
	c, err = Parse(text, okEnv)
	if err != nil {
		t.Fatal(err)
	}
	g := c.Validated[0]
	if g.Retention.Hours() != 365*24 || !g.PausedByDefault || g.DepartedRetention.Hours() != 56*24 {
		t.Fatalf("%+v", g)
	}
	_, err = Parse(text[:0]+`
[[guilds]]
id = "111111111111111111"
timezone = "Europe/Moscow"
report_channels = ["222222222222222222"]
retention = "a year"
  [[guilds.schedules]]
  name = "БЗС"
  times = ["07:00"]
  voice_channel_names = ["БЗС"]
`, okEnv)
	t.Log(err)
	if err == nil {
		t.Fatal("accepted")
	}
}

// http_listen is off unless written; any host:port form net.Listen takes
// is accepted.
func TestHTTPListen(t *testing.T) {
	c, err := Parse(valid, okEnv)
	if err != nil || c.HTTPListen != "" {
		t.Fatalf("default http_listen = %q, %v; want off", c.HTTPListen, err)
	}
	for _, addr := range []string{"127.0.0.1:9108", ":9108", "[::1]:9108", "localhost:9108", "0.0.0.0:9108", "127.0.0.1:0"} {
		c, err := Parse("http_listen = \""+addr+"\"\n"+valid, okEnv)
		if err != nil || c.HTTPListen != addr {
			t.Errorf("http_listen = %q: %v, got %q", addr, err, c.HTTPListen)
		}
	}
}

// shards, shard_ids and shard_lease: the good forms read, every mistake
// named with its key.
func TestShardKeys(t *testing.T) {
	c, err := Parse(valid, okEnv)
	if err != nil || c.Shards != 0 || len(c.ShardIDs) != 0 || c.ShardLease.D() != DefaultShardLease {
		t.Fatalf("defaults: %v %v %v %v", c.Shards, c.ShardIDs, c.ShardLease, err)
	}
	for _, tc := range []struct {
		top  string
		want ShardCount
		ids  []int
	}{
		{`shards = "auto"`, AutoShards, nil},
		{`shards = "AUTO"`, AutoShards, nil},
		{"shards = 4\nshard_ids = [0, 3]", 4, []int{0, 3}},
	} {
		c, err := Parse(tc.top+"\n"+valid, okEnv)
		if err != nil || c.Shards != tc.want || !slices.Equal(c.ShardIDs, tc.ids) {
			t.Errorf("%s: %v %v, %v", tc.top, c.Shards, c.ShardIDs, err)
		}
	}
	for _, tc := range []struct{ top, want string }{
		{`shards = "many"`, `shards: "many" is not a shard count`},
		{`shards = 0`, "shards: 0 is out of range: use 1 to 4096"},
		{`shard_ids = [0]`, "shard_ids: needs shards"},
		{"shards = 4\nshard_ids = [4]", "shard_ids[0]: 4 is not a shard of 4: shard ids go from 0 to 3"},
		{"shards = 4\nshard_ids = [1, 1]", "shard_ids[1]: shard 1 is listed twice"},
		{`shard_lease = "1s"`, "shard_lease: 1s is out of range: use 3s to 10m"},
	} {
		_, err := Parse(tc.top+"\n"+valid, okEnv)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.top, err, tc.want)
		}
	}
}
