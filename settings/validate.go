package settings

import (
	"slices"
	"strings"
	"time"

	"rollcall/attendance"
)

// Defaults.
const (
	DefaultDuration = 60 * time.Minute
	// MaxSchedules bounds one guild's schedules (a pick list in Discord holds 25).
	MaxSchedules = 25
	// MaxTimes bounds one schedule's start times.
	MaxTimes = 24
	// MaxChannels bounds a list of channels or roles.
	MaxChannels = 25
	// DefaultDepartedRetention is how long a departed guild's data is kept.
	DefaultDepartedRetention = 30 * 24 * time.Hour
	// MaxRoleRules bounds one guild's role rules.
	MaxRoleRules = 25
	// MaxRuleEvents bounds of_last and streak; MaxRuleDays the windows.
	MaxRuleEvents = 100
	MaxRuleDays   = 365
)

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// WeekdayName is the key a day is written with ("mon").
func WeekdayName(d time.Weekday) string {
	return [...]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}[d]
}

// ParseWeekday reads "mon" … "sun".
func ParseWeekday(s string) (time.Weekday, bool) {
	d, ok := weekdays[strings.ToLower(strings.TrimSpace(s))]
	return d, ok
}

// Validate checks a guild's settings, fills defaults and returns the
// validated value, or every problem found. key is the guild's path in the
// file ("guilds[0]"), or "" for a guild managed from Discord. The spec is
// not changed; the Guild holds a normalized copy.
func Validate(spec Spec, key string, src Source) (*Guild, Problems) {
	spec = normalize(spec)
	ps := &problems{}
	g := &Guild{ID: uint64(spec.ID), Key: key, Source: src, Spec: spec}
	if spec.ID == 0 {
		ps.add(at(key, "id", -1), "id", -1, "id_missing")
	}
	switch {
	case spec.TimeZone == "":
		ps.add(at(key, "timezone", -1), "timezone", -1, "tz_missing")
	default:
		loc, err := time.LoadLocation(spec.TimeZone)
		if err != nil || spec.TimeZone == "Local" {
			ps.add(at(key, "timezone", -1), "timezone", -1, "tz_bad", Clip(spec.TimeZone))
		} else {
			g.Location = loc
		}
	}
	switch spec.Language {
	case "", "auto":
		g.Language = "auto"
	case "en", "ru":
		g.Language = spec.Language
	default:
		ps.add(at(key, "language", -1), "language", -1, "language_bad", Clip(spec.Language))
	}
	g.ReportChannels = ids(spec.ReportChannels)
	checkList(ps, key, "report_channels", spec.ReportChannels)
	g.EmptyReport = spec.EmptyReport
	switch spec.EmptyReport {
	case "":
		g.EmptyReport = "post"
	case "post", "skip":
	default:
		ps.add(at(key, "empty_report", -1), "empty_report", -1, "empty_report_bad", Clip(spec.EmptyReport))
	}
	g.ModeratorRoles = ids(spec.ModeratorRoles)
	checkList(ps, key, "moderator_roles", spec.ModeratorRoles)
	g.RosterRoles = ids(spec.RosterRoles)
	checkList(ps, key, "roster_roles", spec.RosterRoles)
	g.NativeEvents = spec.NativeEvents == nil || *spec.NativeEvents
	g.PausedByDefault = spec.PausedByDefault != nil && *spec.PausedByDefault
	if r := spec.Retention; r != nil {
		if *r < 7 || *r > 36600 {
			ps.add(at(key, "retention", -1), "retention", -1, "retention_range", int(*r))
		}
		g.Retention = time.Duration(*r) * 24 * time.Hour
	}
	g.DepartedRetention = DefaultDepartedRetention
	if r := spec.DepartedGuildRetention; r != nil {
		if *r > 365 {
			ps.add(at(key, "departed_guild_retention", -1), "departed_guild_retention", -1, "departed_range", int(*r))
		}
		g.DepartedRetention = time.Duration(*r) * 24 * time.Hour
	}
	g.Weekly = validateWeekly(ps, spec, key)

	if len(spec.Schedules) > MaxSchedules {
		ps.add(at(key, "schedules", -1), "schedules", -1, "too_many_schedules", len(spec.Schedules), MaxSchedules)
	}
	names := map[string]bool{}
	for i, ss := range spec.Schedules {
		skey := at(key, "schedules", i)
		ps.schedule = ss.Name
		s := validateSchedule(ps, ss, skey, g.Location)
		if s.Name != "" && names[strings.ToLower(s.Name)] {
			ps.add(at(skey, "name", -1), "name", -1, "name_taken", Clip(s.Name))
		}
		names[strings.ToLower(s.Name)] = true
		if len(s.ReportChannels) == 0 {
			s.ReportChannels = g.ReportChannels
		}
		if len(s.ReportChannels) == 0 {
			ps.add(at(skey, "report_channels", -1), "report_channels", -1, "no_report_channel")
		}
		g.Schedules = append(g.Schedules, s)
	}
	ps.schedule = ""
	validateRoleRules(ps, spec, key, g)
	if len(ps.list) == 0 {
		checkOverlaps(ps, g)
	}
	if len(ps.list) > 0 {
		return nil, ps.list
	}
	return g, nil
}

