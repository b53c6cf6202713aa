// Package config loads rollcall's TOML configuration, applies environment
// overrides for secrets, and validates it with errors that name the offending
// key. The token is never printed: Config.String and every error leave it out.
package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"rollcall/attendance"
)

// Defaults.
const (
	DefaultPollInterval = 5 * time.Second
	DefaultDuration     = 60 * time.Minute
	DefaultCatchUp      = 6 * time.Hour
	// DefaultDBOutageWindow bounds the in-memory buffer during a database outage.
	DefaultDBOutageWindow = 30 * time.Minute
)

// Config is the whole configuration, validated.
type Config struct {
	Token Secret `toml:"token"`
	// DatabaseURL is the PostgreSQL to use; empty means a private one that
	// rollcall starts itself under its data directory.
	DatabaseURL  Secret   `toml:"database_url"`
	PollInterval Duration `toml:"poll_interval"`
	// CatchUp is how long after an event's end a report that was missed (the
	// bot was down) is still posted, marked late.
	CatchUp Duration `toml:"catch_up"`
	// DBOutageWindow is how long attendance is kept in memory while the
	// database is unreachable; samples of events that ended longer ago than
	// this are dropped (loudly).
	DBOutageWindow Duration `toml:"db_outage_window"`
	LogLevel       string   `toml:"log_level"`
	// Commands says where slash commands are registered: "guild" (each
	// configured guild, instant; the default) or "global" (every guild the
	// bot is in; Discord may take a while to show changes).
	Commands string  `toml:"commands"`
	Guilds   []Guild `toml:"guilds"`

	// written holds the top-level keys the file set, so that a key written
	// as "0s" is checked rather than replaced by its default.
	written map[string]bool
}

// Guild is one Discord server rollcall serves.
type Guild struct {
	ID             Snowflake   `toml:"id"`
	TimeZone       string      `toml:"timezone"`
	ReportChannels []Snowflake `toml:"report_channels"`
	// EmptyReport says what to do when nobody attended: "post" a short
	// message (default) or "skip".
	EmptyReport string `toml:"empty_report"`
	// ModeratorRoles may use /week, /absent and /member on others, besides
	// members with the Manage Server permission.
	ModeratorRoles []Snowflake `toml:"moderator_roles"`
	// RosterRoles limit who is expected at events to holders of these
	// roles; empty means every member who is not a bot.
	RosterRoles []Snowflake `toml:"roster_roles"`
	// NativeEvents makes every Discord Scheduled Event in a voice or stage
	// channel an occurrence too (default true).
	NativeEvents *bool        `toml:"native_events"`
	WeeklyReport WeeklyReport `toml:"weekly_report"`
	Schedules    []Schedule   `toml:"schedules"`

	// Location is TimeZone loaded; set by Validate.
	Location *time.Location `toml:"-"`
	// Key is this guild's path in the file, e.g. "guilds[0]", for errors found later at run time.
	Key string `toml:"-"`
}

// WeeklyReport configures the automatic weekly post.
type WeeklyReport struct {
	Enabled  *bool       `toml:"enabled"`  // default true
	Day      string      `toml:"day"`      // default "mon"
	Time     string      `toml:"time"`     // default "00:00"
	Channels []Snowflake `toml:"channels"` // default: the guild's report_channels

	// On and At are the parsed settings; set by Validate.
	On  bool                 `toml:"-"`
	At  attendance.TimeOfDay `toml:"-"`
	Dow time.Weekday         `toml:"-"`
}

