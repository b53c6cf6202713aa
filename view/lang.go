// Package view is how rollcall's reports look: embeds, chart inputs, text
// and dates in English or Russian. The automatic posts (package bot) and the
// slash commands (package commands) both draw through it, so a report looks
// the same wherever it appears.
package view

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"rollcall/attendance"
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

// T formats the message key in l, falling back to English, with the
// forms of its counted words chosen (plurals).
func (l Lang) T(key string, args ...any) string {
	f, ok := messages[l][key]
	if !ok {
		f, ok = messages[EN][key]
	}
	if !ok {
		return key
	}
	return fmt.Sprintf(plurals(f, args), args...)
}

// plurals replaces each {{one|other}} (English) or {{one|few|many}}
// (Russian) in the format f with the form for the number the verb just
// before it prints, spaces between: "%d {{day|days}}", "%d
// {{день|дня|дней}}". The forms carry the words whose ending follows the
// number too ("%d {{counted minute makes|counted minutes make}}"). A
// marker with no number before it takes the last form. It works on the
// format, not on what it prints, so a name or a reason that happens to
// hold braces is shown as written. It reads the verbs the messages use:
// flags, width and precision as digits, an index [n] right after the %;
// not * widths, not an index after the width, not verbs inside a form
// (TestMessagePluralsFollowANumber keeps such markers out of the tables).
func plurals(f string, args []any) string {
	if !strings.Contains(f, "{{") {
		return f
	}
	var b strings.Builder
	next, last := 0, -1 // the argument of the next verb; of the one just before, or -1
	for i := 0; i < len(f); {
		switch {
		case strings.HasPrefix(f[i:], "%%"):
			b.WriteString("%%")
			i, last = i+2, -1
		case f[i] == '%':
			j := i + 1
			if j < len(f) && f[j] == '[' {
				if k := strings.IndexByte(f[j:], ']'); k > 0 {
					if n, err := strconv.Atoi(f[j+1 : j+k]); err == nil {
						next = n - 1
					}
					j += k + 1
				}
			}
			for j < len(f) && strings.IndexByte("+-# 0123456789.", f[j]) >= 0 {
				j++
			}
			j = min(j+1, len(f)) // the verb
			b.WriteString(f[i:j])
			i, last, next = j, next, next+1
		case strings.HasPrefix(f[i:], "{{") && strings.Contains(f[i:], "}}"):
			k := strings.Index(f[i:], "}}")
			forms := strings.Split(f[i+2:i+k], "|")
			n := -1
			if last >= 0 && last < len(args) {
				n = count(args[last])
			}
			b.WriteString(forms[pluralForm(n, len(forms))])
			i, last = i+k+2, -1
		default:
			if f[i] != ' ' {
				last = -1
			}
			b.WriteByte(f[i])
			i++
		}
	}
	return b.String()
}

// count is a as a count, or -1 if it is not an integer.
func count(a any) int {
	v := reflect.ValueOf(a)
	switch {
	case v.CanInt():
		return int(v.Int())
	case v.CanUint():
		return int(v.Uint())
	}
	return -1
}

// pluralForm picks which of forms forms suits n: of two, English's (one,
// other); of three, Russian's (1, 21, 101: one; 2–4, 22–24: few; the rest,
// 11–14 included: many).
func pluralForm(n, forms int) int {
	last := forms - 1
	switch {
	case n < 0:
		return last
	case forms == 2:
		if n == 1 {
			return 0
		}
		return 1
	case forms == 3:
		switch {
		case n%10 == 1 && n%100 != 11:
			return 0
		case n%10 >= 2 && n%10 <= 4 && (n%100 < 12 || n%100 > 14):
			return 1
		}
		return 2
	}
	return last
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

// Duration writes a delay as "12 min" or "3h 05m" ("12 мин", "3 ч 05 мин").
func (l Lang) Duration(d time.Duration) string {
	if d < time.Hour {
		return l.T("minutes_short", int(d.Minutes()))
	}
	return l.T("hours_minutes", int(d.Hours()), int(d.Minutes())%60)
}