func validateRoleRules(ps *problems, spec Spec, key string, g *Guild) {
	if len(spec.RoleRules) > MaxRoleRules {
		ps.add(at(key, "role_rules", -1), "role_rules", -1, "too_many_rules", len(spec.RoleRules), MaxRoleRules)
	}
	seen := map[Snowflake]bool{}
	for i, rs := range spec.RoleRules {
		rkey := at(key, "role_rules", i)
		r := RoleRule{Key: rkey, Role: uint64(rs.Role), Schedule: rs.Schedule, ManageExisting: rs.ManageExisting != nil && *rs.ManageExisting}
		switch {
		case rs.Role == 0:
			ps.add(at(rkey, "role", -1), "role", -1, "rule_role_missing")
		case rs.Role == spec.ID:
			ps.add(at(rkey, "role", -1), "role", -1, "rule_role_everyone")
		case seen[rs.Role]:
			ps.add(at(rkey, "role", -1), "role", -1, "rule_role_taken", uint64(rs.Role))
		}
		seen[rs.Role] = true
		count := func(field string, v *int, lo, hi int) int {
			if v == nil {
				return 0
			}
			if *v < lo || *v > hi {
				ps.add(at(rkey, field, -1), field, -1, "rule_count_range", *v, lo, hi)
			}
			return *v
		}
		days := func(field string, v *Days) time.Duration {
			if v == nil {
				return 0
			}
			if *v < 1 || *v > MaxRuleDays {
				ps.add(at(rkey, field, -1), field, -1, "rule_days_range", int(*v), MaxRuleDays)
			}
			return time.Duration(*v) * 24 * time.Hour
		}
		r.Attended = count("attended_at_least", rs.AttendedAtLeast, 1, MaxRuleEvents)
		r.OfLast = count("of_last", rs.OfLast, 1, MaxRuleEvents)
		r.Minutes = count("minutes_at_least", rs.MinutesAtLeast, 1, 100000)
		r.MinutesWindow = days("minutes_in_last", rs.MinutesInLast)
		r.Streak = count("streak", rs.Streak, 2, MaxRuleEvents)
		r.Inactive = days("inactive_for", rs.InactiveFor)
		switch {
		case r.Attended > 0 && r.OfLast == 0:
			r.OfLast = r.Attended // "attended the last N"
		case r.OfLast > 0 && r.Attended == 0:
			ps.add(at(rkey, "attended_at_least", -1), "attended_at_least", -1, "rule_of_last_alone")
		case r.Attended > r.OfLast:
			ps.add(at(rkey, "of_last", -1), "of_last", -1, "rule_of_last_small", r.OfLast, r.Attended)
		}
		if (r.Minutes > 0) != (r.MinutesWindow > 0) {
			ps.add(at(rkey, "minutes_in_last", -1), "minutes_in_last", -1, "rule_minutes_pair")
		}
		if r.Inactive > 0 && (r.Attended > 0 || r.Minutes > 0 || r.Streak > 0) {
			ps.add(at(rkey, "inactive_for", -1), "inactive_for", -1, "rule_inactive_alone")
		}
		if r.Attended == 0 && r.Minutes == 0 && r.Streak == 0 && r.Inactive == 0 && r.MinutesWindow == 0 && r.OfLast == 0 {
			ps.add(rkey, "role_rules", i, "rule_no_condition")
		}
		if r.Schedule != "" {
			found := false
			for _, sc := range spec.Schedules {
				found = found || strings.EqualFold(sc.Name, r.Schedule)
				if strings.EqualFold(sc.Name, r.Schedule) {
					r.Schedule = sc.Name
				}
			}
			switch {
			case !found:
				ps.add(at(rkey, "schedule", -1), "schedule", -1, "rule_schedule_unknown", Clip(r.Schedule))
			case r.Attended == 0 && r.Streak == 0:
				ps.add(at(rkey, "schedule", -1), "schedule", -1, "rule_schedule_unused")
			}
		}
		g.RoleRules = append(g.RoleRules, r)
	}
}

