package view

import (
	"time"

	"rollcall/discordtext"
)

// The words of /rollcall correct and /rollcall excuse, of the follow-up
// that announces a correction, and of what reports say about both.
func init() {
	for lang, m := range map[Lang]map[string]string{EN: correctEN, RU: correctRU} {
		for k, v := range m {
			messages[lang][k] = v
		}
	}
}

// UpcomingLabel names an event that has not started: "Evening · Sat 5 Dec 2026, 16:00".
func (l Lang) UpcomingLabel(schedule string, start time.Time) string {
	return clip100(discordtext.Plain(schedule) + " · " + l.Date(start) + ", " + start.Format("15:04"))
}

// ExcuseSpan says what an excuse of a span covers: one event's start (a
// minute-long span: an upcoming event excused), one day, or days.
func (l Lang) ExcuseSpan(from, to time.Time) string {
	switch {
	case to.Sub(from) == time.Minute:
		return l.T("ex_at", l.Date(from)+", "+from.Format("15:04"))
	case to.Equal(from.AddDate(0, 0, 1)):
		return l.Date(from)
	}
	return l.T("ex_days", l.Date(from), l.Date(to.AddDate(0, 0, -1)))
}

func clip100(s string) string {
	if r := []rune(s); len(r) > 100 {
		return string(r[:99]) + "…"
	}
	return s
}

var correctEN = map[string]string{
	"rc_correct_desc":        "Correct what rollcall recorded of a member in one event (a reason is required)",
	"rc_correct-add_desc":    "Add minutes a member was there but rollcall did not record",
	"rc_correct-remove_desc": "Remove minutes rollcall recorded but the member was not really there",
	"rc_undo_desc":           "Undo a correction: the record is again as rollcall made it",
	"rc_excuse_desc":         "Excuse members: not expected, not absent, shown as excused",
	"rc_excuse-add_desc":     "Excuse a member from one event, or from every event between two days",
	"rc_excuse-remove_desc":  "Withdraw an excuse",
	"rc_excuse-list_desc":    "List the excuses in force",
	"rco_member_desc":        "The member",
	"rco_event_desc":         "The event: pick from the list, or type its start, e.g. 2026-12-05 16:00",
	"rco_range_desc":         "Minutes of the event, in local time, e.g. 16:10-16:40, or: whole event",
	"rco_reason_desc":        "Why (at most 300 characters); everyone who reads the log sees it",
	"rco_announce_desc":      "Post a short follow-up under the event's report (default: no)",
	"rco_correction_desc":    "The correction to undo",
	"rco_excuse_desc":        "The excuse to withdraw",
	"rco_from_desc":          "First day of a leave, e.g. 2026-12-01",
	"rco_to_desc":            "Last day of a leave, e.g. 2026-12-14",

	"cr_not_member":      "%s is not a member of this server: only members can be corrected or excused.",
	"cr_no_reason":       "Give a reason: it goes into the log with your name.",
	"cr_reason_long":     "The reason is %d {{character|characters}} long; keep it to %d.",
	"cr_bad_range":       "%q is not a range of the event: give local times like %s-%s, or: whole event.",
	"cr_range_outside":   "%q is not inside the event, which ran %s–%s: give minutes within it.",
	"cr_range_backwards": "The range ends (%[2]s) before it starts (%[1]s): give it as %[2]s-%[1]s if that is what you mean.",
	"cr_unknown_event":   "There is no event %q in this server: pick one from the list while typing, or type its start, e.g. %s.",
	"cr_future_event":    "%s has not started yet: only events that have started can be corrected.",
	"cr_unknown":         "There is no correction %q in force in this server: pick one from the list while typing.",
	"cr_done":            "Correction #%d stored: %s for %s in %s. /event, /week, /member and the weekly report count it from now on; /rollcall correct undo takes it back.",
	"cr_not_announced":   "The report already posted was not changed (announce: true posts a follow-up).",
	"cr_not_posted":      "The event's report has not been posted anywhere, so there was nothing to follow up.",
	"cr_announced":       "A follow-up goes under the report in %s.",
	"cr_undone":          "Correction #%d undone: the record is back to what it was before it.",
	"an_title":           "Correction: %s",
	"an_body":            "%s for %s — %s",
	"an_footer":          "Corrected by a moderator (%s) · /event shows the corrected figures",

	"ex_event_or_range": "Give either an event, or a from and a to day (a leave of absence), not both.",
	"ex_both_dates":     "A leave needs both its first day (from) and its last day (to).",
	"ex_too_long":       "That leave is %d {{day|days}} long; an excuse covers at most %d {{day|days}}, add another after it.",
	"ex_no_event_then":  "No event of this server is scheduled to start at %s: pick one from the list while typing.",
	"ex_unknown":        "There is no excuse %q in force in this server: pick one from the list while typing.",
	"ex_done":           "Excuse #%d stored: %s is excused from %s. They are not expected there and not listed as absent.",
	"ex_removed":        "Excuse #%d withdrawn: the member is expected again.",
	"ex_list_title":     "Excuses in force",
	"ex_none":           "Nobody is excused.",
	"ex_line":           "#%d · %s · %s · %s (%s, %s)",
	"ex_at":             "the event at %s",
	"ex_days":           "%s – %s",

	"excused":        "Excused",
	"excused_events": "Excused from",
	"your_excuses":   "Excuses",

	"mc_attended":         "Attended",
	"mc_late":             "Late",
	"mc_left_early":       "Left early",
	"mc_partial":          "Late and left early",
	"mc_no_show":          "Did not attend",
	"mc_excused":          "Excused",
	"mt_class":            "Result",
	"mt_counted":          "Minutes counted of present",
	"mt_event_minutes":    "Event minutes",
	"mt_rules":            "Rules of this event",
	"mt_corrections":      "Corrected by a moderator",
	"mr_all_count":        "Every minute in the channel counts, muted or not.",
	"mr_not_count":        "Minutes in the channel count, except %s ones.",
	"mr_muted":            "self-muted",
	"mr_deafened":         "self-deafened",
	"mr_server_deafened":  "server-deafened",
	"mr_min":              "At least %d {{counted minute makes|counted minutes make}} attendance.",
	"mr_late":             "Late when the first counted minute is %d or more minutes in (%s or later).",
	"mr_early":            "Left early when the last counted minute is more than %d {{minute|minutes}} before the end (before %s).",
	"mt_not_seen":         "rollcall did not see you in this event's voice channels.",
	"mt_event_and_period": "Give either an event or a period (period, from, to), not both.",
	"footer_corrected":    "Corrected by a moderator.",
	"chart_muted":         "muted",
}

