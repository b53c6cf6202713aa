package view

import (
	"reflect"
	"testing"
	"time"
)

// Every word a chart draws is given in Russian: an empty one falls back to
// English in the middle of a Russian chart ("present", "you").
func TestRussianChartLabels(t *testing.T) {
	v := reflect.ValueOf(RU.Labels())
	for i := range v.NumField() {
		if v.Field(i).String() == "" {
			t.Errorf("RU.Labels().%s is empty", v.Type().Field(i).Name)
		}
	}
}

func TestWeekSpan(t *testing.T) {
	msk, _ := time.LoadLocation("Europe/Moscow")
	at := func(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, msk) }
	tests := []struct {
		name     string
		l        Lang
		from, to time.Time
		want     string
	}{
		{"a week", EN, at(2026, 11, 16, 0), at(2026, 11, 23, 0), "16–22 Nov 2026"},
		{"across months", RU, at(2026, 11, 30, 0), at(2026, 12, 7, 0), "30 ноя – 6 дек 2026"},
		{"across years", EN, at(2026, 12, 28, 0), at(2027, 1, 4, 0), "28 Dec 2026 – 3 Jan 2027"},
		{"due Thursday 18:00", EN, at(2026, 11, 19, 18), at(2026, 11, 26, 18), "19 Nov 18:00 – 26 Nov 2026 18:00"},
		{"due Thursday 18:00, Russian", RU, at(2026, 11, 19, 18), at(2026, 11, 26, 18), "19 ноя 18:00 – 26 ноя 2026 18:00"},
		{"across years at 18:00", EN, at(2026, 12, 31, 18), at(2027, 1, 7, 18), "31 Dec 2026 18:00 – 7 Jan 2027 18:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.l.Week(tt.from, tt.to); got != tt.want {
				t.Errorf("Week = %q, want %q", got, tt.want)
			}
		})
	}
}
