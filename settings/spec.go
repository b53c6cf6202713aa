// Package settings is what a community decides about rollcall in one guild:
// its time zone, schedules, attendance rules, channels, roles and language.
//
// A guild's settings come from one of two places, with one meaning: a
// [[guilds]] table in config.toml on the host, or the document moderators
// edit from Discord with /rollcall, stored in PostgreSQL. Both are a Spec (the
// form a person writes), and both become a *Guild (the validated value the
// poller, the posts and the commands read) through the same Validate. Nothing
// below package app reads the configuration file.
package settings

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Spec is one guild's settings as a person writes them: the [[guilds]] table
// of config.toml, the JSON document stored for a guild managed from Discord,
// and what /rollcall export prints. Field names are the file's keys.
type Spec struct {
	ID       Snowflake `toml:"id" json:"id"`
	TimeZone string    `toml:"timezone" json:"timezone"`
	// Language of automatic posts: "en", "ru", or "auto" (the server's
	// Discord locale; the default).
	Language       string      `toml:"language,omitempty" json:"language,omitempty"`
	ReportChannels []Snowflake `toml:"report_channels" json:"report_channels"`
	// EmptyReport says what to do when nobody attended: "post" a short
	// message (default) or "skip".
	EmptyReport string `toml:"empty_report,omitempty" json:"empty_report,omitempty"`
	// ModeratorRoles may use the moderator commands, besides members with
	// the Manage Server permission.
	ModeratorRoles []Snowflake `toml:"moderator_roles,omitempty" json:"moderator_roles,omitempty"`
	// RosterRoles limit who is expected at events to holders of these
	// roles; empty means every member who is not a bot.
	RosterRoles []Snowflake `toml:"roster_roles,omitempty" json:"roster_roles,omitempty"`
	// NativeEvents makes every Discord Scheduled Event in a voice or stage
	// channel an occurrence too (default true).
	NativeEvents *bool `toml:"native_events,omitempty" json:"native_events,omitempty"`
	// Retention purges attendance older than this once a day ("365d");
	// unset keeps everything.
	Retention *Days `toml:"retention,omitempty" json:"retention,omitempty"`
	// PausedByDefault: members are not recorded until they opt in with
	// /privacy resume.
	PausedByDefault *bool `toml:"paused_by_default,omitempty" json:"paused_by_default,omitempty"`
	// DepartedGuildRetention is how long the guild's data is kept after the
	// bot leaves it (or it leaves the configuration); default 30d.
	DepartedGuildRetention *Days          `toml:"departed_guild_retention,omitempty" json:"departed_guild_retention,omitempty"`
	WeeklyReport           WeeklySpec     `toml:"weekly_report,omitempty" json:"weekly_report,omitzero"`
	Schedules              []ScheduleSpec `toml:"schedules" json:"schedules"`
	// RoleRules give roles to members by their attendance and take them
	// away when they no longer qualify.
	RoleRules []RoleRuleSpec `toml:"role_rules,omitempty" json:"role_rules,omitempty"`
}

// RoleRuleSpec gives Role to every member who meets all the conditions set
// and takes it away from those who no longer do. At least one condition.
type RoleRuleSpec struct {
	Role Snowflake `toml:"role" json:"role"`
	// AttendedAtLeast of the last OfLast events (of Schedule, if set).
	AttendedAtLeast *int `toml:"attended_at_least,omitempty" json:"attended_at_least,omitempty"`
	OfLast          *int `toml:"of_last,omitempty" json:"of_last,omitempty"`
	// MinutesAtLeast counted minutes in the last MinutesInLast days.
	MinutesAtLeast *int  `toml:"minutes_at_least,omitempty" json:"minutes_at_least,omitempty"`
	MinutesInLast  *Days `toml:"minutes_in_last,omitempty" json:"minutes_in_last,omitempty"`
	// Streak: at least this many events in a row (of Schedule, if set).
	Streak *int `toml:"streak,omitempty" json:"streak,omitempty"`
	// InactiveFor: no event attended for this long (an "inactive" role).
	InactiveFor *Days `toml:"inactive_for,omitempty" json:"inactive_for,omitempty"`
	// Schedule limits attended_at_least/of_last and streak to one schedule.
	Schedule string `toml:"schedule,omitempty" json:"schedule,omitempty"`
	// ManageExisting lets the rule take the role from members who got it
	// some other way (by hand); without it a rule only takes what it gave.
	ManageExisting *bool `toml:"manage_existing,omitempty" json:"manage_existing,omitempty"`
}

// WeeklySpec configures the automatic weekly post.
type WeeklySpec struct {
	Enabled  *bool       `toml:"enabled,omitempty" json:"enabled,omitempty"`   // default true
	Day      string      `toml:"day,omitempty" json:"day,omitempty"`           // default "mon"
	Time     string      `toml:"time,omitempty" json:"time,omitempty"`         // default "00:00"
	Channels []Snowflake `toml:"channels,omitempty" json:"channels,omitempty"` // default: the guild's report_channels
}

