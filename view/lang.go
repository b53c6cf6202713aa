// Package view is how rollcall's reports look: embeds, chart inputs, text
// and dates in English or Russian. The automatic posts (package bot) and the
// slash commands (package commands) both draw through it, so a report looks
// the same wherever it appears.
package view

import (
	"fmt"

	"rollcall/attendance"
	"strings"
	"time"
)

// Lang is a reply language.
type Lang string

// Supported languages.
const (
	EN Lang = "en"
	RU Lang = "ru"
)

// LangOf maps a Discord locale ("ru", "en-US", "en-GB", …) to a language;
// anything that is not Russian gets English.
func LangOf(locale string) Lang {
	if strings.HasPrefix(strings.ToLower(locale), "ru") {
		return RU
	}
	return EN
}

// PostLang is the language of a guild's automatic posts: the one its
// settings choose, or with "auto" its Discord locale.
func PostLang(setting, guildLocale string) Lang {
	switch setting {
	case "en":
		return EN
	case "ru":
		return RU
	}
	return LangOf(guildLocale)
}

// Input is the words of an input error.
func (l Lang) Input(e *attendance.InputError) string { return l.T(e.Key, e.Args...) }

// T formats the message key in l, falling back to English.
func (l Lang) T(key string, args ...any) string {
	f, ok := messages[l][key]
	if !ok {
		f, ok = messages[EN][key]
	}
	if !ok {
		return key
	}
	return fmt.Sprintf(f, args...)
}

var (
	ruDays   = [...]string{"вс", "пн", "вт", "ср", "чт", "пт", "сб"}
	ruMonths = [...]string{"", "янв", "фев", "мар", "апр", "мая", "июн", "июл", "авг", "сен", "окт", "ноя", "дек"}
)

// Date writes a date as "Fri 27 Nov 2026" / "пт 27 ноя 2026".
func (l Lang) Date(t time.Time) string {
	if l == RU {
		return fmt.Sprintf("%s %d %s %d", ruDays[t.Weekday()], t.Day(), ruMonths[t.Month()], t.Year())
	}
	return t.Format("Mon 2 Jan 2006")
}

// DayMonth writes "27 Nov" / "27 ноя".
func (l Lang) DayMonth(t time.Time) string {
	if l == RU {
		return fmt.Sprintf("%d %s", t.Day(), ruMonths[t.Month()])
	}
	return t.Format("2 Jan")
}

// Span writes an occurrence under the date it started on:
// "Fri 27 Nov 2026, 23:00–00:00 MSK".
func (l Lang) Span(start, end time.Time) string {
	return l.Date(start) + ", " + start.Format("15:04") + "–" + end.Format("15:04 MST")
}

// Week writes [from, to) as "16–22 Nov 2026", across months and years too.
// A period that starts or ends at another time than midnight (a weekly post
// due on Thursday at 18:00 covers the seven days before it) says its times:
// "19 Nov 18:00 – 26 Nov 2026 18:00"; as days alone it read "19–25 Nov",
// hiding the Thursday evening it ends with.
func (l Lang) Week(from, to time.Time) string {
	if !midnight(from) || !midnight(to) {
		start := l.DayMonth(from)
		if from.Year() != to.Year() {
			start += " " + fmt.Sprint(from.Year())
		}
		return start + " " + from.Format("15:04") + " – " + l.DayMonth(to) + " " + fmt.Sprint(to.Year()) + " " + to.Format("15:04")
	}
	last := to.AddDate(0, 0, -1)
	switch {
	case from.Year() != last.Year():
		return l.DayMonth(from) + " " + fmt.Sprint(from.Year()) + " – " + l.DayMonth(last) + " " + fmt.Sprint(last.Year())
	case from.Month() != last.Month():
		return l.DayMonth(from) + " – " + l.DayMonth(last) + " " + fmt.Sprint(last.Year())
	}
	return fmt.Sprintf("%d–%s %d", from.Day(), l.DayMonth(last), last.Year())
}

func midnight(t time.Time) bool { return t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 }

// Duration writes a delay as "12 min" or "3h 05m".
func (l Lang) Duration(d time.Duration) string {
	if d < time.Hour {
		return l.T("minutes_short", int(d.Minutes()))
	}
	return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
}
