package view

import (
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Reports and answers say what is known, never a guessed cause: a late or
// gappy report used to say "the bot was offline" when Discord, the database
// or the clock was as likely. Every message in both languages is checked
// for the guesses seen so far.
func TestMessagesDoNotGuessCauses(t *testing.T) {
	guesses := []string{
		"offline", "was down", "went down", "crashed", "restarted", "bot was", "still being recorded",
		"any more", "больше не существует", "не в сети", "офлайн", "оффлайн", "был выключен", "всё равно записывается",
	}
	for lang, msgs := range messages {
		for key, text := range msgs {
			for _, g := range guesses {
				if strings.Contains(strings.ToLower(text), g) {
					t.Errorf("%s %s says %q, a guess at the cause: %q", lang, key, g, text)
				}
			}
		}
	}
}

// Both languages have every message, and Discord's limits on command and
// option descriptions (100 characters) hold.
func TestMessagesComplete(t *testing.T) {
	for key := range messages[EN] {
		if _, ok := messages[RU][key]; !ok {
			t.Errorf("ru lacks %s", key)
		}
	}
	for lang, msgs := range messages {
		for key, text := range msgs {
			if strings.HasSuffix(key, "_desc") && utf8.RuneCountInString(text) > 100 {
				t.Errorf("%s %s is %d characters, Discord allows 100: %q", lang, key, utf8.RuneCountInString(text), text)
			}
		}
	}
	// /week's weeks are ISO weeks whatever weekly_report.day says; its help says so.
	for _, l := range []Lang{EN, RU} {
		if d := l.T("cmd_week_desc"); !strings.Contains(d, "ISO") {
			t.Errorf("%s /week description %q does not say its weeks are ISO weeks", l, d)
		}
	}
}

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
