package settings

import (
	"fmt"
	"strings"
)

// Problem is one value that cannot be used: where it is and what to write
// instead. The same Problem is shown by check-config (with the key's path in
// the file) and by /rollcall (with the option's name), in English or
// Russian.
type Problem struct {
	// Path is the key's full path in the file form, e.g.
	// "guilds[0].schedules[1].duration"; for a guild managed from Discord it
	// starts at the guild, e.g. "schedules[1].duration".
	Path string
	// Field is the key itself ("duration"), Index its list index or -1.
	Field string
	Index int
	// Schedule is the name of the schedule the key belongs to, if any.
	Schedule string
	// Code names the message in the catalog; Args fill it.
	Code string
	Args []any
}

// Error is the English message with the key's path.
func (p *Problem) Error() string { return p.Path + ": " + p.Text("en", nil) }

// Text is the message without the path in lang ("en" or "ru"), with the
// keys it mentions written by name: nil writes the file's key names, a
// command passes its option names.
func (p *Problem) Text(lang string, name func(key string) string) string {
	cat := catalog[lang]
	f, ok := cat[p.Code]
	if !ok {
		f = catalog["en"][p.Code]
	}
	if f == "" {
		f = p.Code
	}
	s := fmt.Sprintf(f, p.Args...)
	// Keys are written ‹like_this› in the catalog.
	for {
		i := strings.Index(s, "‹")
		if i < 0 {
			break
		}
		j := strings.Index(s[i:], "›")
		if j < 0 {
			break
		}
		key := s[i+len("‹") : i+j]
		if name != nil {
			key = name(key)
		}
		s = s[:i] + key + s[i+j+len("›"):]
	}
	return s
}

// Problems is every problem found in one validation, in the order of the
// keys. As an error it lists them one a line.
type Problems []*Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// problems collects problems under a path prefix.
type problems struct {
	list     Problems
	schedule string
}

func (ps *problems) add(path, field string, index int, code string, args ...any) {
	ps.list = append(ps.list, &Problem{Path: path, Field: field, Index: index, Schedule: ps.schedule, Code: code, Args: args})
}

// at is a key's path: prefix.field, or prefix.field[i] when i >= 0.
func at(prefix, field string, i int) string {
	p := field
	if prefix != "" {
		p = prefix + "." + field
	}
	if i >= 0 {
		p += fmt.Sprintf("[%d]", i)
	}
	return p
}

