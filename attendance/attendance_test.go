package attendance

import (
	"testing"
	"time"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestParseTimeOfDay(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want TimeOfDay
		ok   bool
	}{
		{"07:00", 420, true}, {"23:59", 1439, true}, {"00:00", 0, true},
		{"24:00", 0, false}, {"7:00", 0, false}, {"07:60", 0, false}, {"ab:cd", 0, false}, {"", 0, false}, {"-1:00", 0, false},
	} {
		got, err := ParseTimeOfDay(tc.in)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("ParseTimeOfDay(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestOccurrencesMoscowDay(t *testing.T) {
	msk := mustLoc(t, "Europe/Moscow")
	s := Schedule{Name: "БЗС", Starts: []TimeOfDay{420, 960, 1260, 1380}, Duration: time.Hour, Location: msk}
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, msk)
	occ := s.Occurrences(day, day.AddDate(0, 0, 1))
	var got []string
	for _, o := range occ {
		got = append(got, o.Start.Format("02 15:04")+"-"+o.End.Format("02 15:04"))
	}
	// The 23:00 event of the day before ends at midnight, exactly at `from`, so it is not included.
	want := []string{"27 07:00-27 08:00", "27 16:00-27 17:00", "27 21:00-27 22:00", "27 23:00-28 00:00"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("occurrence %d = %s, want %s", i, got[i], want[i])
		}
	}
}

func TestOccurrencesCrossingMidnightAndDays(t *testing.T) {
	msk := mustLoc(t, "Europe/Moscow")
	s := Schedule{Name: "night", Days: []time.Weekday{time.Friday}, Starts: []TimeOfDay{1380}, Duration: 3 * time.Hour, Location: msk}
	sat := time.Date(2026, 11, 28, 1, 0, 0, 0, msk) // Saturday 01:00, inside Friday's 23:00-02:00
	run := s.Running(sat)
	if len(run) != 1 || run[0].Start.Day() != 27 || run[0].MinuteAt(sat) != 120 {
		t.Fatalf("Running(Sat 01:00) = %+v", run)
	}
	if got := s.Running(time.Date(2026, 11, 29, 1, 0, 0, 0, msk)); len(got) != 0 {
		t.Fatalf("Saturday's night has no event, got %+v", got)
	}
}

func TestOccurrencesAcrossDST(t *testing.T) {
	ber := mustLoc(t, "Europe/Berlin")
	s := Schedule{Name: "x", Starts: []TimeOfDay{120 + 30}, Duration: time.Hour, Location: ber}
	// 2026-10-25: clocks go back 03:00 -> 02:00, 02:30 happens twice; we run once.
	day := time.Date(2026, 10, 25, 0, 0, 0, 0, ber)
	occ := s.Occurrences(day, day.AddDate(0, 0, 1))
	if len(occ) != 1 {
		t.Fatalf("fall-back day: %d occurrences, want 1", len(occ))
	}
	// 2026-03-29: 02:30 does not exist; time.Date normalises it to 03:30 CEST.
	spring := time.Date(2026, 3, 29, 0, 0, 0, 0, ber)
	occ = s.Occurrences(spring, spring.AddDate(0, 0, 1))
	if len(occ) != 1 || occ[0].Start.Hour() != 3 {
		t.Fatalf("spring-forward day: %+v", occ)
	}
	// The week of the October change is 169 hours long.
	w := WeekOf(time.Date(2026, 10, 22, 12, 0, 0, 0, ber), ber)
	if w.Start.Format("2006-01-02 15:04 Mon") != "2026-10-19 00:00 Mon" || w.End.Sub(w.Start) != 169*time.Hour {
		t.Fatalf("week = %v .. %v (%v)", w.Start, w.End, w.End.Sub(w.Start))
	}
	msk := mustLoc(t, "Europe/Moscow")
	w = WeekOf(time.Date(2026, 10, 26, 0, 0, 0, 0, msk), msk) // Monday 00:00 is the first instant of its week
	if w.Start.Day() != 26 || w.End.Sub(w.Start) != 168*time.Hour {
		t.Fatalf("Moscow week = %v .. %v", w.Start, w.End)
	}
}

func TestMask(t *testing.T) {
	var m Mask
	for _, x := range []int{0, 5, 63, 64, 1439} {
		m.Set(x)
	}
	m.Set(5)
	if m.Count() != 5 || !m.Has(64) || m.Has(65) || m.Has(-1) || m.First() != 0 || m.Last() != 1439 || len(m) != 23 {
		t.Fatalf("mask wrong: count=%d first=%d last=%d len=%d", m.Count(), m.First(), m.Last(), len(m))
	}
	var o Mask
	o.Set(5)
	if got := m.AndNot(o).Count(); got != 4 {
		t.Fatalf("AndNot count = %d", got)
	}
	if got := (Mask{}).First(); got != -1 {
		t.Fatalf("empty First = %d", got)
	}
	if Median([]int{3, 1, 2}) != 2 || Median([]int{4, 1, 2, 3}) != 2.5 || Median(nil) != 0 {
		t.Fatal("median wrong")
	}
}
