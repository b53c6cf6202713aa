package view

import (
	"fmt"
	"strings"

	"rollcall/report"
	"rollcall/settings"
	"rollcall/store"
)

// The words of role rules (/rollcall roles) and of streaks.
func init() {
	for lang, m := range map[Lang]map[string]string{EN: rolesEN, RU: rolesRU} {
		for k, v := range m {
			messages[lang][k] = v
		}
	}
}

// RuleText says a rule's conditions: "attended at least 3 of the last 4
// events of БЗС and had at least 120 counted minutes in 14 days".
func (l Lang) RuleText(r settings.RoleRule) string {
	var parts []string
	sched := ""
	if r.Schedule != "" {
		sched = l.T("rr_of_schedule", r.Schedule)
	}
	if r.Attended > 0 {
		parts = append(parts, l.T("rr_attended", r.Attended, r.OfLast, sched))
	}
	if r.Minutes > 0 {
		parts = append(parts, l.T("rr_minutes", r.Minutes, int(r.MinutesWindow.Hours()/24)))
	}
	if r.Streak > 0 {
		parts = append(parts, l.T("rr_streak", r.Streak, sched))
	}
	if r.Inactive > 0 {
		parts = append(parts, l.T("rr_inactive", int(r.Inactive.Hours()/24)))
	}
	s := strings.Join(parts, l.T("rr_and"))
	if r.ManageExisting {
		s += " " + l.T("rr_manage_existing")
	}
	return s
}

// StreakLines are a member's streaks per schedule: "БЗС: 5 in a row, best 9".
func (l Lang) StreakLines(ss []report.Streak) string {
	var lines []string
	for _, s := range ss {
		lines = append(lines, l.T("streak_line", Escape(s.Schedule), s.Current, s.Best))
	}
	return strings.Join(lines, "\n")
}

// TopStreak is one member's longest current streak, for the weekly report.
type TopStreak struct {
	Member store.Member
	report.Streak
}

// TopStreakLines list the longest current streaks: "1. Name — 12 in a row (БЗС)".
func (l Lang) TopStreakLines(ts []TopStreak) string {
	var lines []string
	for i, t := range ts {
		lines = append(lines, fmt.Sprintf("%d. %s — %s", i+1, Escape(t.Member.Name()), l.T("streak_top", t.Current, Escape(t.Schedule))))
	}
	return strings.Join(lines, "\n")
}

var rolesEN = map[string]string{
	"rc_roles_desc":              "Roles that follow attendance: given when members qualify, taken when they no longer do",
	"rc_roles-list_desc":         "List the role rules and their state",
	"rc_roles-add_desc":          "Give a role by attendance (replaces the role's rule if it has one)",
	"rc_roles-remove_desc":       "Remove a role rule (members keep the role)",
	"rc_roles-preview_desc":      "Who would gain and lose each role right now, without changing anything",
	"rco_role_desc":              "The role",
	"rco_attended_at_least_desc": "Attended at least this many of the last of_last events",
	"rco_of_last_desc":           "…of the last this many events (default: attended_at_least)",
	"rco_minutes_at_least_desc":  "At least this many counted minutes in the last minutes_in_last",
	"rco_minutes_in_last_desc":   "The minutes' window, e.g. 14d",
	"rco_streak_desc":            "At least this many events in a row",
	"rco_inactive_for_desc":      "No event attended for this long, e.g. 30d (a role for members who drifted away)",
	"rco_rule_schedule_desc":     "Count only this schedule's events (for attended_at_least and streak)",
	"rco_manage_existing_desc":   "Also take the role from members who got it by hand (default: only from those rollcall gave it)",

	"rr_attended":        "attended at least %d of the last %d {{event|events}}%s",
	"rr_minutes":         "had at least %d {{counted minute|counted minutes}} in %d {{day|days}}",
	"rr_streak":          "came to %d {{event|events}}%s in a row",
	"rr_inactive":        "attended no event in %d {{day|days}}",
	"rr_and":             " and ",
	"rr_of_schedule":     " of %s",
	"rr_manage_existing": "(also manages holders rollcall did not give it to)",

	"rl_title":         "Role rules",
	"rl_none":          "No role rules yet: /rollcall roles add gives a role by attendance.",
	"rl_line":          "%s: %s · %s",
	"rl_state_ok":      "applies",
	"rl_state_paused":  "paused: %s",
	"rl_holders":       "%d hold it, %d given by rollcall",
	"rl_added":         "Rule stored: %s goes to members who %s. Right now %d would gain it and %d lose it; the first evaluation runs within a minute, then after every event and once a day.",
	"rl_updated":       "Rule of %s replaced: members who %s. Right now %d would gain it and %d lose it.",
	"rl_removed":       "Rule of %s removed. Members keep the role; take it away in Discord if it should go.",
	"rl_no_rule":       "%s has no rule.",
	"rl_managed":       "%s is managed by an integration (a bot's role, the booster role): nobody can give it, pick another role.",
	"rl_everyone":      "@everyone is every member's role: pick another role.",
	"rl_too_high":      "%s is not below the bot's highest role (%s), so Discord would refuse every change: move rollcall's role above it in Server Settings → Roles, then add the rule.",
	"rl_no_manage":     "Note: the bot lacks Manage Roles here, so the rule is paused until it has it.",
	"rl_confirm":       "This rule would change the roles of %d {{member|members}} at once (%d gain, %d lose). Apply it?",
	"rl_confirm_yes":   "Apply the rule",
	"rl_expired":       "The settings changed since this was asked: run /rollcall roles add again.",
	"rl_preview_title": "Role rules, if evaluated now",
	"rl_preview_none":  "nobody",
	"rl_gain":          "gain",
	"rl_lose":          "lose",
	"rl_bot_role":      "rollcall's role",

	"streaks":         "Streaks (last 12 months)",
	"streak_line":     "%s: %d in a row, best %d",
	"streak_top":      "%d in a row (%s)",
	"longest_streaks": "Longest streaks now",
}

