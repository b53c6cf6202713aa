package config

import (
	"os"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary TOML to the loader: it may refuse, never panic,
// never accept a config that breaks what the rest of the bot relies on, and
// never echo the token.
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("../config.example.toml"); err == nil {
		f.Add(string(b))
	}
	f.Add(valid)
	f.Add(valid + "[guilds.weekly_report]\nday = \"sun\"\ntime = \"21:30\"\n")
	f.Add(strings.Replace(valid, `"16:00"`, `"23:30"`, 1))
	f.Add("token = \"" + testToken + "\"\n[[guilds]]\nid = 1\n")
	f.Add("poll_interval = 5\n")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := Parse(text, okEnv)
		if err != nil {
			if strings.Contains(err.Error(), "secretsecret") {
				t.Fatalf("error leaks the token: %v", err)
			}
			return
		}
		if len(c.Validated) != len(c.Guilds) || c.PollInterval.D() <= 0 {
			t.Fatalf("accepted a config with unvalidated guilds or no poll interval: %+v", c)
		}
		for _, g := range c.Validated {
			if g.Location == nil || len(g.Schedules) == 0 {
				t.Fatalf("guild without location or schedules accepted")
			}
			for _, s := range g.Schedules {
				if s.Duration <= 0 || s.Duration > 24*60*60*1e9 || len(s.Parsed.Starts) == 0 || len(s.ReportChannels) == 0 || s.Rules.MinMinutes < 1 {
					t.Fatalf("schedule %+v accepted", s)
				}
			}
		}
	})
}