var correctRU = map[string]string{
	"rc_correct": "исправить", "rc_correct-add": "добавить", "rc_correct-remove": "убрать", "rc_undo": "отменить",
	"rc_excuse": "освободить", "rc_excuse-add": "добавить", "rc_excuse-remove": "отозвать", "rc_excuse-list": "список",
	"rco_member": "участник", "rco_event": "событие", "rco_range": "время", "rco_reason": "причина", "rco_announce": "сообщить",
	"rco_correction": "исправление", "rco_excuse": "освобождение", "rco_from": "с", "rco_to": "по",

	"rc_correct_desc":        "Исправить записанное об участнике в одном событии (причина обязательна)",
	"rc_correct-add_desc":    "Добавить минуты, когда участник был, но rollcall их не записал",
	"rc_correct-remove_desc": "Убрать минуты, которые rollcall записал, а участника на самом деле не было",
	"rc_undo_desc":           "Отменить исправление: запись снова такая, как её сделал rollcall",
	"rc_excuse_desc":         "Освободить участников: их не ждут, они не отсутствующие, видны как освобождённые",
	"rc_excuse-add_desc":     "Освободить участника от одного события или от всех событий между двумя днями",
	"rc_excuse-remove_desc":  "Отозвать освобождение",
	"rc_excuse-list_desc":    "Список действующих освобождений",
	"rco_member_desc":        "Участник",
	"rco_event_desc":         "Событие: выберите из списка или введите его начало, например 2026-12-05 16:00",
	"rco_range_desc":         "Минуты события по местному времени, например 16:10-16:40, или: целиком",
	"rco_reason_desc":        "Почему (не больше 300 символов); видно всем, кто читает журнал",
	"rco_announce_desc":      "Опубликовать короткое сообщение под отчётом о событии (по умолчанию нет)",
	"rco_correction_desc":    "Исправление, которое отменить",
	"rco_excuse_desc":        "Освобождение, которое отозвать",
	"rco_from_desc":          "Первый день отпуска, например 2026-12-01",
	"rco_to_desc":            "Последний день отпуска, например 2026-12-14",

	"cr_not_member":      "%s не участник этого сервера: исправлять и освобождать можно только участников.",
	"cr_no_reason":       "Укажите причину: она попадёт в журнал вместе с вашим именем.",
	"cr_reason_long":     "В причине %d {{символ|символа|символов}}; уложитесь в %d.",
	"cr_bad_range":       "%q — не отрезок события: укажите местное время, например %s-%s, или: целиком.",
	"cr_range_outside":   "%q не внутри события, которое шло %s–%s: укажите минуты внутри него.",
	"cr_range_backwards": "Отрезок кончается (%[2]s) раньше, чем начинается (%[1]s): если так и задумано, укажите %[2]s-%[1]s.",
	"cr_unknown_event":   "На этом сервере нет события %q: выберите его из списка при вводе или введите его начало, например %s.",
	"cr_future_event":    "%s ещё не началось: исправлять можно только начавшиеся события.",
	"cr_unknown":         "На этом сервере нет действующего исправления %q: выберите его из списка при вводе.",
	"cr_done":            "Исправление №%d сохранено: %s для %s в %s. /событие, /неделя, /участник и еженедельный отчёт учитывают его с этого момента; /rollcall исправить отменить вернёт как было.",
	"cr_not_announced":   "Уже опубликованный отчёт не изменён (сообщить: true публикует сообщение под ним).",
	"cr_not_posted":      "Отчёт о событии нигде не публиковался, сообщать было не под чем.",
	"cr_announced":       "Сообщение об исправлении появится под отчётом в %s.",
	"cr_undone":          "Исправление №%d отменено: запись снова такая, какой была до него.",
	"an_title":           "Исправление: %s",
	"an_body":            "%s для %s — %s",
	"an_footer":          "Исправлено модератором (%s) · /событие покажет исправленные цифры",

	"ex_event_or_range": "Укажите либо событие, либо первый и последний день (отпуск), но не то и другое.",
	"ex_both_dates":     "Для отпуска нужны и первый день (с), и последний (по).",
	"ex_too_long":       "Отпуск длиной %d {{день|дня|дней}}; освобождение покрывает не больше %d {{дня|дней|дней}}, добавьте следующее после него.",
	"ex_no_event_then":  "На %s у этого сервера нет события: выберите его из списка при вводе.",
	"ex_unknown":        "На этом сервере нет действующего освобождения %q: выберите его из списка при вводе.",
	"ex_done":           "Освобождение №%d сохранено: %s освобождён(а) от %s. Его (её) там не ждут и не считают отсутствующим.",
	"ex_removed":        "Освобождение №%d отозвано: участника снова ждут.",
	"ex_list_title":     "Действующие освобождения",
	"ex_none":           "Никто не освобождён.",
	"ex_line":           "№%d · %s · %s · %s (%s, %s)",
	"ex_at":             "события %s",
	"ex_days":           "%s – %s",

	"excused":        "Освобождены",
	"excused_events": "Освобождён(а) от",
	"your_excuses":   "Освобождения",

	"mc_attended":         "Был(а)",
	"mc_late":             "Опоздал(а)",
	"mc_left_early":       "Ушёл (ушла) раньше",
	"mc_partial":          "Опоздал(а) и ушёл (ушла) раньше",
	"mc_no_show":          "Не был(а)",
	"mc_excused":          "Освобождён(а)",
	"mt_class":            "Итог",
	"mt_counted":          "Засчитано минут из присутствия",
	"mt_event_minutes":    "Минут в событии",
	"mt_rules":            "Правила этого события",
	"mt_corrections":      "Исправлено модератором",
	"mr_all_count":        "Засчитывается каждая минута в канале, с микрофоном или без.",
	"mr_not_count":        "Засчитываются минуты в канале, кроме минут: %s.",
	"mr_muted":            "с выключенным микрофоном",
	"mr_deafened":         "с выключенным звуком",
	"mr_server_deafened":  "с выключенным сервером звуком",
	"mr_min":              "Чтобы событие засчитали, нужно не меньше %d {{засчитанной минуты|засчитанных минут|засчитанных минут}}.",
	"mr_late":             "Опоздание — когда первая засчитанная минута на %d-й минуте или позже (с %s).",
	"mr_early":            "Ушёл раньше — когда последняя засчитанная минута больше чем за %d {{минуту|минуты|минут}} до конца (раньше %s).",
	"mt_not_seen":         "rollcall не видел вас в голосовых каналах этого события.",
	"mt_event_and_period": "Укажите либо событие, либо период (период, с, по), но не то и другое.",
	"footer_corrected":    "Исправлено модератором.",
	"chart_muted":         "микрофон выключен",
}