// Schedule is one recurring event.
type Schedule struct {
	Name              string      `toml:"name"`
	Days              []string    `toml:"days"`
	Times             []string    `toml:"times"`
	DurationSet       *Duration   `toml:"duration"` // nil: not written, so the default applies
	VoiceChannels     []Snowflake `toml:"voice_channels"`
	VoiceChannelNames []string    `toml:"voice_channel_names"`
	ReportChannels    []Snowflake `toml:"report_channels"` // default: the guild's

	// Attendance rules; nil means the default (attendance.DefaultRules).
	MinMinutes          *int      `toml:"min_minutes"`
	CountSelfMuted      *bool     `toml:"count_self_muted"`
	CountSelfDeafened   *bool     `toml:"count_self_deafened"`
	CountServerDeafened *bool     `toml:"count_server_deafened"`
	LateAfter           *Duration `toml:"late_after"`
	LeftEarlyBefore     *Duration `toml:"left_early_before"`

	// Rules are the attendance rules with defaults applied; set by Validate.
	Rules attendance.Rules `toml:"-"`

	// Key is this schedule's path in the file, e.g. "guilds[0].schedules[1]".
	Key string `toml:"-"`
	// Duration is the event length, defaulted; set by Validate.
	Duration time.Duration `toml:"-"`
	// Parsed is the schedule as the attendance package understands it; set by Validate.
	Parsed attendance.Schedule `toml:"-"`
}

// Secret is a string that never prints.
type Secret string

// String hides the value.
func (s Secret) String() string {
	if s == "" {
		return `""`
	}
	return "[hidden]"
}

// GoString hides the value from %#v too.
func (s Secret) GoString() string { return s.String() }

// Value returns the secret itself, for the one place that needs it.
func (s Secret) Value() string { return string(s) }

// Duration is a time.Duration written as "5s", "60m", "1h30m" in TOML.
type Duration time.Duration

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration: write it like \"5s\", \"60m\" or \"1h30m\"", string(b))
	}
	*d = Duration(v)
	return nil
}

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Snowflake is a Discord id, accepted as a TOML string or integer.
type Snowflake uint64

// UnmarshalTOML accepts "123…" and 123….
func (s *Snowflake) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case string:
		n, err := strconv.ParseUint(strings.TrimSpace(x), 10, 64)
		if err != nil || n == 0 {
			return fmt.Errorf("%q is not a Discord id: copy it with Developer Mode, e.g. \"123456789012345678\"", x)
		}
		*s = Snowflake(n)
	case int64:
		if x <= 0 {
			return fmt.Errorf("%d is not a Discord id", x)
		}
		*s = Snowflake(x)
	default:
		return fmt.Errorf("a Discord id must be a string of digits, got %T", v)
	}
	return nil
}

// Load reads path, applies DISCORD_TOKEN and DATABASE_URL from the
// environment, fills defaults and validates.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(string(b), os.Getenv)
}

