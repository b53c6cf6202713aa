package config

import (
	"testing"

	"github.com/BurntSushi/toml"
)

func TestKeyLines(t *testing.T) {
	text := `# rollcall
poll_interval = "5s"   # a comment with [brackets] and "quotes"
notes = """
several
lines, with "quotes" and ''' and = signs
"""
literal = '''
more
'''

[[guilds]]
id = "1"
report_channels = [
  "2",   # first
  # between
  "3",
]
language = "en"

  [[guilds.schedules]]
  name = "a"
  times = ["07:00",
           "16:00"]

  [[guilds.schedules]]
  "name" = 'b'
  duration = "60m"

  [guilds.weekly_report]
  day = "mon"

[[guilds]]
id = "4"
schedules = [
  { name = "c", times = ["10:00"] },
  { name = "d", duration = "5m" },
]
weekly_report = { day = "sun", time = "21:30" }
dotted . "quoted.key" = 1
`
	var probe map[string]any
	if _, err := toml.Decode(text, &probe); err != nil {
		t.Fatalf("the test's TOML does not parse: %v", err)
	}
	ix := keyLines(text)
	for _, tc := range []struct {
		path string
		line int
	}{
		{"poll_interval", 2},
		{"notes", 3},
		{"literal", 7},
		{"guilds", 11},
		{"guilds[0]", 11},
		{"guilds[0].id", 12},
		{"guilds[0].report_channels", 13},
		{"guilds[0].report_channels[0]", 14},
		{"guilds[0].report_channels[1]", 16},
		{"guilds[0].language", 18},
		{"guilds[0].weekly_report", 29},
		{"guilds[0].weekly_report.day", 30},
		{"guilds[0].schedules[0]", 20},
		{"guilds[0].schedules[0].name", 21},
		{"guilds[0].schedules[0].times[1]", 23},
		{"guilds[0].schedules[1]", 25},
		{"guilds[0].schedules[1].name", 26},
		{"guilds[0].schedules[1].duration", 27},
		{"guilds[1]", 32},
		{"guilds[1].id", 33},
		{"guilds[1].schedules[0].name", 35},
		{"guilds[1].schedules[1].duration", 36},
		{"guilds[1].weekly_report.time", 38},
		{"guilds[1].dotted.quoted.key", 39},
		// Not written: the nearest enclosing table's line.
		{"guilds[0].schedules[1].times", 25},
		{"guilds[1].timezone", 32},
		{"guilds[1].schedules[1].times[0]", 36},
		{"nothing", 0},
	} {
		t.Run(tc.path, func(t *testing.T) {
			if got := ix.lineOf(tc.path); got != tc.line {
				t.Fatalf("line of %s = %d, want %d", tc.path, got, tc.line)
			}
		})
	}
}

// keyLines never loops or panics, whatever the text.
func FuzzKeyLines(f *testing.F) {
	for _, s := range []string{valid, "[[a]]\n[[a.b]]\nx = [{y = [1, {z = 2}]}]\n", `x = "\`, "[", "a = '''", "a = {", `"a`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		keyLines(text).lineOf("guilds[0].schedules[0].times[1]")
	})
}
