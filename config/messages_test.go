package config

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"rollcall/settings"
)

// base is a valid file whose lines the cases below count on:
//
//	2 poll_interval, 3 [[guilds]], 4 id, 5 timezone, 6 report_channels,
//	7 [[guilds.schedules]], 8 name, 9 times, 10 voice_channel_names.
const base = `
poll_interval = "5s"
[[guilds]]
id = "111111111111111111"
timezone = "Europe/Moscow"
report_channels = ["222222222222222222"]
  [[guilds.schedules]]
  name = "БЗС"
  times = ["07:00", "16:00"]
  voice_channel_names = ["БЗС"]
`

// with replaces the line that starts with old (after indentation) in base.
func with(old, new string) string {
	lines := strings.Split(base, "\n")
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), old) {
			lines[i] = new
			return strings.Join(lines, "\n")
		}
	}
	panic("no line " + old)
}

// keyPath is the one form every problem is written in: "config: ", the
// line when the key (or its table) is in the file, then the full path with
// indices, then the message.
var keyPath = regexp.MustCompile(`^config: (line [1-9][0-9]*: )?[A-Za-z0-9_-]+(\[[0-9]+\])?(\.[A-Za-z0-9_-]+(\[[0-9]+\])?)*: \S`)

func TestConfigMessages(t *testing.T) {
	for _, tc := range []struct {
		name string
		text string
		want []string // each a whole line of the error
	}{
		// Structural mistakes: what to write instead, with the line.
		{"a table where guilds are a list", with("[[guilds]]", "[guilds]"),
			[]string{"config: line 3: guilds: must be a list of tables: write [[guilds]] (two brackets), once for each"}},
		{"guild for guilds", with("[[guilds]]", "[guild]"),
			// The [[guilds.schedules]] under it then makes a guilds table too.
			[]string{"config: line 3: guild: unknown key: did you mean [[guilds]]?",
				"config: line 7: guilds: must be a list of tables: write [[guilds]] (two brackets), once for each"}},
		{"a table where schedules are a list", with("[[guilds.schedules]]", "[guilds.schedules]"),
			[]string{"config: line 7: guilds[0].schedules: must be a list of tables: write [[guilds.schedules]] (two brackets), once for each"}},
		{"schedules as a value", base + "\n[[guilds]]\nid = \"3\"\ntimezone = \"UTC\"\nreport_channels = [\"2\"]\nschedules = \"БЗС\"\n",
			[]string{"config: line 16: guilds[1].schedules: must be a list of tables: write [[guilds.schedules]] on a line of its own, then its keys under it"}},
		{"weekly report as a list of tables", base + "  [[guilds.weekly_report]]\n  day = \"sun\"\n",
			[]string{"config: line 11: guilds[0].weekly_report: is one table: write [guilds.weekly_report] (one bracket), not [[guilds.weekly_report]]"}},
		{"weekly report as a value", with("timezone", "timezone = \"UTC\"\nweekly_report = \"sun\""),
			[]string{"config: line 6: guilds[0].weekly_report: is a table: write [guilds.weekly_report] on a line of its own, then its keys (enabled, day, time, channels) under it"}},
		{"times as a string", with("times", `  times = "19:00"`),
			[]string{`config: line 9: guilds[0].schedules[0].times: is a list: write times = ["19:00"]`}},
		{"days as a string", with("times", "  times = [\"19:00\"]\n  days = \"sat\""),
			[]string{`config: line 10: guilds[0].schedules[0].days: is a list: write days = ["sat"]`}},
		{"report channels as a string", with("report_channels", `report_channels = "222222222222222222"`),
			[]string{`config: line 6: guilds[0].report_channels: is a list: write report_channels = ["222222222222222222"]`}},
		{"voice names as a string", with("voice_channel_names", `  voice_channel_names = "БЗС"`),
			[]string{`config: line 10: guilds[0].schedules[0].voice_channel_names: is a list: write voice_channel_names = ["БЗС"]`}},
		{"a list as a table", with("voice_channel_names", "  [guilds.schedules.voice_channel_names]\n  x = 1"),
			[]string{`config: line 10: guilds[0].schedules[0].voice_channel_names: is a list of values, not a table: write voice_channel_names = ["Raid Voice"]`}},
		{"time zone as a list", with("timezone", `timezone = ["Europe/Moscow"]`),
			[]string{`config: line 5: guilds[0].timezone: takes one value, not a list: write timezone = "Europe/Moscow"`}},
		{"name as a list", with("name", `  name = ["БЗС", "Raid"]`),
			[]string{`config: line 8: guilds[0].schedules[0].name: takes one value, not a list: write name = "Raid night"`}},
		{"id as a list", with("id", `id = ["111111111111111111"]`),
			[]string{`config: line 4: guilds[0].id: takes one value, not a list: write id = "111111111111111111"`}},
		{"a value as a table", with("timezone", "") + "  [guilds.timezone]\n  zone = \"UTC\"\n",
			[]string{`config: line 11: guilds[0].timezone: is a value, not a table: write timezone = "Europe/Moscow"`}},
		{"duration without a unit", with("times", "  times = [\"19:00\"]\n  duration = 60"),
			[]string{`config: line 10: guilds[0].schedules[0].duration: needs a unit, in quotes: write duration = "60m"`}},
		{"poll interval without a unit", with("poll_interval", "poll_interval = 5"),
			[]string{`config: line 2: poll_interval: needs a unit, in quotes: write poll_interval = "5s"`}},
		{"a number in quotes", with("times", "  times = [\"19:00\"]\n  min_minutes = \"10\""),
			[]string{`config: line 10: guilds[0].schedules[0].min_minutes: is a whole number: write min_minutes = 10, without quotes`}},
		{"a boolean in quotes", with("times", "  times = [\"19:00\"]\n  count_self_muted = \"false\""),
			[]string{`config: line 10: guilds[0].schedules[0].count_self_muted: is true or false: write count_self_muted = false, without quotes`}},
		{"a boolean as a number", with("timezone", "timezone = \"UTC\"\nnative_events = 1"),
			[]string{`config: line 6: guilds[0].native_events: is true or false: write native_events = true, without quotes`}},
		{"text as a number", with("timezone", "timezone = 3"),
			[]string{`config: line 5: guilds[0].timezone: is text: write it in quotes: timezone = "3"`}},
		{"a list element as a number", with("times", `  times = ["07:00", 1900]`),
			[]string{`config: line 9: guilds[0].schedules[0].times[1]: is text: write it in quotes: "1900"`}},
		{"a value without quotes", with("timezone", "timezone = Europe/Moscow"),
			[]string{`config: line 5: guilds[0].timezone: expected value but found "Europe" instead: text goes in quotes, e.g. timezone = "…"`}},

		// Unknown keys: the line and the nearest known key.
		{"misspelt key", with("times", "  times = [\"19:00\"]\n  count_self_mutted = true"),
			[]string{"config: line 10: guilds[0].schedules[0].count_self_mutted: unknown key: did you mean count_self_muted?"}},
		{"misspelt top-level key", with("poll_interval", `poll_intervall = "5s"`),
			[]string{"config: line 2: poll_intervall: unknown key: did you mean poll_interval?"}},
		{"key with dashes", with("times", "  times = [\"19:00\"]\n  late-after = \"5m\""),
			[]string{"config: line 10: guilds[0].schedules[0].late-after: unknown key: did you mean late_after?"}},
		{"key of another table", with("times", "  times = [\"19:00\"]\n  timezone = \"UTC\""),
			[]string{"config: line 10: guilds[0].schedules[0].timezone: unknown key in [[guilds.schedules]]: timezone is a key of [[guilds]]"}},
		{"top-level key under a table", with("timezone", "timezone = \"UTC\"\ncatch_up = \"1h\""),
			[]string{"config: line 6: guilds[0].catch_up: unknown key in [[guilds]]: catch_up is a top-level key, so write it above the first [table] header (every key under a header belongs to that table)"}},
		{"unknown key, nothing close", with("poll_interval", "colour = \"red\""),
			[]string{"config: line 2: colour: unknown key in the top level (its keys are token, database_url, poll_interval, catch_up, db_outage_window, log_level, discord_api_url, commands, privacy_url, http_listen, shards, shard_ids, shard_lease, guilds)"}},

		// A name where an id goes.
		{"voice channel by name", with("voice_channel_names", `  voice_channels = ["Raid Voice"]`),
			[]string{`config: line 10: guilds[0].schedules[0].voice_channels[0]: "Raid Voice" is not a Discord id: copy it with Developer Mode, e.g. "123456789012345678"; to match channels by name, use voice_channel_names`}},
		{"voice channel by name, not a list", with("voice_channel_names", `  voice_channels = "Raid Voice"`),
			[]string{`config: line 10: guilds[0].schedules[0].voice_channels: is a list: write voice_channels = ["123456789012345678"]; to match channels by name, use voice_channel_names`}},

		// Values: the same form, with index and line.
		{"duration out of range", with("times", "  times = [\"19:00\"]\n  duration = \"25h\""),
			[]string{`config: line 10: guilds[0].schedules[0].duration: 25h is out of range: use whole minutes from 1m to 24h, e.g. "60m"`}},
		{"bad time in a list", with("times", `  times = ["07:00", "16:60"]`),
			[]string{`config: line 9: guilds[0].schedules[0].times[1]: "16:60" is not a time of day: write HH:MM on a 24-hour clock, e.g. 16:00`}},
		{"missing key at its table", with("timezone", ""),
			[]string{`config: line 3: guilds[0].timezone: missing: an IANA time zone such as "Europe/Moscow"`}},
		{"top-level value", with("poll_interval", `poll_interval = "10ms"`),
			[]string{`config: line 2: poll_interval: 10ms is out of range: use 1s to 30s (a minute is only counted if a poll falls inside it)`}},

		// http_listen: host:port, said how.
		{"listen without a port", with("poll_interval", `http_listen = "9108"`),
			[]string{`config: line 2: http_listen: "9108" is not host:port: write e.g. "127.0.0.1:9108" (this machine only) or ":9108" (every interface; the endpoints have no authentication)`}},
		{"listen as a URL", with("poll_interval", `http_listen = "http://127.0.0.1:9108/metrics"`),
			[]string{`config: line 2: http_listen: "http://127.0.0.1:9108/metrics" is a URL: write only the address to listen on, e.g. "127.0.0.1:9108"`}},
		{"listen on a port out of range", with("poll_interval", `http_listen = "127.0.0.1:99999"`),
			[]string{`config: line 2: http_listen: "127.0.0.1:99999": the port "99999" is not a number from 1 to 65535: write e.g. "127.0.0.1:9108"`}},
		{"listen on a named port", with("poll_interval", `http_listen = "localhost:http"`),
			[]string{`config: line 2: http_listen: "localhost:http": the port "http" is not a number from 1 to 65535: write e.g. "127.0.0.1:9108"`}},
		{"listen on a bad host", with("poll_interval", `http_listen = "my host:9108"`),
			[]string{`config: line 2: http_listen: "my host:9108": "my host" is neither an IP address nor a host name: write e.g. "127.0.0.1:9108"`}},
		{"listen as a number", with("poll_interval", `http_listen = 9108`),
			[]string{`config: line 2: http_listen: is text: write it in quotes: http_listen = "9108"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.text, okEnv)
			if err == nil {
				t.Fatal("no error")
			}
			got := strings.Split(err.Error(), "\n")
			for _, w := range tc.want {
				if !contains(got, w) {
					t.Errorf("missing line\n  %s\nin\n  %s", w, strings.Join(got, "\n  "))
				}
			}
			for _, l := range got {
				if !keyPath.MatchString(l) {
					t.Errorf("line %q is not in the form \"config: line N: path: message\"", l)
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("%d problems, want %d (a mistake reported once, not again as what follows from it):\n  %s", len(got), len(tc.want), strings.Join(got, "\n  "))
			}
		})
	}
}

func contains(lines []string, l string) bool {
	for _, x := range lines {
		if x == l {
			return true
		}
	}
	return false
}

// Every problem of a file is reported in one run, shape and values
// together, in the order of the file.
func TestConfigReportsEveryProblemAtOnce(t *testing.T) {
	text := `
poll_interval = 5
[[guilds]]
id = "111111111111111111"
timezone = "Europe/Mordor"
report_channels = ["222222222222222222"]
  [[guilds.schedules]]
  name = "БЗС"
  times = "19:00"
  voice_channels = ["Raid Voice"]
  count_self_mutted = false

[[guilds]]
id = "333333333333333333"
timezone = "UTC"
report_channels = ["444444444444444444"]
  [[guilds.schedules]]
  name = "a"
  times = ["10:00"]
  voice_channel_names = ["x"]
  [[guilds.schedules]]
  name = "b"
  times = ["12:00"]
  duration = "0m"
  voice_channel_names = ["y"]
`
	_, err := Parse(text, okEnv)
	want := []string{
		`config: line 2: poll_interval: needs a unit, in quotes: write poll_interval = "5s"`,
		`config: line 5: guilds[0].timezone: "Europe/Mordor" is not an IANA time zone: use a name such as "Europe/Moscow" or "America/New_York"`,
		`config: line 9: guilds[0].schedules[0].times: is a list: write times = ["19:00"]`,
		`config: line 10: guilds[0].schedules[0].voice_channels[0]: "Raid Voice" is not a Discord id: copy it with Developer Mode, e.g. "123456789012345678"; to match channels by name, use voice_channel_names`,
		`config: line 11: guilds[0].schedules[0].count_self_mutted: unknown key: did you mean count_self_muted?`,
		`config: line 24: guilds[1].schedules[1].duration: 0m is out of range: use whole minutes from 1m to 24h, e.g. "60m"`,
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Fatalf("got\n%v\nwant\n%s", err, strings.Join(want, "\n"))
	}
	// The validation problems are still settings.Problems underneath, for
	// whoever words them for Discord.
	var p *settings.Problem
	if !errors.As(err, &p) || p.Path != "guilds[0].timezone" || p.Text("ru", nil) == "" {
		t.Fatalf("no *settings.Problem inside: %#v", p)
	}
	var ke *KeyError
	if !errors.As(err, &ke) || ke.Line != 2 || ke.Key != "poll_interval" {
		t.Fatalf("first *KeyError: %+v", ke)
	}
}

// Past maxShown problems the rest are counted, not listed.
func TestConfigCapsTheList(t *testing.T) {
	var b strings.Builder
	for i := 0; i < maxShown+5; i++ {
		fmt.Fprintf(&b, "unknown_%d = 1\n", i)
	}
	_, err := Parse(b.String()+base, okEnv)
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != maxShown+1 || lines[maxShown] != "config: …and 5 more" {
		t.Fatalf("%d lines, last %q", len(lines), lines[len(lines)-1])
	}
	var es Errors
	if !errors.As(err, &es) || len(es) != maxShown+5 {
		t.Fatalf("Errors holds %d", len(es))
	}
}

// Inline arrays of tables get the same paths and lines as [[…]] headers.
func TestConfigInlineSchedules(t *testing.T) {
	text := `[[guilds]]
id = "1"
timezone = "UTC"
report_channels = ["2"]
schedules = [
  { name = "a", times = ["10:00"], voice_channel_names = ["x"] },
  { name = "b", times = ["25:00"], duraton = "5m", voice_channel_names = ["y"] },
]
`
	_, err := Parse(text, okEnv)
	want := `config: line 7: guilds[0].schedules[1].duraton: unknown key: did you mean duration?
config: line 7: guilds[0].schedules[1].times[0]: "25:00" is not a time of day: write HH:MM on a 24-hour clock, e.g. 16:00`
	if err == nil || err.Error() != want {
		t.Fatalf("got\n%v\nwant\n%s", err, want)
	}
}
