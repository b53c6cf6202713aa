package attendance

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// InputError is a problem with what a user typed: a message key (package
// view has the words) and its arguments, so the user reads it in their own
// language with an example of what works.
type InputError struct {
	Key  string
	Args []any
}

func (e *InputError) Error() string { return fmt.Sprintf("input: %s %v", e.Key, e.Args) }

func inputErr(key string, args ...any) error { return &InputError{Key: key, Args: args} }

// MaxSpanDays is the longest from/to period a command accepts; "all" is the
// one way to ask for more.
const MaxSpanDays = 366

// HistoryStart is where "all" begins: before it Discord did not exist, so
// no date before it is accepted.
var HistoryStart = time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)

// DateLayout is how dates are written: 2026-11-27.
const DateLayout = "2006-01-02"

// Span is the days from From up to (not including) To, both local midnights
// in the guild's zone.
type Span struct{ From, To time.Time }

// Days is the number of calendar days in the span (DST days count as one).
func (s Span) Days() int { return daysBetween(s.From, s.To) }

// Midnight is the start of t's local day in loc.
func Midnight(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}

// daysBetween counts calendar days from a to b by their dates alone, so a
// 23- or 25-hour DST day is still one day.
func daysBetween(a, b time.Time) int {
	ca := time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, time.UTC)
	cb := time.Date(b.Year(), b.Month(), b.Day(), 0, 0, 0, 0, time.UTC)
	return int(cb.Sub(ca).Hours() / 24)
}

// Example is a date to show in an error message: yesterday, which every
// command accepts.
func Example(now time.Time, loc *time.Location) string {
	return Midnight(now, loc).AddDate(0, 0, -1).Format(DateLayout)
}

var ddmmyyyy = regexp.MustCompile(`^(\d{1,2})\.(\d{1,2})\.(\d{4})$`)

// ParseDay reads a day without judging whether it lies in the future:
// "YYYY-MM-DD", "DD.MM.YYYY" (as Russian speakers write it), "today" or
// "yesterday" (also in Russian). It returns the day's local midnight.
func ParseDay(s string, now time.Time, loc *time.Location) (time.Time, error) {
	in := strings.ToLower(strings.TrimSpace(s))
	today := Midnight(now, loc)
	switch in {
	case "today", "сегодня":
		return today, nil
	case "yesterday", "вчера":
		return today.AddDate(0, 0, -1), nil
	}
	var y, m, d int
	if t, err := time.Parse(DateLayout, in); err == nil {
		y, m, d = t.Year(), int(t.Month()), t.Day()
	} else if sub := ddmmyyyy.FindStringSubmatch(in); sub != nil {
		d, _ = strconv.Atoi(sub[1])
		m, _ = strconv.Atoi(sub[2])
		y, _ = strconv.Atoi(sub[3])
		// time.Date would roll 31.02 over into March: refuse it instead.
		if t := time.Date(y, time.Month(m), d, 12, 0, 0, 0, time.UTC); t.Day() != d || int(t.Month()) != m {
			return time.Time{}, inputErr("err_date", Clip(s), Example(now, loc))
		}
	} else {
		return time.Time{}, inputErr("err_date", Clip(s), Example(now, loc))
	}
	if y < HistoryStart.Year() {
		// Also what keeps a year-0 date from overflowing a period's length.
		return time.Time{}, inputErr("err_date_before_discord", Clip(s), Example(now, loc))
	}
	// A zone whose clocks jump at midnight has no 00:00 that day;
	// time.Date then moves forward to the first instant that exists.
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, loc), nil
}

// ParseDate reads a day as parseDay does and refuses one after today: no
// event has happened there yet.
func ParseDate(s string, now time.Time, loc *time.Location) (time.Time, error) {
	d, err := ParseDay(s, now, loc)
	if err != nil {
		return time.Time{}, err
	}
	if d.After(Midnight(now, loc)) {
		return time.Time{}, inputErr("err_future_date", d.Format(DateLayout), Example(now, loc))
	}
	return d, nil
}

var isoWeek = regexp.MustCompile(`^(\d{4})-?w(\d{1,2})$`)

// ISOWeekStart is Monday 00:00 in loc of ISO week w of year y (week 1 holds
// the year's first Thursday, so it always holds 4 January).
func ISOWeekStart(y, w int, loc *time.Location) time.Time {
	jan4 := time.Date(y, time.January, 4, 0, 0, 0, 0, loc)
	monday := jan4.AddDate(0, 0, -((int(jan4.Weekday()) + 6) % 7))
	return monday.AddDate(0, 0, 7*(w-1))
}