// normalize trims what people add by accident, so that " БЗС" and "БЗС"
// are one name and a stored document compares equal to what was typed.
func normalize(s Spec) Spec {
	s.TimeZone = strings.TrimSpace(s.TimeZone)
	s.Language = strings.ToLower(strings.TrimSpace(s.Language))
	s.EmptyReport = strings.ToLower(strings.TrimSpace(s.EmptyReport))
	s.WeeklyReport.Day = strings.ToLower(strings.TrimSpace(s.WeeklyReport.Day))
	s.WeeklyReport.Time = strings.TrimSpace(s.WeeklyReport.Time)
	s.RoleRules = slices.Clone(s.RoleRules)
	for i := range s.RoleRules {
		s.RoleRules[i].Schedule = strings.TrimSpace(s.RoleRules[i].Schedule)
	}
	s.Schedules = slices.Clone(s.Schedules)
	for i := range s.Schedules {
		sc := &s.Schedules[i]
		sc.Name = strings.TrimSpace(sc.Name)
		sc.Days = slices.Clone(sc.Days)
		for j := range sc.Days {
			sc.Days[j] = strings.ToLower(strings.TrimSpace(sc.Days[j]))
		}
		sc.Times = slices.Clone(sc.Times)
		for j := range sc.Times {
			sc.Times[j] = strings.TrimSpace(sc.Times[j])
		}
	}
	return s
}

func checkList(ps *problems, key, field string, xs []Snowflake) {
	if len(xs) > MaxChannels {
		ps.add(at(key, field, -1), field, -1, "too_many_channels", len(xs), MaxChannels)
	}
	seen := map[Snowflake]bool{}
	for i, x := range xs {
		if seen[x] {
			ps.add(at(key, field, i), field, i, "channel_duplicate", uint64(x))
		}
		seen[x] = true
	}
}

func validateWeekly(ps *problems, spec Spec, key string) Weekly {
	w := spec.WeeklyReport
	key = at(key, "weekly_report", -1)
	out := Weekly{On: w.Enabled == nil || *w.Enabled, Day: time.Monday, Channels: ids(w.Channels)}
	if w.Day != "" {
		d, ok := ParseWeekday(w.Day)
		if !ok {
			ps.add(at(key, "day", -1), "day", -1, "day_bad", Clip(w.Day))
		}
		out.Day = d
	}
	if w.Time != "" {
		tod, err := attendance.ParseTimeOfDay(w.Time)
		if err != nil {
			ps.add(at(key, "time", -1), "time", -1, "time_bad", Clip(w.Time))
		}
		out.At = tod
	}
	checkList(ps, key, "channels", w.Channels)
	if len(out.Channels) == 0 {
		out.Channels = ids(spec.ReportChannels)
	}
	if out.On && len(out.Channels) == 0 {
		ps.add(at(key, "channels", -1), "channels", -1, "weekly_no_channel")
	}
	return out
}

func validateSchedule(ps *problems, ss ScheduleSpec, key string, loc *time.Location) Schedule {
	s := Schedule{Name: ss.Name, Key: key, VoiceChannels: ids(ss.VoiceChannels), VoiceChannelNames: ss.VoiceChannelNames, ReportChannels: ids(ss.ReportChannels)}
	switch {
	case s.Name == "":
		ps.add(at(key, "name", -1), "name", -1, "name_missing")
	case LooksSecret(s.Name):
		// A name is shown in every report: a token pasted here would be posted.
		ps.add(at(key, "name", -1), "name", -1, "value_secret_shaped")
	case len([]rune(s.Name)) > 64:
		n := len([]rune(s.Name))
		ps.add(at(key, "name", -1), "name", -1, "name_long", n)
	}
	var days []time.Weekday
	for i, d := range ss.Days {
		wd, ok := ParseWeekday(d)
		if !ok {
			ps.add(at(key, "days", i), "days", i, "day_bad", Clip(d))
			continue
		}
		if !slices.Contains(days, wd) {
			days = append(days, wd)
		}
	}
	if len(ss.Times) == 0 {
		ps.add(at(key, "times", -1), "times", -1, "times_missing")
	} else if len(ss.Times) > MaxTimes {
		ps.add(at(key, "times", -1), "times", -1, "too_many_times", len(ss.Times), MaxTimes)
	}
	var starts []attendance.TimeOfDay
	for i, t := range ss.Times {
		tod, err := attendance.ParseTimeOfDay(t)
		if err != nil {
			ps.add(at(key, "times", i), "times", i, "time_bad", Clip(t))
			continue
		}
		starts = append(starts, tod)
	}
	s.Duration = DefaultDuration
	if ss.Duration != nil {
		s.Duration = ss.Duration.D()
	}
	durationOK := s.Duration > 0 && s.Duration <= attendance.MaxDuration && s.Duration%time.Minute == 0
	if !durationOK {
		ps.add(at(key, "duration", -1), "duration", -1, "duration_range", FormatDuration(s.Duration))
	}
	if len(ss.VoiceChannels) == 0 && len(ss.VoiceChannelNames) == 0 {
		ps.add(key, "voice_channels", -1, "no_voice")
	}
	checkList(ps, key, "voice_channels", ss.VoiceChannels)
	checkList(ps, key, "report_channels", ss.ReportChannels)
	for i, n := range ss.VoiceChannelNames {
		switch {
		case strings.TrimSpace(n) == "":
			ps.add(at(key, "voice_channel_names", i), "voice_channel_names", i, "voice_name_empty")
		case len([]rune(n)) > 100:
			ps.add(at(key, "voice_channel_names", i), "voice_channel_names", i, "voice_name_long", len([]rune(n)))
		case LooksSecret(n):
			ps.add(at(key, "voice_channel_names", i), "voice_channel_names", i, "value_secret_shaped")
		}
	}
	s.Parsed = attendance.Schedule{Name: s.Name, Days: days, Starts: starts, Duration: s.Duration, Location: loc}
	if durationOK {
		s.Rules = validateRules(ps, ss, key, s.Duration)
	}
	return s
}

