package commands

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/handler"

	"rollcall/compose"
	"rollcall/settings"
	"rollcall/store"
	"rollcall/view"
)

// /rollcall schedule add|edit|remove|list|show.

// splitList reads "07:00, 16:00" or "07:00 16:00" as a list.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// everyDay are the ways to say "every day" for days.
var everyDay = map[string]bool{"every": true, "every day": true, "everyday": true, "all": true, "daily": true, "каждый день": true, "ежедневно": true, "все": true}

// parseDuration reads a duration option: "60m", "1h30m", "2h", or a plain
// number of minutes.
func parseDuration(r *request, option, s string) (*settings.Duration, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil {
		d := settings.Duration(time.Duration(n) * time.Minute)
		return &d, nil
	}
	var d settings.Duration
	if err := d.UnmarshalText([]byte(s)); err != nil {
		return nil, textError(r.lang.T("rc_bad_duration", optionLabel(r.lang, option), settings.Clip(s)))
	}
	return &d, nil
}

// readSchedule applies the schedule options that were given to s: what add
// and edit share. Channel options are checked here (type, and that the bot
// can post in a report channel); the rest by settings.Validate.
func (c *Commands) readSchedule(r *request, s *settings.ScheduleSpec) error {
	if v, err := r.str("times"); err != nil {
		return err
	} else if strings.TrimSpace(v) != "" {
		s.Times = splitList(v)
	}
	if v, err := r.str("days"); err != nil {
		return err
	} else if strings.TrimSpace(v) != "" {
		if everyDay[strings.ToLower(strings.TrimSpace(v))] {
			s.Days = nil
		} else {
			s.Days = splitList(v)
		}
	}
	if v, err := r.str("duration"); err != nil {
		return err
	} else if strings.TrimSpace(v) != "" {
		d, err := parseDuration(r, "duration", v)
		if err != nil {
			return err
		}
		s.Duration = d
	}
	var voice []settings.Snowflake
	for _, name := range []string{"voice_channel", "voice_channel_2", "voice_channel_3"} {
		ch, ok, err := r.channel(name)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if err := isVoiceChannel(r, name, ch); err != nil {
			return err
		}
		voice = append(voice, settings.Snowflake(ch.ID))
	}
	if len(voice) > 0 {
		s.VoiceChannels = voice
	}
	if v, err := r.str("voice_name"); err != nil {
		return err
	} else if v = strings.TrimSpace(v); v != "" {
		if strings.EqualFold(v, "none") || v == "-" {
			s.VoiceChannelNames = nil
		} else {
			s.VoiceChannelNames = []string{v}
		}
	}
	var report []settings.Snowflake
	for _, name := range []string{"report_channel", "report_channel_2"} {
		ch, ok, err := r.channel(name)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if err := c.canPost(r, name, ch); err != nil {
			return err
		}
		report = append(report, settings.Snowflake(ch.ID))
	}
	if len(report) > 0 {
		s.ReportChannels = report
	}
	if n, ok, err := r.integer("min_minutes"); err != nil {
		return err
	} else if ok {
		s.MinMinutes = &n
	}
	for _, x := range []struct {
		option string
		dst    **bool
	}{{"count_muted", &s.CountSelfMuted}, {"count_deafened", &s.CountSelfDeafened}, {"count_server_deafened", &s.CountServerDeafened}} {
		v, ok, err := r.boolOpt(x.option)
		if err != nil {
			return err
		}
		if ok {
			*x.dst = &v
		}
	}
	for _, x := range []struct {
		option string
		dst    **settings.Duration
	}{{"late_after", &s.LateAfter}, {"left_early_before", &s.LeftEarlyBefore}} {
		v, err := r.str(x.option)
		if err != nil {
			return err
		}
		if strings.TrimSpace(v) == "" {
			continue
		}
		d, err := parseDuration(r, x.option, v)
		if err != nil {
			return err
		}
		*x.dst = d
	}
	return nil
}

