package attendance

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var msk = mustZone("Europe/Moscow")

func mustZone(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// now is Friday 27 November 2026, 15:59:50 in Moscow (ISO week 2026-W48).
var now = time.Date(2026, 11, 27, 15, 59, 50, 0, msk)

func day(loc *time.Location, y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

func errKey(err error) string {
	var ie *InputError
	if errors.As(err, &ie) {
		return ie.Key
	}
	if err != nil {
		return "not an InputError: " + err.Error()
	}
	return ""
}

func TestParseDate(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     time.Time
		err      string
	}{
		{"iso date", "2026-11-20", day(msk, 2026, 11, 20), ""},
		{"spaces and case", "  Today ", day(msk, 2026, 11, 27), ""},
		{"yesterday", "yesterday", day(msk, 2026, 11, 26), ""},
		{"russian today", "сегодня", day(msk, 2026, 11, 27), ""},
		{"russian yesterday", "Вчера", day(msk, 2026, 11, 26), ""},
		{"dotted", "20.11.2026", day(msk, 2026, 11, 20), ""},
		{"dotted one digit", "1.2.2026", day(msk, 2026, 2, 1), ""},
		{"today is not the future", "2026-11-27", day(msk, 2026, 11, 27), ""},
		{"tomorrow is the future", "2026-11-28", time.Time{}, "err_future_date"},
		{"far future", "9999-12-31", time.Time{}, "err_future_date"},
		{"no such day", "2026-02-30", time.Time{}, "err_date"},
		{"no such dotted day", "31.02.2026", time.Time{}, "err_date"},
		{"month 13", "13.13.2026", time.Time{}, "err_date"},
		{"american order", "11/27/2026", time.Time{}, "err_date"},
		{"empty", "", time.Time{}, "err_date"},
		{"words", "last friday", time.Time{}, "err_date"},
		{"leap day", "2024-02-29", day(msk, 2024, 2, 29), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseDate(tc.in, now, msk)
			if k := errKey(err); k != tc.err {
				t.Fatalf("ParseDate(%q) error %q (%v), want %q", tc.in, k, err, tc.err)
			}
			if err == nil && !got.Equal(tc.want) {
				t.Errorf("ParseDate(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseDateAtZoneMidnight(t *testing.T) {
	// 23:30 UTC on 26 Nov is already 27 Nov in Moscow: "today" is the guild's day.
	late := time.Date(2026, 11, 26, 23, 30, 0, 0, time.UTC)
	got, err := ParseDate("today", late, msk)
	if err != nil || !got.Equal(day(msk, 2026, 11, 27)) {
		t.Fatalf("today at %v = %v, %v", late, got, err)
	}
	if _, err := ParseDate("2026-11-27", late, msk); err != nil {
		t.Fatalf("the guild's today refused: %v", err)
	}
}

func TestParseWeek(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		start    time.Time
		err      string
	}{
		{"empty is this week", "", day(msk, 2026, 11, 23), ""},
		{"this", "this", day(msk, 2026, 11, 23), ""},
		{"last", "LAST", day(msk, 2026, 11, 16), ""},
		{"russian last", "прошлая", day(msk, 2026, 11, 16), ""},
		{"iso week", "2026-W47", day(msk, 2026, 11, 16), ""},
		{"iso week lower case, no dash", "2026w47", day(msk, 2026, 11, 16), ""},
		{"iso week one digit", "2026-W1", day(msk, 2025, 12, 29), ""},
		{"week 53 exists in 2026", "2026-W53", time.Time{}, "err_future_week"},
		{"week 53 of 2020", "2020-W53", day(msk, 2020, 12, 28), ""},
		{"no week 53 in 2025", "2025-W53", time.Time{}, "err_week_number"},
		{"week 0", "2026-W00", time.Time{}, "err_week_number"},
		{"week 54", "2026-W54", time.Time{}, "err_week_number"},
		{"year 0", "0000-W01", time.Time{}, "err_week_number"},
		{"date inside", "2026-11-18", day(msk, 2026, 11, 16), ""},
		{"sunday belongs to the week before monday", "2026-11-22", day(msk, 2026, 11, 16), ""},
		{"later day of this week", "2026-11-29", day(msk, 2026, 11, 23), ""},
		{"next week", "2026-11-30", time.Time{}, "err_future_week"},
		{"next iso week", "2026-W49", time.Time{}, "err_future_week"},
		{"garbage", "week 47", time.Time{}, "err_week"},
		{"bad iso", "2026-W4x", time.Time{}, "err_week"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseWeek(tc.in, now, msk)
			if k := errKey(err); k != tc.err {
				t.Fatalf("ParseWeek(%q) error %q (%v), want %q", tc.in, k, err, tc.err)
			}
			if err != nil {
				return
			}
			if !got.Start.Equal(tc.start) || !got.End.Equal(tc.start.AddDate(0, 0, 7)) {
				t.Errorf("ParseWeek(%q) = %v–%v, want from %v", tc.in, got.Start, got.End, tc.start)
			}
			if got.Start.Weekday() != time.Monday {
				t.Errorf("week starts on %v", got.Start.Weekday())
			}
		})
	}
}

func TestParseWeekAcrossDST(t *testing.T) {
	// Berlin's clocks go back on 25 Oct 2026: that week is 169 hours long.
	ber := mustZone("Europe/Berlin")
	w, err := ParseWeek("2026-W43", time.Date(2026, 11, 1, 12, 0, 0, 0, ber), ber)
	if err != nil {
		t.Fatal(err)
	}
	if !w.Start.Equal(day(ber, 2026, 10, 19)) || !w.End.Equal(day(ber, 2026, 10, 26)) || w.End.Sub(w.Start) != 169*time.Hour {
		t.Errorf("week = %v–%v (%v)", w.Start, w.End, w.End.Sub(w.Start))
	}
}

func TestParsePeriod(t *testing.T) {
	tomorrow := day(msk, 2026, 11, 28)
	for _, tc := range []struct {
		name, in string
		from     time.Time
		err      string
	}{
		{"7d", "7d", day(msk, 2026, 11, 21), ""},
		{"30d", "30d", day(msk, 2026, 10, 29), ""},
		{"90d", " 90D ", day(msk, 2026, 8, 30), ""},
		{"1d is today", "1d", day(msk, 2026, 11, 27), ""},
		{"366d", "366d", day(msk, 2025, 11, 27), ""},
		{"all", "all", day(msk, 2015, 1, 1), ""},
		{"0d", "0d", time.Time{}, "err_period"},
		{"367d", "367d", time.Time{}, "err_period"},
		{"weeks", "2w", time.Time{}, "err_period"},
		{"empty", "", time.Time{}, "err_period"},
		{"negative", "-7d", time.Time{}, "err_period"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePeriod(tc.in, now, msk)
			if k := errKey(err); k != tc.err {
				t.Fatalf("ParsePeriod(%q) error %q (%v), want %q", tc.in, k, err, tc.err)
			}
			if err == nil && (!got.From.Equal(tc.from) || !got.To.Equal(tomorrow)) {
				t.Errorf("ParsePeriod(%q) = %v–%v, want %v–%v", tc.in, got.From, got.To, tc.from, tomorrow)
			}
		})
	}
}

func TestParseRange(t *testing.T) {
	for _, tc := range []struct {
		name                string
		period, from, to    string
		wantFrom, wantTo    time.Time
		wantDays            int
		err                 string
		wantMessageContains string
	}{
		{name: "default", wantFrom: day(msk, 2026, 10, 29), wantTo: day(msk, 2026, 11, 28), wantDays: 30},
		{name: "period", period: "7d", wantFrom: day(msk, 2026, 11, 21), wantTo: day(msk, 2026, 11, 28), wantDays: 7},
		{name: "from and to", from: "2026-11-01", to: "2026-11-15", wantFrom: day(msk, 2026, 11, 1), wantTo: day(msk, 2026, 11, 16), wantDays: 15},
		{name: "same day", from: "2026-11-01", to: "2026-11-01", wantFrom: day(msk, 2026, 11, 1), wantTo: day(msk, 2026, 11, 2), wantDays: 1},
		{name: "from only runs to today", from: "2026-11-20", wantFrom: day(msk, 2026, 11, 20), wantTo: day(msk, 2026, 11, 28), wantDays: 8},
		{name: "to only is 30 days", to: "2026-11-10", wantFrom: day(msk, 2026, 10, 12), wantTo: day(msk, 2026, 11, 11), wantDays: 30},
		{name: "366 days", from: "2025-11-27", to: "2026-11-27", wantFrom: day(msk, 2025, 11, 27), wantTo: day(msk, 2026, 11, 28), wantDays: 366},
		{name: "367 days", from: "2025-11-26", to: "2026-11-27", err: "err_too_long", wantMessageContains: "367"},
		{name: "from after to", from: "2026-11-20", to: "2026-11-10", err: "err_from_after_to", wantMessageContains: "2026-11-10 2026-11-20]"},
		{name: "future to", to: "2026-12-01", err: "err_future_date"},
		{name: "future from", from: "2026-12-01", err: "err_future_date"},
		{name: "both period and dates", period: "7d", from: "2026-11-01", err: "err_period_and_dates"},
		{name: "bad from", from: "soon", err: "err_date"},
		{name: "bad period", period: "forever", err: "err_period"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseRange(tc.period, tc.from, tc.to, "30d", now, msk)
			if k := errKey(err); k != tc.err {
				t.Fatalf("error %q (%v), want %q", k, err, tc.err)
			}
			if err != nil {
				if msg := err.Error(); tc.wantMessageContains != "" && !contains(msg, tc.wantMessageContains) {
					t.Errorf("message %q does not contain %q", msg, tc.wantMessageContains)
				}
				return
			}
			if !got.From.Equal(tc.wantFrom) || !got.To.Equal(tc.wantTo) || got.Days() != tc.wantDays {
				t.Errorf("= %v–%v (%d days), want %v–%v (%d)", got.From, got.To, got.Days(), tc.wantFrom, tc.wantTo, tc.wantDays)
			}
		})
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// zones the fuzz targets try: one with DST, one without, one whose clocks
// once jumped at midnight.
var fuzzZones = []*time.Location{msk, mustZone("Europe/Berlin"), mustZone("America/Santiago"), time.UTC}

func fuzzNow(sec int64) time.Time {
	// Anywhere from 2015 to 2100.
	const lo, span = 1420070400, 2681596800
	if sec < 0 {
		sec = -sec
	}
	return time.Unix(lo+sec%span, 0)
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-11-27", "today", "yesterday", "вчера", "31.02.2026", "0000-01-01", "9999-12-31", "", "2026-13-01", "1.1.1"} {
		f.Add(s, int64(0), uint8(0))
	}
	f.Fuzz(func(t *testing.T, s string, sec int64, z uint8) {
		loc := fuzzZones[int(z)%len(fuzzZones)]
		n := fuzzNow(sec)
		d, err := ParseDate(s, n, loc)
		if err != nil {
			if errKey(err) == "" || errKey(err)[:4] != "err_" {
				t.Fatalf("error is not an input error: %v", err)
			}
			return
		}
		if d.After(n) {
			t.Fatalf("ParseDate(%q) = %v, after now %v", s, d, n)
		}
		if dl := d.In(loc); dl.Hour() > 1 || dl.Minute() != 0 {
			t.Fatalf("ParseDate(%q) = %v, not the start of a day", s, d)
		}
	})
}

func FuzzParseWeek(f *testing.F) {
	for _, s := range []string{"this", "last", "2026-W47", "2026w1", "2020-W53", "2025-W53", "0000-W00", "2026-11-18", "", "9999-W52"} {
		f.Add(s, int64(0), uint8(0))
	}
	f.Fuzz(func(t *testing.T, s string, sec int64, z uint8) {
		loc := fuzzZones[int(z)%len(fuzzZones)]
		n := fuzzNow(sec)
		w, err := ParseWeek(s, n, loc)
		if err != nil {
			if errKey(err) == "" || errKey(err)[:4] != "err_" {
				t.Fatalf("error is not an input error: %v", err)
			}
			return
		}
		if w.Start.After(n) {
			t.Fatalf("ParseWeek(%q) starts %v, after now %v", s, w.Start, n)
		}
		if w.Start.In(loc).Weekday() != time.Monday || daysBetween(w.Start.In(loc), w.End.In(loc)) != 7 {
			t.Fatalf("ParseWeek(%q) = %v–%v is not a Monday-to-Monday week", s, w.Start, w.End)
		}
	})
}

func FuzzParsePeriod(f *testing.F) {
	for _, s := range []string{"7d", "30d", "90d", "all", "0d", "366d", "367d", "", "-1d", "999999999999d"} {
		f.Add(s, "", "", int64(0), uint8(0))
	}
	f.Add("", "2026-11-01", "2026-11-15", int64(0), uint8(0))
	f.Add("", "2025-01-01", "today", int64(0), uint8(0))
	f.Fuzz(func(t *testing.T, period, from, to string, sec int64, z uint8) {
		loc := fuzzZones[int(z)%len(fuzzZones)]
		n := fuzzNow(sec)
		s, err := ParseRange(period, from, to, "30d", n, loc)
		if err != nil {
			if errKey(err) == "" || errKey(err)[:4] != "err_" {
				t.Fatalf("error is not an input error: %v", err)
			}
			return
		}
		if !s.From.Before(s.To) || s.From.After(n) {
			t.Fatalf("ParseRange(%q, %q, %q) = %v–%v at %v", period, from, to, s.From, s.To, n)
		}
		if !strings.EqualFold(strings.TrimSpace(period), "all") && s.Days() > MaxSpanDays {
			t.Fatalf("ParseRange(%q, %q, %q) is %d days long", period, from, to, s.Days())
		}
	})
}
