package view

// The words of /privacy, members' own command about what rollcall keeps of
// them, and of what moderators see of members who paused recording.
func init() {
	for lang, m := range map[Lang]map[string]string{EN: privacyEN, RU: privacyRU} {
		for k, v := range m {
			messages[lang][k] = v
		}
	}
}

var privacyEN = map[string]string{
	"paused_count": "%d {{member has paused recording and is|members have paused recording and are}} left out.",

	"cmd_privacy":         "privacy",
	"cmd_privacy_desc":    "What rollcall keeps about you here: see it, export it, pause it, delete it",
	"rc_pv-show_desc":     "What rollcall stores about you in this server",
	"rc_pv-export_desc":   "All of it as files (JSON, and a CSV of your minutes per event)",
	"rc_pv-pause_desc":    "Stop recording you here (nothing about your voice presence is written)",
	"rc_pv-resume_desc":   "Record you again",
	"rc_pv-delete_desc":   "Delete everything about you in this server (asks to confirm)",
	"pv_nothing":          "Nothing is stored about you here.",
	"pv_nothing_recorded": "Nothing about your attendance is stored here: rollcall keeps only your name, roles and join date from the member list, to know who is expected at events.",
	"pv_show_title":       "What rollcall stores about you here",
	"pv_names":            "Names",
	"pv_joined":           "Joined",
	"pv_left":             "Left",
	"pv_roles":            "Roles kept",
	"pv_events":           "Events recorded",
	"pv_minutes":          "Minutes recorded",
	"pv_since":            "Since",
	"pv_interested":       "Discord events marked Interested",
	"pv_changes":          "Settings changes you made",
	"pv_state":            "Recording",
	"pv_recorded":         "on (/privacy pause stops it)",
	"pv_paused_state":     "paused (/privacy resume starts it)",
	"pv_retention":        "Kept",
	"pv_keep_all":         "until deleted",
	"pv_keep_days":        "%d {{day|days}}, then deleted",
	"pv_show_how":         "/privacy export gives you all of it; /privacy delete removes it.",
	"pv_policy":           "Privacy policy: %s",
	"pv_policy_ask":       "Ask the bot's owner for its privacy policy.",
	"pv_export_done":      "Everything rollcall stores about you here, as it is stored:",
	"pv_paused":           "Recording paused: from now on nothing about your voice presence here is written, and reports leave you out. /privacy resume starts it again.",
	"pv_resumed":          "Recording on again: you are counted at events from now on.",
	"pv_delete_confirm":   "Delete everything about you in this server? That is %d {{attendance row|attendance rows}}, %d {{Discord event interest|Discord event interests}} and your name on %d {{settings change|settings changes}} (anonymised). Your past attendance cannot be restored. If you join an event again you are recorded afresh (use /privacy pause to stop that).",
	"pv_delete_yes":       "Delete my data",
	"pv_deleted":          "Done: %d {{attendance row|attendance rows}} and %d {{interest|interests}} deleted, your settings changes anonymised (%s).",
}

var privacyRU = map[string]string{
	"paused_count": "Участников, приостановивших запись (не учитываются): %d.",

	"cmd_privacy":         "приватность",
	"cmd_privacy_desc":    "Что rollcall хранит о вас здесь: посмотреть, выгрузить, приостановить, удалить",
	"rc_pv-show":          "показать",
	"rc_pv-export":        "выгрузить",
	"rc_pv-pause":         "пауза",
	"rc_pv-resume":        "продолжить",
	"rc_pv-delete":        "удалить",
	"rc_pv-show_desc":     "Что rollcall хранит о вас на этом сервере",
	"rc_pv-export_desc":   "Всё это файлами (JSON и CSV с вашими минутами по событиям)",
	"rc_pv-pause_desc":    "Не записывать вас здесь (о вашем присутствии в голосе ничего не сохраняется)",
	"rc_pv-resume_desc":   "Снова записывать вас",
	"rc_pv-delete_desc":   "Удалить всё о вас на этом сервере (попросит подтвердить)",
	"pv_nothing":          "О вас здесь ничего не хранится.",
	"pv_nothing_recorded": "О вашей посещаемости здесь ничего не хранится: rollcall держит только ваше имя, роли и дату прихода из списка участников, чтобы знать, кого ждать на событиях.",
	"pv_show_title":       "Что rollcall хранит о вас здесь",
	"pv_names":            "Имена",
	"pv_joined":           "Пришли на сервер",
	"pv_left":             "Ушли с сервера",
	"pv_roles":            "Сохранённые роли",
	"pv_events":           "Записано событий",
	"pv_minutes":          "Записано минут",
	"pv_since":            "С",
	"pv_interested":       "Отмечено «Интересно» в событиях Discord",
	"pv_changes":          "Ваши изменения настроек",
	"pv_state":            "Запись",
	"pv_recorded":         "включена (/приватность пауза остановит её)",
	"pv_paused_state":     "приостановлена (/приватность продолжить включит её)",
	"pv_retention":        "Хранится",
	"pv_keep_all":         "пока не удалят",
	"pv_keep_days":        "%d {{день|дня|дней}}, затем удаляется",
	"pv_show_how":         "/приватность выгрузить отдаст всё это; /приватность удалить удалит.",
	"pv_policy":           "Политика конфиденциальности: %s",
	"pv_policy_ask":       "Политику конфиденциальности спросите у владельца бота.",
	"pv_export_done":      "Всё, что rollcall хранит о вас здесь, как оно хранится:",
	"pv_paused":           "Запись приостановлена: с этого момента о вашем присутствии в голосе здесь ничего не сохраняется, и отчёты вас не упоминают. /приватность продолжить включит её снова.",
	"pv_resumed":          "Запись снова включена: с этого момента вас учитывают на событиях.",
	"pv_delete_confirm":   "Удалить всё о вас на этом сервере? Это %d {{запись|записи|записей}} посещаемости, %d {{отметка|отметки|отметок}} «Интересно» и ваше имя в %d {{изменении|изменениях|изменениях}} настроек (будет обезличено). Прошлую посещаемость не вернуть. Если снова придёте на событие, вас начнут записывать заново (чтобы этого не было, используйте /приватность пауза).",
	"pv_delete_yes":       "Удалить мои данные",
	"pv_deleted":          "Готово: удалено записей посещаемости — %d, отметок — %d; ваши изменения настроек обезличены (%s).",
}