func (c *Commands) prepareScheduleAdd(r *request) (prepared, error) {
	if err := needChangeable(r); err != nil {
		return prepared{}, err
	}
	name, err := r.str("name")
	if err != nil {
		return prepared{}, err
	}
	s := settings.ScheduleSpec{Name: strings.TrimSpace(name)}
	if err := c.readSchedule(r, &s); err != nil {
		return prepared{}, err
	}
	return prepared{run: func(ctx context.Context) (compose.Message, error) {
		g, _, err := c.save(ctx, r, "schedule add", scheduleKeys, func(spec *settings.Spec) error {
			spec.Schedules = append(spec.Schedules, s)
			return nil
		})
		if err != nil {
			return compose.Message{}, err
		}
		sc := g.ScheduleByName(s.Name)
		return compose.Text(r.lang.T("rc_schedule_added", view.Escape(sc.Name), scheduleSummary(r.lang, g, sc))), nil
	}}, nil
}

func (c *Commands) prepareScheduleEdit(r *request) (prepared, error) {
	if err := needChangeable(r); err != nil {
		return prepared{}, err
	}
	ref, err := r.str("schedule")
	if err != nil {
		return prepared{}, err
	}
	name, hash := parseScheduleRef(ref)
	newName, err := r.str("new_name")
	if err != nil {
		return prepared{}, err
	}
	var edits settings.ScheduleSpec
	return prepared{run: func(ctx context.Context) (compose.Message, error) {
		var running string
		g, changes, err := c.save(ctx, r, "schedule edit", scheduleKeys, func(spec *settings.Spec) error {
			i := findSchedule(spec, name)
			if i < 0 {
				return inputErr("rc_unknown_schedule", settings.Clip(name))
			}
			cur := spec.Schedules[i]
			if hash != "" && scheduleHash(cur) != hash {
				// Another moderator changed it since it was picked: show
				// what it says now rather than overwrite their change.
				return textError(r.lang.T("rc_conflict", view.Escape(cur.Name), scheduleSpecText(cur)))
			}
			edits = cur
			if err := c.readSchedule(r, &edits); err != nil {
				return err
			}
			if n := strings.TrimSpace(newName); n != "" {
				edits.Name = n
			}
			spec.Schedules[i] = edits
			if old := r.guild.ScheduleByName(cur.Name); old != nil {
				if occ := old.Parsed.Running(r.now); len(occ) > 0 {
					running = occ[0].Start.Format("15:04")
				}
			}
			return nil
		})
		if err != nil {
			return compose.Message{}, err
		}
		msg := r.lang.T("rc_schedule_edited", view.Escape(edits.Name), changesText(r.lang, changes))
		if running != "" {
			msg += "\n" + r.lang.T("rc_applies_next", running)
		}
		if rulesChanged(changes) {
			msg += "\n" + r.lang.T("rc_rules_history")
		}
		_ = g
		return compose.Text(msg), nil
	}}, nil
}

// rulesChanged reports whether a change touched an attendance rule, which
// applies to past events too.
func rulesChanged(changes []settings.Change) bool {
	for _, ch := range changes {
		for _, k := range []string{".min_minutes", ".count_", ".late_after", ".left_early_before"} {
			if strings.Contains(ch.Key, k) {
				return true
			}
		}
	}
	return false
}

func (c *Commands) prepareScheduleRemove(r *request) (prepared, error) {
	if err := needChangeable(r); err != nil {
		return prepared{}, err
	}
	ref, err := r.str("schedule")
	if err != nil {
		return prepared{}, err
	}
	name, _ := parseScheduleRef(ref)
	deleteHistory, err := r.flag("delete_history")
	if err != nil {
		return prepared{}, err
	}
	return prepared{run: func(ctx context.Context) (compose.Message, error) {
		gid := r.gid
		sc := r.guild.ScheduleByName(name)
		if i := findSchedule(&r.guild.Spec, name); i >= 0 {
			sc = r.guild.ScheduleByName(r.guild.Spec.Schedules[i].Name)
		}
		if sc == nil {
			return compose.Message{}, inputErr("rc_unknown_schedule", settings.Clip(name))
		}
		var n int
		if err := c.store.Snapshot(ctx, func(q *store.Queries) (err error) {
			n, err = q.CountOccurrences(ctx, gid, sc.Name)
			return err
		}); err != nil {
			return compose.Message{}, err
		}
		if deleteHistory && n > 0 {
			// Deleting history cannot be undone: ask first, with buttons
			// only the asker can press (the reply is private).
			m := compose.Text(r.lang.T("rc_delete_confirm", view.Escape(sc.Name), n))
			m.Components = []discord.LayoutComponent{discord.ActionRowComponent{Components: []discord.InteractiveComponent{
				discord.ButtonComponent{Style: discord.ButtonStyleDanger, Label: r.lang.T("rc_delete_yes"), CustomID: deleteScheduleID(sc.Name)},
				discord.ButtonComponent{Style: discord.ButtonStyleSecondary, Label: r.lang.T("rc_cancel"), CustomID: "/rc/cancel"},
			}}}
			return m, nil
		}
		if _, _, err := c.save(ctx, r, "schedule remove", scheduleKeys, func(spec *settings.Spec) error {
			i := findSchedule(spec, sc.Name)
			if i < 0 {
				return inputErr("rc_unknown_schedule", settings.Clip(name))
			}
			spec.Schedules = append(spec.Schedules[:i], spec.Schedules[i+1:]...)
			return nil
		}); err != nil {
			return compose.Message{}, err
		}
		return compose.Text(r.lang.T("rc_schedule_removed", view.Escape(sc.Name), n)), nil
	}}, nil
}

