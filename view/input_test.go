package view

import (
	"errors"
	"strings"
	"testing"
	"time"

	"rollcall/attendance"
)

func TestInputErrorsSpeakBothLanguages(t *testing.T) {
	msk, _ := time.LoadLocation("Europe/Moscow")
	now := time.Date(2026, 11, 27, 15, 59, 50, 0, msk)
	_, err := attendance.ParseDate("soon", now, msk)
	var ie *attendance.InputError
	if !errors.As(err, &ie) {
		t.Fatal(err)
	}
	en, ru := EN.Input(ie), RU.Input(ie)
	if !strings.Contains(en, "is not a date") || !strings.Contains(en, "2026-11-26") {
		t.Errorf("en: %q", en)
	}
	if !strings.Contains(ru, "не дата") || !strings.Contains(ru, "2026-11-26") {
		t.Errorf("ru: %q", ru)
	}
	// Before Discord existed: refused, not a 106751-day period.
	_, err = attendance.ParseRange("", "0000-01-01", "", "30d", now, msk)
	if !errors.As(err, &ie) || !strings.Contains(EN.Input(ie), "2015") {
		t.Errorf("year 0: %v", err)
	}
}
