package attendance

import "time"

// WeeklyDue lists the instants in (after, upTo] at which a weekly post made
// on day at the local time at falls due, in loc. A time that does not exist
// on a DST spring-forward day moves forward by the gap, as time.Date does.
func WeeklyDue(day time.Weekday, at TimeOfDay, loc *time.Location, after, upTo time.Time) []time.Time {
	var out []time.Time
	d := after.In(loc)
	for date := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc); !date.After(upTo); date = date.AddDate(0, 0, 1) {
		if date.Weekday() != day {
			continue
		}
		due := time.Date(date.Year(), date.Month(), date.Day(), int(at)/60, int(at)%60, 0, 0, loc)
		if due.After(after) && !due.After(upTo) {
			out = append(out, due)
		}
	}
	return out
}