// deleteScheduleID is the confirm button's custom id: the schedule's name,
// hex-encoded so any name fits the route.
func deleteScheduleID(name string) string { return fmt.Sprintf("/rc/delete-schedule/%x", name) }

// confirmDeleteSchedule is the confirm button: the schedule goes from the
// settings and its events from the history, in that order (a crash in
// between leaves history without a schedule, which stays queryable, never
// a schedule without its history).
func (c *Commands) confirmDeleteSchedule(data discord.ButtonInteractionData, e *handler.ComponentEvent) error {
	c.jobs.Add(1)
	defer c.jobs.Add(-1)
	l := langOf(e)
	var name string
	if _, err := fmt.Sscanf(e.Vars["name"], "%x", &name); err != nil {
		return e.UpdateMessage(discord.MessageUpdate{Content: ptr(l.T("err_option", "button")), Components: &[]discord.LayoutComponent{}})
	}
	gid := e.GuildID()
	if gid == nil || e.Member() == nil {
		return nil
	}
	g, ok := c.reg.Get(uint64(*gid))
	if !ok || !isModerator(g, e.Member()) {
		return e.UpdateMessage(discord.MessageUpdate{Content: ptr(l.T("rc_not_moderator")), Components: &[]discord.LayoutComponent{}})
	}
	if err := e.DeferUpdateMessage(); err != nil {
		return err
	}
	c.afterClick(e, l, "answer the delete button", func(ctx context.Context) (string, error) {
		r := c.clickRequest(g, e, l)
		_, _, err := c.save(ctx, r, "schedule remove", scheduleKeys, func(spec *settings.Spec) error {
			i := findSchedule(spec, name)
			if i < 0 {
				return inputErr("rc_unknown_schedule", settings.Clip(name))
			}
			spec.Schedules = append(spec.Schedules[:i], spec.Schedules[i+1:]...)
			return nil
		})
		if err != nil && err != errNothingChanged {
			return "", err
		}
		n, err := c.store.DeleteScheduleHistory(ctx, g.ID, name, r.now, uint64(e.User().ID), e.User().EffectiveName())
		return l.T("rc_deleted", view.Escape(name), n), err
	})
	return nil
}

// cancelButton takes the buttons away.
func (c *Commands) cancelButton(data discord.ButtonInteractionData, e *handler.ComponentEvent) error {
	l := langOf(e)
	return e.UpdateMessage(discord.MessageUpdate{Content: ptr(l.T("rc_cancelled")), Components: &[]discord.LayoutComponent{}})
}

func (c *Commands) prepareScheduleList(r *request) (prepared, error) {
	if err := needSetUp(r); err != nil {
		return prepared{}, err
	}
	return prepared{run: func(ctx context.Context) (compose.Message, error) {
		g := r.guild
		if len(g.Schedules) == 0 {
			return compose.Text(r.lang.T("rc_list_none")), nil
		}
		var lines []string
		for i := range g.Schedules {
			s := &g.Schedules[i]
			lines = append(lines, "**"+view.Escape(s.Name)+"** — "+scheduleSummary(r.lang, g, s))
		}
		return compose.Message{Embeds: []discord.Embed{{Title: r.lang.T("rc_list_title"), Color: view.ColorEvent, Description: strings.Join(lines, "\n")}}}, nil
	}}, nil
}