var rolesRU = map[string]string{
	"rc_roles": "роли", "rc_roles-list": "список", "rc_roles-add": "добавить", "rc_roles-remove": "удалить", "rc_roles-preview": "проверить",
	"rco_role": "роль", "rco_attended_at_least": "был_не_меньше", "rco_of_last": "из_последних", "rco_minutes_at_least": "минут_не_меньше",
	"rco_minutes_in_last": "за_последние", "rco_streak": "подряд", "rco_inactive_for": "неактивен", "rco_rule_schedule": "расписание",
	"rco_manage_existing": "управлять_всеми",

	"rc_roles_desc":              "Роли по посещаемости: выдаются, когда участник подходит, и снимаются, когда перестаёт",
	"rc_roles-list_desc":         "Список правил ролей и их состояние",
	"rc_roles-add_desc":          "Выдавать роль по посещаемости (заменяет правило этой роли, если оно есть)",
	"rc_roles-remove_desc":       "Удалить правило роли (у участников роль остаётся)",
	"rc_roles-preview_desc":      "Кто сейчас получил бы и потерял бы каждую роль, ничего не меняя",
	"rco_role_desc":              "Роль",
	"rco_attended_at_least_desc": "Был не меньше стольких из последних из_последних событий",
	"rco_of_last_desc":           "…из стольких последних событий (по умолчанию — был_не_меньше)",
	"rco_minutes_at_least_desc":  "Не меньше стольких засчитанных минут за за_последние",
	"rco_minutes_in_last_desc":   "Окно для минут, например 14d",
	"rco_streak_desc":            "Не меньше стольких событий подряд",
	"rco_inactive_for_desc":      "Ни одного события за этот срок, например 30d (роль для пропавших)",
	"rco_rule_schedule_desc":     "Считать только события этого расписания (для был_не_меньше и подряд)",
	"rco_manage_existing_desc":   "Снимать роль и с тех, кому её дали вручную (по умолчанию — только с тех, кому её дал rollcall)",

	"rr_attended":        "были не меньше чем на %d из последних %d {{события|событий|событий}}%s",
	"rr_minutes":         "набрали не меньше %d {{засчитанной минуты|засчитанных минут|засчитанных минут}} за %d дн.",
	"rr_streak":          "были на %d {{событии|событиях|событиях}}%s подряд",
	"rr_inactive":        "не были ни на одном событии %d дн.",
	"rr_and":             " и ",
	"rr_of_schedule":     " %s",
	"rr_manage_existing": "(управляет и теми, кому роль дал не rollcall)",

	"rl_title":         "Правила ролей",
	"rl_none":          "Правил ролей пока нет: /rollcall роли добавить выдаёт роль по посещаемости.",
	"rl_line":          "%s: %s · %s",
	"rl_state_ok":      "действует",
	"rl_state_paused":  "на паузе: %s",
	"rl_holders":       "у %d, выдал rollcall — %d",
	"rl_added":         "Правило сохранено: %s получат участники, которые %s. Сейчас её получили бы %d и потеряли бы %d; первая проверка — в течение минуты, дальше после каждого события и раз в день.",
	"rl_updated":       "Правило роли %s заменено: участники, которые %s. Сейчас её получили бы %d и потеряли бы %d.",
	"rl_removed":       "Правило роли %s удалено. Роль у участников остаётся; снимите её в Discord, если нужно.",
	"rl_no_rule":       "У %s нет правила.",
	"rl_managed":       "%s управляется интеграцией (роль бота, роль бустеров): её никто не может выдать, выберите другую.",
	"rl_everyone":      "@everyone есть у всех: выберите другую роль.",
	"rl_too_high":      "%s не ниже самой высокой роли бота (%s), и Discord отклонит любое изменение: поднимите роль rollcall выше неё в Настройках сервера → Роли, затем добавьте правило.",
	"rl_no_manage":     "Обратите внимание: у бота здесь нет права «Управлять ролями», правило на паузе, пока его нет.",
	"rl_confirm":       "Это правило сразу изменит роли %d {{участника|участников|участников}} (получат %d, потеряют %d). Применить?",
	"rl_confirm_yes":   "Применить правило",
	"rl_expired":       "Настройки изменились с тех пор: запустите /rollcall роли добавить ещё раз.",
	"rl_preview_title": "Правила ролей, если проверить сейчас",
	"rl_preview_none":  "никто",
	"rl_gain":          "получат",
	"rl_lose":          "потеряют",
	"rl_bot_role":      "роль rollcall",

	"streaks":         "Серии (за 12 месяцев)",
	"streak_line":     "%s: %d подряд, лучшая %d",
	"streak_top":      "%d подряд (%s)",
	"longest_streaks": "Самые длинные серии сейчас",
}