// isoWeeks is the number of ISO weeks of year y (52 or 53).
func isoWeeks(y int) int {
	_, w := time.Date(y, time.December, 28, 12, 0, 0, 0, time.UTC).ISOWeek()
	return w
}

// ISOName writes a week as "2026-W47".
func ISOName(t time.Time) string {
	y, w := t.ISOWeek()
	return fmt.Sprintf("%04d-W%02d", y, w)
}

// ParseWeek reads a Monday-to-Sunday week in loc: "this" (also empty),
// "last", an ISO week "2026-W47", or any date inside it. A week that has not
// started is refused.
func ParseWeek(s string, now time.Time, loc *time.Location) (Week, error) {
	in := strings.ToLower(strings.TrimSpace(s))
	var w Week
	switch in {
	case "", "this", "current", "эта", "текущая", "this week":
		return WeekOf(now, loc), nil
	case "last", "previous", "прошлая", "last week":
		return WeekOf(WeekStart(now, loc).AddDate(0, 0, -1), loc), nil
	}
	if sub := isoWeek.FindStringSubmatch(in); sub != nil {
		y, _ := strconv.Atoi(sub[1])
		n, _ := strconv.Atoi(sub[2])
		if y < 1 || n < 1 || n > isoWeeks(y) {
			return w, inputErr("err_week_number", y, n, isoWeeks(max(y, 1)), ISOName(now.In(loc)))
		}
		start := ISOWeekStart(y, n, loc)
		w = Week{Start: start, End: start.AddDate(0, 0, 7)}
	} else {
		d, err := ParseDay(s, now, loc)
		if err != nil {
			return w, inputErr("err_week", Clip(s), ISOName(now.In(loc)), Example(now, loc))
		}
		w = WeekOf(d, loc)
	}
	if w.Start.After(now) {
		return w, inputErr("err_future_week", w.Start.Format(DateLayout))
	}
	return w, nil
}

var lastDays = regexp.MustCompile(`^(\d{1,3})\s*d$`)

// ParsePeriod reads "7d", "30d", "90d" (any 1 to 366 days: the last N days,
// today included) or "all" (everything since 2015).
func ParsePeriod(s string, now time.Time, loc *time.Location) (Span, error) {
	in := strings.ToLower(strings.TrimSpace(s))
	tomorrow := Midnight(now, loc).AddDate(0, 0, 1)
	if in == "all" {
		return Span{From: Midnight(HistoryStart, loc), To: tomorrow}, nil
	}
	sub := lastDays.FindStringSubmatch(in)
	if sub == nil {
		return Span{}, inputErr("err_period", Clip(s))
	}
	n, _ := strconv.Atoi(sub[1])
	if n < 1 || n > MaxSpanDays {
		return Span{}, inputErr("err_period", Clip(s))
	}
	return Span{From: tomorrow.AddDate(0, 0, -n), To: tomorrow}, nil
}

// ParseRange combines the period options of /member and /absent: a period,
// or from and/or to (a missing from is 30 days before to; a missing to is
// today), or, with none given, the period def.
func ParseRange(period, from, to string, def string, now time.Time, loc *time.Location) (Span, error) {
	period, from, to = strings.TrimSpace(period), strings.TrimSpace(from), strings.TrimSpace(to)
	if period != "" && (from != "" || to != "") {
		return Span{}, inputErr("err_period_and_dates", Midnight(now, loc).AddDate(0, 0, -29).Format(DateLayout), Midnight(now, loc).Format(DateLayout))
	}
	if from == "" && to == "" {
		if period == "" {
			period = def
		}
		return ParsePeriod(period, now, loc)
	}
	last := Midnight(now, loc)
	if to != "" {
		d, err := ParseDate(to, now, loc)
		if err != nil {
			return Span{}, err
		}
		last = d
	}
	first := last.AddDate(0, 0, -29)
	if from != "" {
		d, err := ParseDate(from, now, loc)
		if err != nil {
			return Span{}, err
		}
		first = d
	}
	if first.After(last) {
		return Span{}, inputErr("err_from_after_to", first.Format(DateLayout), last.Format(DateLayout), last.Format(DateLayout), first.Format(DateLayout))
	}
	s := Span{From: first, To: last.AddDate(0, 0, 1)}
	if n := s.Days(); n > MaxSpanDays {
		return Span{}, inputErr("err_too_long", n, last.AddDate(0, 0, 1-MaxSpanDays).Format(DateLayout), last.Format(DateLayout))
	}
	return s, nil
}

// Clip shortens what a user typed before it is quoted back to them.
func Clip(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}