// catalog is every validation message by language. Arguments follow fmt
// verbs; values a person typed are quoted with %q after Clip.
var catalog = map[string]map[string]string{
	"en": {
		"id_missing":            "missing: the server's id (right-click the server > Copy Server ID)",
		"tz_missing":            "missing: an IANA time zone such as \"Europe/Moscow\"",
		"tz_bad":                "%q is not an IANA time zone: use a name such as \"Europe/Moscow\" or \"America/New_York\"",
		"language_bad":          "%q is not a language: use \"en\", \"ru\" or \"auto\" (the server's Discord language)",
		"empty_report_bad":      "%q is not a choice: use \"post\" or \"skip\"",
		"day_bad":               "%q is not a day: use mon, tue, wed, thu, fri, sat or sun",
		"time_bad":              "%q is not a time of day: write HH:MM on a 24-hour clock, e.g. 16:00",
		"weekly_no_channel":     "no channel for the weekly report: set ‹channels› here or ‹report_channels› on the guild, or ‹enabled› = false",
		"no_schedules":          "no schedule: add at least one schedule with a name and times",
		"name_missing":          "missing: a name people recognise, e.g. \"БЗС\" or \"Raid night\"",
		"name_long":             "is %d characters long: keep it to 64",
		"name_taken":            "%q is used by another schedule of this server: names must differ",
		"times_missing":         "missing: the local start times, e.g. 16:00 and 21:00",
		"duration_range":        "%s is out of range: use whole minutes from 1m to 24h, e.g. \"60m\"",
		"no_voice":              "no voice channel to watch: set ‹voice_channels› (ids) and/or ‹voice_channel_names› (name substrings)",
		"voice_name_empty":      "is empty: an empty substring would match every channel",
		"no_report_channel":     "no report channel: set ‹report_channels› on the server or the schedule",
		"rule_range":            "%s is out of range: use whole minutes from 0m (off) to less than the event's %s",
		"min_minutes_range":     "%d is out of range: use 1 to the event's %d minutes",
		"self_overlap":          "the event at %s starts before the one at %s has ended (duration %s): events of one schedule must not overlap",
		"schedules_overlap":     "overlaps %q (%s %s and %s %s) on the same voice channels: a minute would count twice; move the times or watch different channels",
		"guild_twice":           "server %d is configured twice (also at %s)",
		"channel_duplicate":     "lists %d twice",
		"too_many_schedules":    "%d schedules: keep it to %d per server",
		"too_many_times":        "%d start times: keep it to %d per schedule",
		"too_many_channels":     "%d channels: keep it to %d",
		"voice_name_long":       "is %d characters long: a channel name has at most 100",
		"retention_range":       "%d days is out of range: keep attendance from 7d to 36600d (100 years), or leave it out to keep everything",
		"departed_range":        "%d days is out of range: use 0d (delete at once) to 365d",
		"value_secret_shaped":   "looks like a token or a password: it does not belong in this key (the value is not shown)",
		"too_many_rules":        "%d role rules: keep it to %d",
		"rule_role_missing":     "missing: the id of the role the rule gives",
		"rule_role_everyone":    "is @everyone, which every member has: pick another role",
		"rule_role_taken":       "role %d already has a rule: change that one, a role has one rule",
		"rule_count_range":      "%d is out of range: use %d to %d",
		"rule_days_range":       "%d days is out of range: use 1d to %dd",
		"rule_of_last_alone":    "missing: ‹of_last› needs ‹attended_at_least› (attended at least N of the last M events)",
		"rule_of_last_small":    "%d is fewer than ‹attended_at_least› (%d): attended N of the last M needs M ≥ N",
		"rule_minutes_pair":     "‹minutes_at_least› and ‹minutes_in_last› go together: at least N minutes in the last D days",
		"rule_inactive_alone":   "cannot be combined with attendance conditions: a member who attended is not inactive; make it a rule of its own",
		"rule_no_condition":     "no condition: set ‹attended_at_least› (and ‹of_last›), ‹minutes_at_least› with ‹minutes_in_last›, ‹streak›, or ‹inactive_for›",
		"rule_schedule_unknown": "%q is not a schedule of this server",
		"rule_schedule_unused":  "only ‹attended_at_least› and ‹streak› count one schedule's events: set one of them, or leave ‹schedule› out",
	},
	"ru": {
		"id_missing":            "не указан: id сервера (правый клик по серверу > Копировать ID сервера)",
		"tz_missing":            "не указан: часовой пояс IANA, например \"Europe/Moscow\"",
		"tz_bad":                "%q — не часовой пояс IANA: укажите, например, \"Europe/Moscow\" или \"America/New_York\"",
		"language_bad":          "%q — не язык: укажите \"en\", \"ru\" или \"auto\" (язык сервера в Discord)",
		"empty_report_bad":      "%q — нет такого варианта: укажите \"post\" (публиковать) или \"skip\" (пропускать)",
		"day_bad":               "%q — не день недели: укажите mon, tue, wed, thu, fri, sat или sun",
		"time_bad":              "%q — не время: напишите ЧЧ:ММ в 24-часовом формате, например 16:00",
		"weekly_no_channel":     "нет канала для недельного отчёта: укажите ‹channels› здесь или ‹report_channels› для сервера, либо ‹enabled› = false",
		"no_schedules":          "нет расписания: добавьте хотя бы одно расписание с названием и временем",
		"name_missing":          "не указано: название, понятное участникам, например \"БЗС\" или \"Рейд\"",
		"name_long":             "длиной %d символов: не больше 64",
		"name_taken":            "%q уже занято другим расписанием этого сервера: названия должны различаться",
		"times_missing":         "не указано: местное время начала, например 16:00 и 21:00",
		"duration_range":        "%s вне допустимого: целые минуты от 1m до 24h, например \"60m\"",
		"no_voice":              "нет голосового канала: укажите ‹voice_channels› (id) и/или ‹voice_channel_names› (часть названия)",
		"voice_name_empty":      "пусто: пустая подстрока подошла бы к любому каналу",
		"no_report_channel":     "нет канала для отчётов: укажите ‹report_channels› для сервера или расписания",
		"rule_range":            "%s вне допустимого: целые минуты от 0m (выкл.) до меньше длительности события (%s)",
		"min_minutes_range":     "%d вне допустимого: от 1 до длительности события (%d мин)",
		"self_overlap":          "событие в %s начинается раньше, чем закончится событие в %s (длительность %s): события одного расписания не должны пересекаться",
		"schedules_overlap":     "пересекается с %q (%s %s и %s %s) в тех же голосовых каналах: минута засчиталась бы дважды; сдвиньте время или выберите другие каналы",
		"guild_twice":           "сервер %d указан дважды (ещё в %s)",
		"channel_duplicate":     "%d указан дважды",
		"too_many_schedules":    "%d расписаний: не больше %d на сервер",
		"too_many_times":        "%d времён начала: не больше %d на расписание",
		"too_many_channels":     "%d каналов: не больше %d",
		"voice_name_long":       "длиной %d символов: название канала — не больше 100",
		"retention_range":       "%d дн. — вне допустимого: храните посещаемость от 7d до 36600d (100 лет) или не указывайте, чтобы хранить всё",
		"departed_range":        "%d дн. — вне допустимого: от 0d (удалить сразу) до 365d",
		"value_secret_shaped":   "похоже на токен или пароль: этому здесь не место (значение не показано)",
		"too_many_rules":        "%d правил ролей: не больше %d",
		"rule_role_missing":     "не указано: id роли, которую даёт правило",
		"rule_role_everyone":    "это @everyone, она есть у всех: выберите другую роль",
		"rule_role_taken":       "у роли %d уже есть правило: измените его, у роли одно правило",
		"rule_count_range":      "%d — вне допустимого: от %d до %d",
		"rule_days_range":       "%d дн. — вне допустимого: от 1d до %dd",
		"rule_of_last_alone":    "не указано: ‹of_last› нужен вместе с ‹attended_at_least› (был не меньше N из последних M событий)",
		"rule_of_last_small":    "%d меньше, чем ‹attended_at_least› (%d): N из последних M требует M ≥ N",
		"rule_minutes_pair":     "‹minutes_at_least› и ‹minutes_in_last› задаются вместе: не меньше N минут за последние D дней",
		"rule_inactive_alone":   "нельзя сочетать с условиями посещения: кто был на событии, тот не неактивен; сделайте отдельное правило",
		"rule_no_condition":     "нет условия: задайте ‹attended_at_least› (и ‹of_last›), ‹minutes_at_least› с ‹minutes_in_last›, ‹streak› или ‹inactive_for›",
		"rule_schedule_unknown": "%q — не расписание этого сервера",
		"rule_schedule_unused":  "только ‹attended_at_least› и ‹streak› считают события одного расписания: задайте одно из них или уберите ‹schedule›",
	},
}
