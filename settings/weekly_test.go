package settings_test

import (
	"testing"
	"time"

	"rollcall/settings"
)

func TestWeeklyDueAcrossDST(t *testing.T) {
	for _, tc := range []struct {
		zone, day, at string
		after, upTo   time.Time // in zone, built below
		want          []string
	}{
		// The week of the October change in Berlin: Monday 00:00 comes 169 hours after the previous one.
		{"Europe/Berlin", "mon", "00:00", date(2026, 10, 19), date(2026, 11, 2).Add(time.Minute), []string{"2026-10-26 00:00 CET", "2026-11-02 00:00 CET"}},
		// Spring forward: 02:30 does not exist on 29 Mar 2026; time.Date moves it to 03:30.
		{"Europe/Berlin", "sun", "02:30", date(2026, 3, 28), date(2026, 3, 30), []string{"2026-03-29 03:30 CEST"}},
		{"Europe/Moscow", "mon", "00:00", date(2026, 11, 16), date(2026, 11, 30), []string{"2026-11-23 00:00 MSK", "2026-11-30 00:00 MSK"}},
		{"Asia/Kolkata", "fri", "18:30", date(2026, 11, 26), date(2026, 11, 28), []string{"2026-11-27 18:30 IST"}},
	} {
		loc, err := time.LoadLocation(tc.zone)
		if err != nil {
			t.Fatal(err)
		}
		in := func(d time.Time) time.Time {
			return time.Date(d.Year(), d.Month(), d.Day(), d.Hour(), d.Minute(), 0, 0, loc)
		}
		g, ps := settings.Validate(settings.Spec{ID: 1, TimeZone: tc.zone, ReportChannels: []settings.Snowflake{1},
			WeeklyReport: settings.WeeklySpec{Day: tc.day, Time: tc.at}}, "", settings.FromDiscord)
		if ps != nil {
			t.Fatal(ps)
		}
		var got []string
		for _, d := range g.WeeklyDue(in(tc.after), in(tc.upTo)) {
			got = append(got, d.Format("2006-01-02 15:04 MST"))
		}
		if len(got) != len(tc.want) {
			t.Fatalf("%s: got %v, want %v", tc.zone, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s: got %v, want %v", tc.zone, got, tc.want)
			}
		}
	}
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