func validateRules(ps *problems, ss ScheduleSpec, key string, d time.Duration) attendance.Rules {
	r := attendance.DefaultRules()
	if ss.MinMinutes != nil {
		r.MinMinutes = *ss.MinMinutes
	}
	if ss.CountSelfMuted != nil {
		r.CountSelfMuted = *ss.CountSelfMuted
	}
	if ss.CountSelfDeafened != nil {
		r.CountSelfDeafened = *ss.CountSelfDeafened
	}
	if ss.CountServerDeafened != nil {
		r.CountServerDeafened = *ss.CountServerDeafened
	}
	minutes := int(d / time.Minute)
	for _, x := range []struct {
		field string
		v     *Duration
		dst   *int
	}{{"late_after", ss.LateAfter, &r.LateAfter}, {"left_early_before", ss.LeftEarlyBefore, &r.LeftEarlyBefore}} {
		if x.v == nil {
			continue
		}
		v := x.v.D()
		if v < 0 || v%time.Minute != 0 || v >= d {
			ps.add(at(key, x.field, -1), x.field, -1, "rule_range", FormatDuration(v), FormatDuration(d))
			continue
		}
		*x.dst = int(v / time.Minute)
	}
	// The defaults of five minutes cannot apply to a very short event.
	r.LateAfter = min(r.LateAfter, minutes-1)
	r.LeftEarlyBefore = min(r.LeftEarlyBefore, minutes-1)
	if r.MinMinutes < 1 || r.MinMinutes > minutes {
		ps.add(at(key, "min_minutes", -1), "min_minutes", -1, "min_minutes_range", r.MinMinutes, minutes)
	}
	return r
}

// sharesChannels reports whether two schedules may watch a common channel:
// the same id, or name substrings of which one contains the other.
func sharesChannels(a, b *Schedule) bool {
	for _, x := range a.VoiceChannels {
		if slices.Contains(b.VoiceChannels, x) {
			return true
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
func checkOverlaps(ps *problems, g *Guild) {
	from := time.Date(2026, 1, 5, 0, 0, 0, 0, g.Location) // a Monday without DST changes nearby
	to := from.AddDate(0, 0, 14)
	for i := range g.Schedules {
		a := &g.Schedules[i]
		ps.schedule = a.Name
		occA := a.Parsed.Occurrences(from, to)
		for k := 1; k < len(occA); k++ {
			if occA[k].Start.Before(occA[k-1].End) {
				ps.add(at(a.Key, "times", -1), "times", -1, "self_overlap",
					occA[k].Start.Format("15:04"), occA[k-1].Start.Format("15:04"), FormatDuration(a.Duration))
				break
			}
		}
		for j := i + 1; j < len(g.Schedules); j++ {
			b := &g.Schedules[j]
			if !sharesChannels(a, b) {
				continue
			}
			ps.schedule = b.Name
		pairs:
			for _, x := range occA {
				for _, y := range b.Parsed.Occurrences(from, to) {
					if x.Start.Before(y.End) && y.Start.Before(x.End) {
						ps.add(at(b.Key, "times", -1), "times", -1, "schedules_overlap",
							a.Name, x.Start.Format("Mon"), x.Start.Format("15:04"), y.Start.Format("Mon"), y.Start.Format("15:04"))
						break pairs
					}
				}
			}
			ps.schedule = a.Name
		}
	}
	ps.schedule = ""
}