// Parse is Load without the file system: getenv supplies the environment.
func Parse(text string, getenv func(string) string) (*Config, error) {
	var c Config
	md, err := toml.Decode(text, &c)
	if err != nil {
		return nil, describeDecodeError(err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return nil, fmt.Errorf("config: unknown key %s (check the spelling against config.example.toml)", strings.Join(keys, ", "))
	}
	if v := getenv("DISCORD_TOKEN"); v != "" {
		c.Token = Secret(v)
	}
	if v := getenv("DATABASE_URL"); v != "" {
		c.DatabaseURL = Secret(v)
	}
	c.written = map[string]bool{}
	for _, k := range []string{"poll_interval", "catch_up", "db_outage_window"} {
		c.written[k] = md.IsDefined(k)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func describeDecodeError(err error) error {
	var perr toml.ParseError
	if errors.As(err, &perr) {
		// ErrorWithPosition quotes the offending line; a token on that line would leak.
		if perr.LastKey != "" {
			return fmt.Errorf("config: line %d: %s: %s", perr.Position.Line, perr.LastKey, perr.Message)
		}
		return fmt.Errorf("config: line %d: %s", perr.Position.Line, perr.Message)
	}
	return fmt.Errorf("config: %w", err)
}

// KeyError is a validation error tied to a config key.
type KeyError struct {
	Key string
	Msg string
}

func (e *KeyError) Error() string { return "config: " + e.Key + ": " + e.Msg }

func keyErr(key, format string, args ...any) error {
	return &KeyError{Key: key, Msg: fmt.Sprintf(format, args...)}
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// Validate fills defaults and checks every key, returning the first problem
// found with the key it is about.
func (c *Config) Validate() error {
	if c.PollInterval == 0 && !c.written["poll_interval"] {
		c.PollInterval = Duration(DefaultPollInterval)
	}
	if c.CatchUp == 0 && !c.written["catch_up"] {
		c.CatchUp = Duration(DefaultCatchUp) // "0s" written means no catch-up
	}
	if c.DBOutageWindow == 0 && !c.written["db_outage_window"] {
		c.DBOutageWindow = Duration(DefaultDBOutageWindow)
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if err := c.validateToken(); err != nil {
		return err
	}
	if u := c.DatabaseURL.Value(); u != "" && !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") {
		return keyErr("database_url (or DATABASE_URL)", "is not a PostgreSQL URL: write it like postgres://user:password@host:5432/rollcall, or leave it empty for a private database under --data-dir")
	}
	if p := c.PollInterval.D(); p < time.Second || p > 30*time.Second {
		return keyErr("poll_interval", "%v is out of range: use 1s to 30s (a minute is only counted if a poll falls inside it)", p)
	}
	if c.CatchUp.D() < 0 || c.CatchUp.D() > 7*24*time.Hour {
		return keyErr("catch_up", "%v is out of range: use 0s to 168h", c.CatchUp.D())
	}
	if w := c.DBOutageWindow.D(); w < time.Minute || w > 24*time.Hour {
		return keyErr("db_outage_window", "%v is out of range: use 1m to 24h", w)
	}
	switch c.Commands {
	case "":
		c.Commands = "guild"
	case "guild", "global":
	default:
		return keyErr("commands", "%q is not a choice: use \"guild\" (instant, per configured guild) or \"global\"", c.Commands)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return keyErr("log_level", "%q is not a level: use debug, info, warn or error", c.LogLevel)
	}
	if len(c.Guilds) == 0 {
		return keyErr("guilds", "no guild configured: add a [[guilds]] table with id, timezone and at least one [[guilds.schedules]]")
	}
	seen := map[Snowflake]string{}
	for i := range c.Guilds {
		g := &c.Guilds[i]
		g.Key = fmt.Sprintf("guilds[%d]", i)
		if err := g.validate(); err != nil {
			return err
		}
		if prev, ok := seen[g.ID]; ok {
			return keyErr(g.Key+".id", "guild %d is configured twice (also at %s)", g.ID, prev)
		}
		seen[g.ID] = g.Key
	}
	return nil
}

func (c *Config) validateToken() error {
	t := c.Token.Value()
	if t == "" {
		return keyErr("token", "missing: set DISCORD_TOKEN or token = \"...\" (Discord Developer Portal > your application > Bot > Reset Token)")
	}
	parts := strings.Split(t, ".")
	if len(parts) != 3 {
		return keyErr("token", "does not look like a bot token (three parts separated by dots); the value is not shown")
	}
	id, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(parts[0], "="))
	if err != nil {
		return keyErr("token", "does not look like a bot token (its first part is not base64); the value is not shown")
	}
	if _, err := strconv.ParseUint(string(id), 10, 64); err != nil {
		return keyErr("token", "does not look like a bot token (its first part does not encode an application id); the value is not shown")
	}
	return nil
}

func (g *Guild) validate() error {
	if g.ID == 0 {
		return keyErr(g.Key+".id", "missing: the server's id (right-click the server > Copy Server ID)")
	}
	if g.TimeZone == "" {
		return keyErr(g.Key+".timezone", "missing: an IANA time zone such as \"Europe/Moscow\"")
	}
	loc, err := time.LoadLocation(g.TimeZone)
	if err != nil || g.TimeZone == "Local" {
		return keyErr(g.Key+".timezone", "%q is not an IANA time zone: use a name such as \"Europe/Moscow\" or \"America/New_York\"", g.TimeZone)
	}
	g.Location = loc
	switch g.EmptyReport {
	case "":
		g.EmptyReport = "post"
	case "post", "skip":
	default:
		return keyErr(g.Key+".empty_report", "%q is not a choice: use \"post\" or \"skip\"", g.EmptyReport)
	}
	if err := g.validateWeekly(); err != nil {
		return err
	}
	if len(g.Schedules) == 0 {
		return keyErr(g.Key+".schedules", "no schedule: add at least one [[guilds.schedules]] with a name and times")
	}
	names := map[string]bool{}
	for i := range g.Schedules {
		s := &g.Schedules[i]
		s.Key = fmt.Sprintf("%s.schedules[%d]", g.Key, i)
		if err := s.validate(loc); err != nil {
			return err
		}
		if names[strings.ToLower(s.Name)] {
			return keyErr(s.Key+".name", "%q is used by another schedule of this guild: names must differ", s.Name)
		}
		names[strings.ToLower(s.Name)] = true
		if len(s.ReportChannels) == 0 {
			s.ReportChannels = g.ReportChannels
		}
		if len(s.ReportChannels) == 0 {
			return keyErr(s.Key+".report_channels", "no report channel: set report_channels on the guild or the schedule")
		}
	}
	return g.checkOverlaps()
}

func (g *Guild) validateWeekly() error {
	w := &g.WeeklyReport
	key := g.Key + ".weekly_report"
	w.On = w.Enabled == nil || *w.Enabled
	if w.Day == "" {
		w.Day = "mon"
	}
	d, ok := weekdays[strings.ToLower(w.Day)]
	if !ok {
		return keyErr(key+".day", "%q is not a day: use mon, tue, wed, thu, fri, sat or sun", w.Day)
	}
	w.Dow = d
	if w.Time == "" {
		w.Time = "00:00"
	}
	at, err := attendance.ParseTimeOfDay(w.Time)
	if err != nil {
		return keyErr(key+".time", "%v", err)
	}
	w.At = at
	if len(w.Channels) == 0 {
		w.Channels = g.ReportChannels
	}
	if w.On && len(w.Channels) == 0 {
		return keyErr(key+".channels", "no channel for the weekly report: set channels here or report_channels on the guild, or enabled = false")
	}
	return nil
}

func (s *Schedule) validate(loc *time.Location) error {
	s.Name = strings.TrimSpace(s.Name)
	if s.Name == "" {
		return keyErr(s.Key+".name", "missing: a name people recognise, e.g. \"БЗС\" or \"Raid night\"")
	}
	if len([]rune(s.Name)) > 64 {
		return keyErr(s.Key+".name", "is %d characters long: keep it to 64", len([]rune(s.Name)))
	}
	var days []time.Weekday
	for i, d := range s.Days {
		wd, ok := weekdays[strings.ToLower(strings.TrimSpace(d))]
		if !ok {
			return keyErr(fmt.Sprintf("%s.days[%d]", s.Key, i), "%q is not a day: use mon, tue, wed, thu, fri, sat or sun", d)
		}
		days = append(days, wd)
	}
	if len(s.Times) == 0 {
		return keyErr(s.Key+".times", "missing: the local start times, e.g. [\"16:00\", \"21:00\"]")
	}
	var starts []attendance.TimeOfDay
	for i, t := range s.Times {
		tod, err := attendance.ParseTimeOfDay(t)
		if err != nil {
			return keyErr(fmt.Sprintf("%s.times[%d]", s.Key, i), "%v", err)
		}
		starts = append(starts, tod)
	}
	s.Duration = DefaultDuration
	if s.DurationSet != nil {
		s.Duration = s.DurationSet.D()
	}
	d := s.Duration
	if d <= 0 || d > attendance.MaxDuration || d%time.Minute != 0 {
		return keyErr(s.Key+".duration", "%v is out of range: use whole minutes from 1m to 24h (e.g. \"60m\")", d)
	}
	if len(s.VoiceChannels) == 0 && len(s.VoiceChannelNames) == 0 {
		return keyErr(s.Key, "no voice channel to watch: set voice_channels (ids) and/or voice_channel_names (name substrings)")
	}
	for i, n := range s.VoiceChannelNames {
		if strings.TrimSpace(n) == "" {
			return keyErr(fmt.Sprintf("%s.voice_channel_names[%d]", s.Key, i), "is empty: an empty substring would match every channel")
		}
	}
	s.Parsed = attendance.Schedule{Name: s.Name, Days: days, Starts: starts, Duration: d, Location: loc}
	return s.validateRules()
}

func (s *Schedule) validateRules() error {
	r := attendance.DefaultRules()
	if s.MinMinutes != nil {
		r.MinMinutes = *s.MinMinutes
	}
	if s.CountSelfMuted != nil {
		r.CountSelfMuted = *s.CountSelfMuted
	}
	if s.CountSelfDeafened != nil {
		r.CountSelfDeafened = *s.CountSelfDeafened
	}
	if s.CountServerDeafened != nil {
		r.CountServerDeafened = *s.CountServerDeafened
	}
	minutes := int(s.Duration / time.Minute)
	for _, x := range []struct {
		key string
		v   *Duration
		dst *int
	}{{"late_after", s.LateAfter, &r.LateAfter}, {"left_early_before", s.LeftEarlyBefore, &r.LeftEarlyBefore}} {
		if x.v == nil {
			continue
		}
		d := x.v.D()
		if d < 0 || d%time.Minute != 0 || d >= s.Duration {
			return keyErr(s.Key+"."+x.key, "%v is out of range: use whole minutes from 0m (off) to less than the event's %v", d, s.Duration)
		}
		*x.dst = int(d / time.Minute)
	}
	// The defaults of five minutes cannot apply to a very short event.
	r.LateAfter = min(r.LateAfter, minutes-1)
	r.LeftEarlyBefore = min(r.LeftEarlyBefore, minutes-1)
	if r.MinMinutes < 1 || r.MinMinutes > minutes {
		return keyErr(s.Key+".min_minutes", "%d is out of range: use 1 to the event's %d minutes", r.MinMinutes, minutes)
	}
	s.Rules = r
	return nil
}

// sharesChannels reports whether two schedules may watch a common channel:
// the same id, or name substrings of which one contains the other.
func sharesChannels(a, b *Schedule) bool {
	for _, x := range a.VoiceChannels {
		for _, y := range b.VoiceChannels {
			if x == y {
				return true
			}
		}
	}
	for _, x := range a.VoiceChannelNames {
		for _, y := range b.VoiceChannelNames {
			lx, ly := strings.ToLower(x), strings.ToLower(y)
			if strings.Contains(lx, ly) || strings.Contains(ly, lx) {
				return true
			}
		}
	}
	return false
}

// checkOverlaps refuses schedules whose events overlap in time on the same
// channels: a member's minute would count twice. Two weeks are checked, which
// covers every weekday combination and a midnight crossing.
func (g *Guild) checkOverlaps() error {
	from := time.Date(2026, 1, 5, 0, 0, 0, 0, g.Location) // a Monday without DST changes nearby
	to := from.AddDate(0, 0, 14)
	for i := range g.Schedules {
		a := &g.Schedules[i]
		occA := a.Parsed.Occurrences(from, to)
		for k := 1; k < len(occA); k++ {
			if occA[k].Start.Before(occA[k-1].End) {
				return keyErr(a.Key+".times", "the event at %s starts before the one at %s has ended (duration %v): events of one schedule must not overlap",
					occA[k].Start.Format("15:04"), occA[k-1].Start.Format("15:04"), a.Duration)
			}
		}
		for j := i + 1; j < len(g.Schedules); j++ {
			b := &g.Schedules[j]
			if !sharesChannels(a, b) {
				continue
			}
			for _, x := range occA {
				for _, y := range b.Parsed.Occurrences(from, to) {
					if x.Start.Before(y.End) && y.Start.Before(x.End) {
						return keyErr(b.Key, "overlaps %s (%q at %s %s and %q at %s %s) on the same voice channels: a minute would count twice; move the times or watch different channels",
							a.Key, a.Name, x.Start.Format("Mon"), x.Start.Format("15:04"), b.Name, y.Start.Format("Mon"), y.Start.Format("15:04"))
					}
				}
			}
		}
	}
	return nil
}

// String describes the configuration without secrets, for logs.
func (c *Config) String() string {
	return fmt.Sprintf("token=%s database_url=%s poll_interval=%v guilds=%d", c.Token, c.DatabaseURL, c.PollInterval.D(), len(c.Guilds))
}

// ScheduleByName returns the guild's schedule with that name, or nil.
func (g *Guild) ScheduleByName(name string) *Schedule {
	for i := range g.Schedules {
		if g.Schedules[i].Name == name {
			return &g.Schedules[i]
		}
	}
	return nil
}

// Native reports whether the guild records Discord Scheduled Events.
func (g *Guild) Native() bool { return g.NativeEvents == nil || *g.NativeEvents }
