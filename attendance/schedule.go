// Package attendance is rollcall's domain: schedules and the occurrences they
// produce in a guild's time zone, week boundaries, and per-minute presence
// masks. It knows nothing of Discord, the database or charts.
package attendance

import (
	"fmt"
	"sort"
	"time"
)

// MaxDuration is the longest event a schedule may describe.
const MaxDuration = 24 * time.Hour

// TimeOfDay is a local wall-clock time, minutes after midnight.
type TimeOfDay int

// ParseTimeOfDay reads "HH:MM" (24-hour clock).
func ParseTimeOfDay(s string) (TimeOfDay, error) {
	var h, m int
	if len(s) != 5 || s[2] != ':' {
		return 0, fmt.Errorf("%q is not a time of day: want HH:MM, e.g. 16:00", s)
	}
	if _, err := fmt.Sscanf(s, "%02d:%02d", &h, &m); err != nil || h > 23 || m > 59 || h < 0 || m < 0 {
		return 0, fmt.Errorf("%q is not a time of day: want HH:MM between 00:00 and 23:59", s)
	}
	return TimeOfDay(h*60 + m), nil
}

// String formats as HH:MM.
func (t TimeOfDay) String() string { return fmt.Sprintf("%02d:%02d", int(t)/60, int(t)%60) }

// Schedule describes a recurring event in one guild's time zone.
type Schedule struct {
	Name     string
	Days     []time.Weekday // empty means every day
	Starts   []TimeOfDay
	Duration time.Duration
	Location *time.Location
}

// Occurrence is one run of a schedule, with absolute start and end.
type Occurrence struct {
	Schedule string
	Start    time.Time // in the schedule's location
	End      time.Time
}

// Minutes is the number of whole minutes the occurrence spans.
func (o Occurrence) Minutes() int { return int(o.End.Sub(o.Start) / time.Minute) }

// Contains reports whether t falls inside [Start, End).
func (o Occurrence) Contains(t time.Time) bool { return !t.Before(o.Start) && t.Before(o.End) }

// MinuteAt is the index of the minute of the occurrence that contains t.
func (o Occurrence) MinuteAt(t time.Time) int { return int(t.Sub(o.Start) / time.Minute) }

func (s Schedule) runsOn(d time.Weekday) bool {
	if len(s.Days) == 0 {
		return true
	}
	for _, x := range s.Days {
		if x == d {
			return true
		}
	}
	return false
}

// Occurrences lists the schedule's occurrences that overlap [from, to), in
// start order. A start time that does not exist on a DST spring-forward day
// is moved forward by the gap, as time.Date does; on a fall-back day the
// first of the two wall times is used, so an event never runs twice a day.
func (s Schedule) Occurrences(from, to time.Time) []Occurrence {
	loc := s.Location
	if loc == nil {
		loc = time.UTC
	}
	var out []Occurrence
	// Start a day early so an event that began yesterday and crosses midnight is found.
	d := from.In(loc).AddDate(0, 0, -1)
	day := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc)
	for ; day.Before(to); day = day.AddDate(0, 0, 1) {
		if !s.runsOn(day.Weekday()) {
			continue
		}
		for _, st := range s.Starts {
			start := time.Date(day.Year(), day.Month(), day.Day(), int(st)/60, int(st)%60, 0, 0, loc)
			o := Occurrence{Schedule: s.Name, Start: start, End: start.Add(s.Duration)}
			if o.End.After(from) && o.Start.Before(to) {
				out = append(out, o)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

// Running returns the occurrences of s that contain t.
func (s Schedule) Running(t time.Time) []Occurrence {
	var out []Occurrence
	for _, o := range s.Occurrences(t, t.Add(time.Nanosecond)) {
		if o.Contains(t) {
			out = append(out, o)
		}
	}
	return out
}

// WeekStart returns Monday 00:00 of the week containing t, in loc.
func WeekStart(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	offset := (int(t.Weekday()) + 6) % 7 // Monday = 0
	d := t.AddDate(0, 0, -offset)
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc)
}

// Week is a Monday-to-Monday span in a guild's zone. It is 167, 168 or 169
// hours long depending on DST, which is why it is computed with dates, not
// by adding 7*24h.
type Week struct{ Start, End time.Time }

// WeekOf returns the week containing t in loc.
func WeekOf(t time.Time, loc *time.Location) Week {
	s := WeekStart(t, loc)
	return Week{Start: s, End: s.AddDate(0, 0, 7)}
}