func (c *Commands) prepareScheduleShow(r *request) (prepared, error) {
	if err := needSetUp(r); err != nil {
		return prepared{}, err
	}
	ref, err := r.str("schedule")
	if err != nil {
		return prepared{}, err
	}
	name, _ := parseScheduleRef(ref)
	return prepared{run: func(ctx context.Context) (compose.Message, error) {
		i := findSchedule(&r.guild.Spec, name)
		if i < 0 {
			return compose.Message{}, inputErr("rc_unknown_schedule", settings.Clip(name))
		}
		s := r.guild.Spec.Schedules[i]
		return compose.Message{Embeds: []discord.Embed{{Title: view.Escape(s.Name), Color: view.ColorEvent,
			Description: "```toml\n" + scheduleSpecText(s) + "```"}}}, nil
	}}, nil
}

// scheduleSummary is one line about a schedule: days, times, length,
// channels.
func scheduleSummary(l view.Lang, g *settings.Guild, s *settings.Schedule) string {
	days := l.T("rc_every_day")
	if len(s.Parsed.Days) > 0 {
		var ds []string
		for _, d := range s.Parsed.Days {
			ds = append(ds, settings.WeekdayName(d))
		}
		days = strings.Join(ds, ", ")
	}
	var times []string
	for _, t := range s.Parsed.Starts {
		times = append(times, t.String())
	}
	var where []string
	for _, id := range s.VoiceChannels {
		where = append(where, fmt.Sprintf("<#%d>", id))
	}
	for _, n := range s.VoiceChannelNames {
		where = append(where, l.T("rc_named_like", view.Escape(n)))
	}
	var to []string
	for _, id := range s.ReportChannels {
		to = append(to, fmt.Sprintf("<#%d>", id))
	}
	return l.T("rc_schedule_line", days, strings.Join(times, ", "), settings.FormatDuration(s.Duration), strings.Join(where, ", "), strings.Join(to, ", "))
}

// scheduleSpecText is a schedule as the file writes it.
func scheduleSpecText(s settings.ScheduleSpec) string {
	text, err := settings.TOML(settings.Spec{Schedules: []settings.ScheduleSpec{s}})
	if err != nil {
		return s.Name
	}
	// Only the schedule's own table.
	if i := strings.Index(text, "[[guilds.schedules]]"); i >= 0 {
		text = text[i:]
	}
	return text
}

// scheduleChoices offers the guild's schedules, matching what was typed.
func (c *Commands) scheduleChoices(ctx context.Context, e *handler.AutocompleteEvent, g *settings.Guild, l view.Lang) ([]discord.AutocompleteChoice, error) {
	typed := strings.ToLower(strings.TrimSpace(focusedValue(e)))
	out := []discord.AutocompleteChoice{}
	for i, s := range g.Spec.Schedules {
		if typed != "" && !strings.Contains(strings.ToLower(s.Name), typed) {
			continue
		}
		label := s.Name
		if i < len(g.Schedules) {
			label += " · " + scheduleSummaryPlain(l, &g.Schedules[i])
		}
		if r := []rune(label); len(r) > 100 {
			label = string(r[:99]) + "…"
		}
		out = append(out, discord.AutocompleteChoiceString{Name: label, Value: scheduleRef(s)})
		if len(out) == 25 {
			break
		}
	}
	return out, nil
}

// scheduleSummaryPlain is the summary for a pick list (no markdown there).
func scheduleSummaryPlain(l view.Lang, s *settings.Schedule) string {
	days := l.T("rc_every_day")
	if len(s.Parsed.Days) > 0 {
		var ds []string
		for _, d := range s.Parsed.Days {
			ds = append(ds, settings.WeekdayName(d))
		}
		days = strings.Join(ds, ",")
	}
	var times []string
	for _, t := range s.Parsed.Starts {
		times = append(times, t.String())
	}
	return days + " " + strings.Join(times, ",") + " · " + settings.FormatDuration(s.Duration)
}

func ptr[T any](v T) *T { return &v }
