package settings

import (
	"slices"
	"time"

	"rollcall/attendance"
)

// Source says who manages a guild's settings.
type Source int

const (
	// FromDiscord: moderators manage them with /rollcall; stored in PostgreSQL.
	FromDiscord Source = iota
	// FromFile: a [[guilds]] table of config.toml on the host; read at start.
	FromFile
)

// Guild is one guild's validated settings, with defaults applied. A value
// is never changed once made: a change makes a new Guild, so a reader
// holding one (a running event, a report being drawn) keeps a consistent view.
type Guild struct {
	ID uint64
	// Key is the guild's path in the file ("guilds[0]"), or "" for a guild
	// managed from Discord: problems found later at run time name it.
	Key      string
	Source   Source
	Version  int // of the stored document; 0 for the file
	Location *time.Location
	// Language of automatic posts: "en", "ru", or "auto".
	Language       string
	ReportChannels []uint64
	EmptyReport    string // "post" or "skip"
	ModeratorRoles []uint64
	RosterRoles    []uint64
	NativeEvents   bool
	// Retention is how long attendance is kept (0: forever);
	// DepartedRetention how long after the bot leaves.
	Retention, DepartedRetention time.Duration
	// PausedByDefault: members are recorded only once they opt in.
	PausedByDefault bool
	Weekly          Weekly
	Schedules       []Schedule
	RoleRules       []RoleRule
	// Spec is what the settings were made from, normalized: what /rollcall
	// settings and export show.
	Spec Spec
}

// RoleRule is one validated role rule: Role for members meeting every
// condition whose figure is non-zero.
type RoleRule struct {
	Key  string // "guilds[0].role_rules[1]" or "role_rules[1]"
	Role uint64
	// Attended of the last OfLast events (of Schedule, if set).
	Attended, OfLast int
	// Minutes counted in the last MinutesWindow.
	Minutes       int
	MinutesWindow time.Duration
	// Streak events in a row (of Schedule, if set).
	Streak int
	// Inactive: no event attended for this long.
	Inactive       time.Duration
	Schedule       string
	ManageExisting bool
}

// RoleRuleFor returns the guild's rule of a role, or nil.
func (g *Guild) RoleRuleFor(role uint64) *RoleRule {
	for i := range g.RoleRules {
		if g.RoleRules[i].Role == role {
			return &g.RoleRules[i]
		}
	}
	return nil
}

// Weekly is the automatic weekly post.
type Weekly struct {
	On       bool
	Day      time.Weekday
	At       attendance.TimeOfDay
	Channels []uint64
}

// Schedule is one validated recurring event.
type Schedule struct {
	Name string
	// Key is the schedule's path ("guilds[0].schedules[1]" or "schedules[1]").
	Key               string
	Duration          time.Duration
	VoiceChannels     []uint64
	VoiceChannelNames []string
	ReportChannels    []uint64 // the guild's when not set
	Rules             attendance.Rules
	// Parsed is the schedule as the attendance package understands it.
	Parsed attendance.Schedule
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

// RulesFor returns a schedule's rules, or the defaults for native events,
// occurrences of a schedule no longer configured, and imported history.
func (g *Guild) RulesFor(schedule string, native bool) attendance.Rules {
	if !native {
		if s := g.ScheduleByName(schedule); s != nil {
			return s.Rules
		}
	}
	return attendance.DefaultRules()
}

// IsModeratorRole reports whether the role makes its holders moderators.
func (g *Guild) IsModeratorRole(role uint64) bool { return slices.Contains(g.ModeratorRoles, role) }

// PostChannels is every channel the guild's automatic posts go to.
func (g *Guild) PostChannels() []uint64 {
	var out []uint64
	add := func(xs []uint64) {
		for _, x := range xs {
			if !slices.Contains(out, x) {
				out = append(out, x)
			}
		}
	}
	add(g.ReportChannels)
	for _, s := range g.Schedules {
		add(s.ReportChannels)
	}
	if g.Weekly.On {
		add(g.Weekly.Channels)
	}
	return out
}

// WeeklyDue lists the instants in (after, upTo] at which the guild's weekly
// report falls due; none when it is off.
func (g *Guild) WeeklyDue(after, upTo time.Time) []time.Time {
	if !g.Weekly.On {
		return nil
	}
	return attendance.WeeklyDue(g.Weekly.Day, g.Weekly.At, g.Location, after, upTo)
}
