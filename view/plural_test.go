package view

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"rollcall/settings"
)

// A count is followed by the word's form for it: "1 day", "2 days"; in
// Russian "1 день", "2 дня", "5 дней", "11 дней", "21 день".
func TestPluralForms(t *testing.T) {
	ru := map[int]string{0: "дней", 1: "день", 2: "дня", 4: "дня", 5: "дней", 11: "дней", 12: "дней", 14: "дней",
		21: "день", 22: "дня", 25: "дней", 101: "день", 111: "дней", 112: "дней", 122: "дня"}
	for n, want := range ru {
		f := "%d {{день|дня|дней}}"
		if got := fmt.Sprintf(plurals(f, []any{n}), n); got != fmt.Sprintf("%d %s", n, want) {
			t.Errorf("%d: %q, want %q", n, got, fmt.Sprintf("%d %s", n, want))
		}
	}
	for n, want := range map[int]string{0: "0 days", 1: "1 day", 2: "2 days", 21: "21 days"} {
		if got := fmt.Sprintf(plurals("%d {{day|days}}", []any{n}), n); got != want {
			t.Errorf("%d: %q, want %q", n, got, want)
		}
	}
	cases := []struct {
		name string
		f    string
		args []any
		want string
	}{
		{"each marker its own verb", "%d {{day|days}} and %d {{hour|hours}}", []any{1, 3}, "1 day and 3 hours"},
		{"an explicit index", "%[2]d {{event|events}} of %[1]s", []any{"БЗС", 1}, "1 event of БЗС"},
		{"a width", "%02d {{minute|minutes}}", []any{1}, "01 minute"},
		{"another integer type", "%d {{minute|minutes}}", []any{uint32(1)}, "1 minute"},
		{"a percent sign between: the last form", "%d%% {{row|rows}}", []any{1}, "1% rows"},
		{"a string before: the last form", "%s {{row|rows}}", []any{"1"}, "1 rows"},
		{"arguments printed as written", "%s: %d {{день|дня|дней}}", []any{"{{а|б|в}}", 2}, "{{а|б|в}}: 2 дня"},
		{"no closing braces", "%d {{day|days", []any{1}, "1 {{day|days"},
	}
	for _, c := range cases {
		if got := fmt.Sprintf(plurals(c.f, c.args), c.args...); got != c.want {
			t.Errorf("%s: %q with %v: %q, want %q", c.name, c.f, c.args, got, c.want)
		}
	}
}

// Every plural marker in the messages follows a number verb and has the
// language's number of forms, so none silently shows the last form.
func TestMessagePluralsFollowANumber(t *testing.T) {
	marker := regexp.MustCompile(`\{\{[^}]*\}\}`)
	verb := regexp.MustCompile(`%(\[\d+\])?[-+# 0]*\d*d *$`)
	forms := map[Lang]int{EN: 2, RU: 3}
	for lang, msgs := range messages {
		for key, f := range msgs {
			for _, m := range marker.FindAllStringIndex(f, -1) {
				if !verb.MatchString(f[:m[0]]) {
					t.Errorf("%s %s: %s does not follow a %%d: %q", lang, key, f[m[0]:m[1]], f)
				}
				if n := strings.Count(f[m[0]:m[1]], "|") + 1; n != forms[lang] {
					t.Errorf("%s %s: %s has %d forms, %s has %d: %q", lang, key, f[m[0]:m[1]], n, lang, forms[lang], f)
				}
			}
		}
	}
}

// Real messages, as members read them.
func TestMessagesDeclineCounts(t *testing.T) {
	cases := []struct{ name, got, want string }{
		{"21 days", RU.T("pv_keep_days", 21), "21 день, затем удаляется"},
		{"3 days", RU.T("pv_keep_days", 3), "3 дня, затем удаляется"},
		{"1 day in English", EN.T("pv_keep_days", 1), "1 day, then deleted"},
		{"genitive after не меньше", RU.T("mr_min", 1), "Чтобы событие засчитали, нужно не меньше 1 засчитанной минуты."},
		{"the verb agrees in English", EN.T("mr_min", 1), "At least 1 counted minute makes attendance."},
		{"hours in Russian", RU.Duration(3*time.Hour + 5*time.Minute), "3 ч 05 мин"},
		{"hours in English", EN.Duration(3*time.Hour + 5*time.Minute), "3h 05m"},
		{"minutes in Russian", RU.Duration(12 * time.Minute), "12 мин"},
		{"prepositional after на", RU.RuleText(settings.RoleRule{Streak: 1, Schedule: "БЗС"}), "были на 1 событии БЗС подряд"},
		{"a schedule after the count", EN.RuleText(settings.RoleRule{Attended: 1, OfLast: 1, Schedule: "БЗС"}), "attended at least 1 of the last 1 event of БЗС"},
		{"genitive after из", RU.RuleText(settings.RoleRule{Attended: 3, OfLast: 4}), "были не меньше чем на 3 из последних 4 событий"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: %q, want %q", c.name, c.got, c.want)
		}
	}
}