// ScheduleSpec is one recurring event as written.
type ScheduleSpec struct {
	Name              string      `toml:"name" json:"name"`
	Days              []string    `toml:"days,omitempty" json:"days,omitempty"`
	Times             []string    `toml:"times" json:"times"`
	Duration          *Duration   `toml:"duration,omitempty" json:"duration,omitempty"` // nil: the default
	VoiceChannels     []Snowflake `toml:"voice_channels,omitempty" json:"voice_channels,omitempty"`
	VoiceChannelNames []string    `toml:"voice_channel_names,omitempty" json:"voice_channel_names,omitempty"`
	ReportChannels    []Snowflake `toml:"report_channels,omitempty" json:"report_channels,omitempty"` // default: the guild's

	// Attendance rules; nil means the default (attendance.DefaultRules).
	MinMinutes          *int      `toml:"min_minutes,omitempty" json:"min_minutes,omitempty"`
	CountSelfMuted      *bool     `toml:"count_self_muted,omitempty" json:"count_self_muted,omitempty"`
	CountSelfDeafened   *bool     `toml:"count_self_deafened,omitempty" json:"count_self_deafened,omitempty"`
	CountServerDeafened *bool     `toml:"count_server_deafened,omitempty" json:"count_server_deafened,omitempty"`
	LateAfter           *Duration `toml:"late_after,omitempty" json:"late_after,omitempty"`
	LeftEarlyBefore     *Duration `toml:"left_early_before,omitempty" json:"left_early_before,omitempty"`
}

// Duration is a time.Duration written as "5s", "60m", "1h30m".
type Duration time.Duration

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("%q is not a duration: write it like \"5s\", \"60m\" or \"1h30m\"", Clip(string(b)))
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the shortest form a person would: "60m", "2h", "5s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(FormatDuration(time.Duration(d))), nil }

// FormatDuration writes d as a person would in the file: whole hours as
// "2h", whole minutes as "90m", seconds as "5s".
func FormatDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0m"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	case d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return d.String()
}

// Days is a span of whole days written "365d" (also "52w").
type Days int

// UnmarshalText reads "365d", "52w" or "0d".
func (d *Days) UnmarshalText(b []byte) error {
	s := strings.ToLower(strings.TrimSpace(string(b)))
	mult := 1
	switch {
	case strings.HasSuffix(s, "d"):
		s = s[:len(s)-1]
	case strings.HasSuffix(s, "w"):
		s, mult = s[:len(s)-1], 7
	default:
		return fmt.Errorf("%q is not a number of days: write it like \"365d\" or \"8w\"", Clip(string(b)))
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return fmt.Errorf("%q is not a number of days: write it like \"365d\" or \"8w\"", Clip(string(b)))
	}
	*d = Days(n * mult)
	return nil
}

// MarshalText writes "365d".
func (d Days) MarshalText() ([]byte, error) { return []byte(strconv.Itoa(int(d)) + "d"), nil }

// Snowflake is a Discord id, accepted as a TOML string or integer and
// written as a string (JSON numbers lose precision above 2^53).
type Snowflake uint64

// UnmarshalTOML accepts "123…" and 123….
func (s *Snowflake) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case string:
		n, err := ParseSnowflake(x)
		if err != nil {
			return err
		}
		*s = n
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

// MarshalText writes the id as digits.
func (s Snowflake) MarshalText() ([]byte, error) {
	return []byte(strconv.FormatUint(uint64(s), 10)), nil
}

// UnmarshalText reads digits (the JSON form).
func (s *Snowflake) UnmarshalText(b []byte) error {
	n, err := ParseSnowflake(string(b))
	if err != nil {
		return err
	}
	*s = n
	return nil
}

// ParseSnowflake reads a Discord id.
func ParseSnowflake(x string) (Snowflake, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(x), 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%q is not a Discord id: copy it with Developer Mode, e.g. \"123456789012345678\"", Clip(x))
	}
	return Snowflake(n), nil
}

func ids(xs []Snowflake) []uint64 {
	if len(xs) == 0 {
		return nil
	}
	out := make([]uint64, len(xs))
	for i, x := range xs {
		out[i] = uint64(x)
	}
	return out
}

// Clip shortens a value before it is quoted back in a message. A value
// shaped like a secret (a bot token pasted into the wrong key) is never
// quoted at all, not even in part.
func Clip(s string) string {
	if LooksSecret(s) {
		return "(a value shaped like a token, not shown)"
	}
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

// secretShape is a Discord bot token: three base64url parts separated by
// dots, the last one long; and anything with a URL password in it.
var secretShape = regexp.MustCompile(`[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{16,}|://[^/@\s:]*:[^/@\s]+@`)

// LooksSecret reports whether s contains something shaped like a bot token
// or a URL with a password, which messages must not echo.
func LooksSecret(s string) bool { return secretShape.MatchString(s) }

// HideSecrets replaces what LooksSecret finds in s with "[hidden]".
func HideSecrets(s string) string { return secretShape.ReplaceAllString(s, "[hidden]") }
