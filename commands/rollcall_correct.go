package commands

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/handler"
	"github.com/disgoorg/snowflake/v2"
	"github.com/jackc/pgx/v5"

	"rollcall/attendance"
	"rollcall/bot"
	"rollcall/compose"
	"rollcall/discordtext"
	"rollcall/settings"
	"rollcall/store"
	"rollcall/view"
)

// /rollcall correct add|remove|undo and /rollcall excuse add|remove|list:
// moderators fix what the bot recorded (a lost voice event, a known
// outage) and excuse members, each with a reason, all in the log. What the
// bot recorded is never changed: corrections and excuses are applied when
// reading (package report), so undoing one recomputes history.

// maxReason bounds a reason's length.
const maxReason = 300

// maxExcuseDays bounds a leave of absence.
const maxExcuseDays = 366

// upcomingDays is how far ahead the excuse autocomplete offers events.
const upcomingDays = 14

func correctCommands() discord.ApplicationCommandOptionSubCommandGroup {
	target := func() []discord.ApplicationCommandOption {
		return []discord.ApplicationCommandOption{
			optUser("member", true), optStr("event", true, true), optStr("range", true, false), optStr("reason", true, false),
			optBool("announce", false),
		}
	}
	return renamed(group("correct",
		sub("correct-add", target()...),
		sub("correct-remove", target()...),
		sub("undo", optStr("correction", true, true), optStr("reason", true, false)),
	), "correct-")
}

func excuseCommands() discord.ApplicationCommandOptionSubCommandGroup {
	return renamed(group("excuse",
		sub("excuse-add", optUser("member", true), optStr("reason", true, false), optStr("event", false, true),
			optStr("from", false, false), optStr("to", false, false)),
		sub("excuse-remove", optStr("excuse", true, true), optStr("reason", true, false)),
		sub("excuse-list", optUser("member", false)),
	), "excuse-")
}

// renamed gives prefixed subcommands their real names ("add"): the prefix
// keeps their words apart from other groups' subcommands of that name.
func renamed(g discord.ApplicationCommandOptionSubCommandGroup, prefix string) discord.ApplicationCommandOptionSubCommandGroup {
	for i := range g.Options {
		g.Options[i].Name = strings.TrimPrefix(g.Options[i].Name, prefix)
	}
	return g
}

func optUser(name string, required bool) discord.ApplicationCommandOptionUser {
	n, d, dl := rcoLoc(name)
	return discord.ApplicationCommandOptionUser{Name: name, NameLocalizations: n, Description: d, DescriptionLocalizations: dl, Required: required}
}

// routeCorrect routes the correct and excuse groups.
func (c *Commands) routeCorrect() {
	c.mux.SlashCommand("/rollcall/correct/add", c.handleAdmin("rollcall correct add", c.prepareCorrect(true)))
	c.mux.SlashCommand("/rollcall/correct/remove", c.handleAdmin("rollcall correct remove", c.prepareCorrect(false)))
	c.mux.SlashCommand("/rollcall/correct/undo", c.handleAdmin("rollcall correct undo", c.prepareUndo))
	c.mux.Autocomplete("/rollcall/correct/add", c.autocomplete(c.pastEventChoices))
	c.mux.Autocomplete("/rollcall/correct/remove", c.autocomplete(c.pastEventChoices))
	c.mux.Autocomplete("/rollcall/correct/undo", c.autocomplete(c.correctionChoices))
	c.mux.SlashCommand("/rollcall/excuse/add", c.handleAdmin("rollcall excuse add", c.prepareExcuseAdd))
	c.mux.SlashCommand("/rollcall/excuse/remove", c.handleAdmin("rollcall excuse remove", c.prepareExcuseRemove))
	c.mux.SlashCommand("/rollcall/excuse/list", c.handleAdmin("rollcall excuse list", c.prepareExcuseList))
	c.mux.Autocomplete("/rollcall/excuse/add", c.autocomplete(c.anyEventChoices))
	c.mux.Autocomplete("/rollcall/excuse/remove", c.autocomplete(c.excuseChoices))
}

// target reads a member option: someone in the server now, not a bot.
func (r *request) target(name string) (snowflake.ID, discord.User, error) {
	uid, err := r.id(name, discord.ApplicationCommandOptionTypeUser)
	if err != nil || uid == 0 {
		return 0, discord.User{}, err
	}
	user, ok := r.data.Resolved.Users[uid]
	if !ok {
		return 0, discord.User{}, badOption(r, name)
	}
	if user.Bot {
		return 0, user, inputErr("err_bot_member", view.Escape(user.EffectiveName()))
	}
	if _, in := r.data.Resolved.Members[uid]; !in {
		return 0, user, inputErr("cr_not_member", view.Escape(user.EffectiveName()))
	}
	return uid, user, nil
}

// reason reads the required reason: 1 to maxReason characters.
func (r *request) reason() (string, error) {
	s, err := r.str("reason")
	if err != nil {
		return "", err
	}
	s = strings.TrimSpace(s)
	switch n := utf8.RuneCountInString(s); {
	case n == 0:
		return "", inputErr("cr_no_reason")
	case n > maxReason:
		return "", inputErr("cr_reason_long", n, maxReason)
	}
	return s, nil
}

var clockRange = regexp.MustCompile(`^(\d{1,2}:\d{2})\s*(?:-|–|—|to|до)\s*(\d{1,2}:\d{2})$`)

// wholeEvent are the words for a correction of the whole event.
var wholeEvent = []string{"whole", "whole event", "all", "всё", "все", "целиком", "всё событие"}

// parseRange reads a range of an event's minutes: local clock times on the
// event's own day ("16:10-16:40"; after midnight for an event crossing it)
// or "whole event". It returns minutes [from, to) from the event's start.
func parseRange(r *request, s string, occ store.Occurrence) (from, to int, err error) {
	loc := r.loc()
	start, end := occ.Start.In(loc), occ.End.In(loc)
	minutes := int(end.Sub(start) / time.Minute)
	in := strings.ToLower(strings.Join(strings.Fields(s), " "))
	for _, w := range wholeEvent {
		if in == w {
			return 0, minutes, nil
		}
	}
	bad := inputErr("cr_bad_range", attendance.Clip(s), start.Format("15:04"), start.Add(30*time.Minute).Format("15:04"))
	m := clockRange.FindStringSubmatch(in)
	if m == nil {
		return 0, 0, bad
	}
	at := func(hhmm string) (int, error) {
		if len(hhmm) == 4 {
			hhmm = "0" + hhmm
		}
		tod, err := attendance.ParseTimeOfDay(hhmm)
		if err != nil {
			return 0, bad
		}
		t := time.Date(start.Year(), start.Month(), start.Day(), int(tod)/60, int(tod)%60, 0, 0, loc)
		if t.Before(start) && t.AddDate(0, 0, 1).Before(end.Add(time.Minute)) {
			t = t.AddDate(0, 0, 1) // after midnight, in an event that crosses it
		}
		return int(t.Sub(start) / time.Minute), nil
	}
	if from, err = at(m[1]); err != nil {
		return 0, 0, err
	}
	if to, err = at(m[2]); err != nil {
		return 0, 0, err
	}
	switch {
	case from < 0 || from >= minutes || to > minutes:
		return 0, 0, inputErr("cr_range_outside", attendance.Clip(s), start.Format("15:04"), end.Format("15:04"))
	case to <= from:
		return 0, 0, inputErr("cr_range_backwards", m[1], m[2])
	}
	return from, to, nil
}

// eventRef is what an event option names: an occurrence that has started,
// or (for an excuse) the start of an event that has not happened yet.
type eventRef struct {
	occ      store.Occurrence // ID 0 for an upcoming event
	upcoming time.Time
}

// eventLayout is how an event is typed by its start: "2026-12-05 16:00".
const eventLayout = "2006-01-02 15:04"

// readEvent reads an event option: an occurrence id or "at:<unix>" from
// the autocomplete, or a start typed as "2026-12-05 16:00" (also with
// DD.MM.YYYY). With upcoming, an event that has not started yet may be
// named by a start its schedule has.
func (c *Commands) readEvent(ctx context.Context, r *request, v string, upcoming bool) (eventRef, error) {
	s := strings.TrimSpace(v)
	example := r.now.In(r.loc()).Truncate(time.Hour).Format(eventLayout)
	unknown := inputErr("cr_unknown_event", attendance.Clip(v), example)
	if id, err := strconv.ParseInt(s, 10, 64); err == nil {
		var o store.Occurrence
		err := c.store.Snapshot(ctx, func(q *store.Queries) (err error) {
			o, err = q.GetOccurrence(ctx, id)
			return err
		})
		switch {
		case errors.Is(err, store.ErrNotFound) || err == nil && o.GuildID != r.gid:
			return eventRef{}, unknown
		case err != nil:
			return eventRef{}, err
		case o.Start.After(r.now) && !upcoming:
			return eventRef{}, inputErr("cr_future_event", r.lang.OccurrenceLabel(o, r.loc()))
		}
		return eventRef{occ: o}, nil
	}
	var at time.Time
	if unix, ok := strings.CutPrefix(s, "at:"); ok {
		n, err := strconv.ParseInt(unix, 10, 64)
		if err != nil {
			return eventRef{}, unknown
		}
		at = time.Unix(n, 0)
	} else {
		day, clock, ok := strings.Cut(strings.Join(strings.Fields(s), " "), " ")
		if !ok {
			return eventRef{}, unknown
		}
		d, err := attendance.ParseDay(day, r.now, r.loc())
		if err != nil {
			return eventRef{}, unknown
		}
		if len(clock) == 4 {
			clock = "0" + clock
		}
		tod, err := attendance.ParseTimeOfDay(clock)
		if err != nil {
			return eventRef{}, unknown
		}
		at = time.Date(d.Year(), d.Month(), d.Day(), int(tod)/60, int(tod)%60, 0, 0, r.loc())
	}
	if at.After(r.now) {
		if !upcoming {
			return eventRef{}, inputErr("cr_future_event", at.In(r.loc()).Format(eventLayout))
		}
		for _, s := range r.guild.Schedules {
			for _, o := range s.Parsed.Occurrences(at, at.Add(time.Minute)) {
				if o.Start.Equal(at) {
					return eventRef{upcoming: at}, nil
				}
			}
		}
		return eventRef{}, inputErr("ex_no_event_then", at.In(r.loc()).Format(eventLayout))
	}
	var occs []store.Occurrence
	if err := c.store.Snapshot(ctx, func(q *store.Queries) (err error) {
		occs, err = q.Occurrences(ctx, r.gid, at, at.Add(time.Minute))
		return err
	}); err != nil {
		return eventRef{}, err
	}
	if len(occs) == 0 {
		return eventRef{}, unknown
	}
	return eventRef{occ: occs[0]}, nil
}

// prepareCorrect is correct add (add true) and correct remove.
func (c *Commands) prepareCorrect(add bool) func(r *request) (prepared, error) {
	return func(r *request) (prepared, error) {
		if err := needSetUp(r); err != nil {
			return prepared{}, err
		}
		uid, user, err := r.target("member")
		if err != nil {
			return prepared{}, err
		}
		ev, err := r.str("event")
		if err != nil {
			return prepared{}, err
		}
		rng, err := r.str("range")
		if err != nil {
			return prepared{}, err
		}
		reason, err := r.reason()
		if err != nil {
			return prepared{}, err
		}
		announce, err := r.flag("announce")
		if err != nil {
			return prepared{}, err
		}
		return prepared{run: func(ctx context.Context) (compose.Message, error) {
			l := r.lang
			ref, err := c.readEvent(ctx, r, ev, false)
			if err != nil {
				return compose.Message{}, err
			}
			occ := ref.occ
			from, to, err := parseRange(r, rng, occ)
			if err != nil {
				return compose.Message{}, err
			}
			cor := store.Correction{OccurrenceID: occ.ID, GuildID: r.gid, UserID: uint64(uid), From: from, To: to, Add: add,
				Reason: reason, AuthorID: uint64(r.author.ID), AuthorName: r.author.EffectiveName(), CreatedAt: r.now}
			span := compose.CorrectionSpan(cor, occ, r.loc())
			label := l.OccurrenceLabel(occ, r.loc())
			action := "correct remove"
			if add {
				action = "correct add"
			}
			line := store.Change{AuthorID: cor.AuthorID, AuthorName: cor.AuthorName, Action: action, Old: "as recorded",
				New: fmt.Sprintf("%s %s: %s · %s", span, discordtext.Plain(user.EffectiveName()), reason, label)}
			var channels []uint64
			err = c.store.Tx(ctx, func(q *store.Queries, tx pgx.Tx) error {
				if cor.ID, err = q.AddCorrection(ctx, cor, line); err != nil {
					return err
				}
				if !announce {
					return nil
				}
				if channels, err = q.ReportChannels(ctx, occ.ID); err != nil || len(channels) == 0 {
					return err
				}
				return c.poster.EnqueueTx(ctx, tx, []bot.Due{{Kind: bot.KindCorrection, GuildID: r.gid, OccurrenceID: occ.ID,
					CorrectionID: cor.ID, Channels: channels, At: r.now}})
			})
			if err != nil {
				return compose.Message{}, err
			}
			text := l.T("cr_done", cor.ID, span, view.Escape(user.EffectiveName()), view.Escape(label))
			switch {
			case !announce:
				text += "\n" + l.T("cr_not_announced")
			case len(channels) == 0:
				text += "\n" + l.T("cr_not_posted")
			default:
				text += "\n" + l.T("cr_announced", mentionChannels(channels))
			}
			return compose.Text(text), nil
		}}, nil
	}
}

func mentionChannels(ids []uint64) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = fmt.Sprintf("<#%d>", id)
	}
	return strings.Join(out, ", ")
}

// readID reads an option naming a correction or an excuse by id ("#12" or
// "12", as the autocomplete offers).
func (r *request) readID(name, unknownKey string) (int64, string, error) {
	v, err := r.str(name)
	if err != nil {
		return 0, "", err
	}
	id, perr := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(v), "#"), 10, 64)
	if perr != nil || id <= 0 {
		return 0, v, inputErr(unknownKey, attendance.Clip(v))
	}
	return id, v, nil
}

func (c *Commands) prepareUndo(r *request) (prepared, error) {
	return c.prepareWithdraw(r, withdrawal{option: "correction", unknown: "cr_unknown", done: "cr_undone",
		action: "correct undo", old: "in force", new: "undone: ", undo: func(ctx context.Context, q *store.Queries, guild uint64, id int64, now time.Time, line store.Change) error {
			_, err := q.UndoCorrection(ctx, guild, id, now, line)
			return err
		}})
}

// withdrawal is what undoing a correction and removing an excuse differ in:
// the option naming it, the messages, the audit line and the query.
type withdrawal struct {
	option, unknown, done string
	action, old, new      string
	undo                  func(ctx context.Context, q *store.Queries, guild uint64, id int64, now time.Time, line store.Change) error
}

// prepareWithdraw takes back a correction or an excuse by its number, with
// a reason kept in the audit log; history is recomputed on read.
func (c *Commands) prepareWithdraw(r *request, w withdrawal) (prepared, error) {
	if err := needSetUp(r); err != nil {
		return prepared{}, err
	}
	id, typed, err := r.readID(w.option, w.unknown)
	if err != nil {
		return prepared{}, err
	}
	reason, err := r.reason()
	if err != nil {
		return prepared{}, err
	}
	return prepared{run: func(ctx context.Context) (compose.Message, error) {
		line := store.Change{AuthorID: uint64(r.author.ID), AuthorName: r.author.EffectiveName(), Action: w.action,
			Old: w.old, New: w.new + reason}
		err := c.store.Tx(ctx, func(q *store.Queries, _ pgx.Tx) error {
			return w.undo(ctx, q, r.gid, id, r.now, line)
		})
		if errors.Is(err, store.ErrNotFound) {
			return compose.Message{}, inputErr(w.unknown, attendance.Clip(typed))
		}
		if err != nil {
			return compose.Message{}, err
		}
		return compose.Text(r.lang.T(w.done, id)), nil
	}}, nil
}

// pastEventChoices offers the events that have started, as /event does.
func (c *Commands) pastEventChoices(ctx context.Context, e *handler.AutocompleteEvent, g *settings.Guild, l view.Lang) ([]discord.AutocompleteChoice, error) {
	return c.eventChoices(ctx, e, g, l)
}

// anyEventChoices offers the upcoming events of the schedules (soonest
// first), then the events that have started: an excuse is mostly asked
// for ahead of time.
func (c *Commands) anyEventChoices(ctx context.Context, e *handler.AutocompleteEvent, g *settings.Guild, l view.Lang) ([]discord.AutocompleteChoice, error) {
	now := c.clock.Now()
	typed := strings.ToLower(focusedValue(e))
	var next []attendance.Occurrence
	for _, s := range g.Schedules {
		next = append(next, s.Parsed.Occurrences(now.Add(time.Second), now.AddDate(0, 0, upcomingDays))...)
	}
	slices.SortFunc(next, func(a, b attendance.Occurrence) int { return a.Start.Compare(b.Start) })
	out := []discord.AutocompleteChoice{}
	for _, o := range next {
		if len(out) >= 12 {
			break
		}
		label := l.UpcomingLabel(o.Schedule, o.Start.In(g.Location))
		if typed != "" && !strings.Contains(strings.ToLower(label), typed) {
			continue
		}
		out = append(out, discord.AutocompleteChoiceString{Name: label, Value: fmt.Sprintf("at:%d", o.Start.Unix())})
	}
	past, err := c.eventChoices(ctx, e, g, l)
	if err != nil {
		return nil, err
	}
	return append(out, past[:min(len(past), 25-len(out))]...), nil
}

// correctionChoices offers the corrections in force, newest first.
func (c *Commands) correctionChoices(ctx context.Context, e *handler.AutocompleteEvent, g *settings.Guild, l view.Lang) ([]discord.AutocompleteChoice, error) {
	var cs []store.Correction
	occs := map[int64]store.Occurrence{}
	var names map[uint64]string
	err := c.store.Snapshot(ctx, func(q *store.Queries) (err error) {
		if cs, err = q.RecentCorrections(ctx, g.ID, 100); err != nil {
			return err
		}
		for _, cor := range cs {
			if _, ok := occs[cor.OccurrenceID]; !ok {
				if occs[cor.OccurrenceID], err = q.GetOccurrence(ctx, cor.OccurrenceID); err != nil {
					return err
				}
			}
		}
		names, err = memberNames(ctx, q, g.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	typed := strings.ToLower(focusedValue(e))
	out := []discord.AutocompleteChoice{}
	for _, cor := range cs {
		o := occs[cor.OccurrenceID]
		label := clipChoice(fmt.Sprintf("#%d %s %s · %s", cor.ID, compose.CorrectionSpan(cor, o, g.Location), names[cor.UserID],
			l.OccurrenceLabel(o, g.Location)))
		if typed != "" && !strings.Contains(strings.ToLower(label), strings.TrimPrefix(typed, "#")) {
			continue
		}
		if out = append(out, discord.AutocompleteChoiceString{Name: label, Value: strconv.FormatInt(cor.ID, 10)}); len(out) == 25 {
			break
		}
	}
	return out, nil
}

// memberNames are a guild's members' names as plain text, by id.
func memberNames(ctx context.Context, q *store.Queries, guild uint64) (map[uint64]string, error) {
	ms, err := q.Members(ctx, guild)
	names := make(map[uint64]string, len(ms))
	for _, m := range ms {
		names[m.UserID] = discordtext.Plain(m.Name())
	}
	return names, err
}

// clipChoice keeps an autocomplete choice's name within Discord's 100.
func clipChoice(s string) string {
	if r := []rune(s); len(r) > 100 {
		return string(r[:99]) + "…"
	}
	return s
}

func (c *Commands) prepareExcuseAdd(r *request) (prepared, error) {
	if err := needSetUp(r); err != nil {
		return prepared{}, err
	}
	uid, user, err := r.target("member")
	if err != nil {
		return prepared{}, err
	}
	reason, err := r.reason()
	if err != nil {
		return prepared{}, err
	}
	var strs [3]string
	for i, name := range []string{"event", "from", "to"} {
		if strs[i], err = r.str(name); err != nil {
			return prepared{}, err
		}
		strs[i] = strings.TrimSpace(strs[i])
	}
	ev, fromS, toS := strs[0], strs[1], strs[2]
	hasEvent, hasRange := ev != "", fromS != "" || toS != ""
	switch {
	case hasEvent == hasRange:
		return prepared{}, inputErr("ex_event_or_range")
	case hasRange && (fromS == "" || toS == ""):
		return prepared{}, inputErr("ex_both_dates")
	}
	var from, to time.Time
	if hasRange {
		if from, err = attendance.ParseDay(fromS, r.now, r.loc()); err != nil {
			return prepared{}, err
		}
		last, err := attendance.ParseDay(toS, r.now, r.loc())
		if err != nil {
			return prepared{}, err
		}
		to = last.AddDate(0, 0, 1)
		f, t := from.Format(attendance.DateLayout), last.Format(attendance.DateLayout)
		switch days := int(to.Sub(from).Hours()/24 + 0.5); {
		case last.Before(from):
			return prepared{}, inputErr("err_from_after_to", f, t, t, f)
		case days > maxExcuseDays:
			return prepared{}, inputErr("ex_too_long", days, maxExcuseDays)
		}
	}
	return prepared{run: func(ctx context.Context) (compose.Message, error) {
		l := r.lang
		e := store.Excuse{GuildID: r.gid, UserID: uint64(uid), From: from, To: to, Reason: reason,
			AuthorID: uint64(r.author.ID), AuthorName: r.author.EffectiveName(), CreatedAt: r.now}
		if hasEvent {
			ref, err := c.readEvent(ctx, r, ev, true)
			if err != nil {
				return compose.Message{}, err
			}
			if ref.occ.ID != 0 {
				e.OccurrenceID = ref.occ.ID
			} else {
				// An event that has not started has no row yet: the excuse
				// covers what starts at that minute.
				e.From, e.To = ref.upcoming, ref.upcoming.Add(time.Minute)
			}
		}
		what, err := c.excuseWhat(ctx, r, e)
		if err != nil {
			return compose.Message{}, err
		}
		line := store.Change{AuthorID: e.AuthorID, AuthorName: e.AuthorName, Action: "excuse add", Old: "expected",
			New: fmt.Sprintf("%s: %s · %s", discordtext.Plain(user.EffectiveName()), reason, what)}
		err = c.store.Tx(ctx, func(q *store.Queries, _ pgx.Tx) (err error) {
			e.ID, err = q.AddExcuse(ctx, e, line)
			return err
		})
		if err != nil {
			return compose.Message{}, err
		}
		return compose.Text(l.T("ex_done", e.ID, view.Escape(user.EffectiveName()), view.Escape(what))), nil
	}}, nil
}

// excuseWhat says what an excuse covers: one event, or days.
func (c *Commands) excuseWhat(ctx context.Context, r *request, e store.Excuse) (string, error) {
	if e.OccurrenceID != 0 {
		var o store.Occurrence
		err := c.store.Snapshot(ctx, func(q *store.Queries) (err error) {
			o, err = q.GetOccurrence(ctx, e.OccurrenceID)
			return err
		})
		return r.lang.OccurrenceLabel(o, r.loc()), err
	}
	return r.lang.ExcuseSpan(e.From.In(r.loc()), e.To.In(r.loc())), nil
}

func (c *Commands) prepareExcuseRemove(r *request) (prepared, error) {
	return c.prepareWithdraw(r, withdrawal{option: "excuse", unknown: "ex_unknown", done: "ex_removed",
		action: "excuse remove", old: "excused", new: "withdrawn: ", undo: func(ctx context.Context, q *store.Queries, guild uint64, id int64, now time.Time, line store.Change) error {
			_, err := q.UndoExcuse(ctx, guild, id, now, line)
			return err
		}})
}

func (c *Commands) prepareExcuseList(r *request) (prepared, error) {
	if err := needSetUp(r); err != nil {
		return prepared{}, err
	}
	uid, err := r.id("member", discord.ApplicationCommandOptionTypeUser)
	if err != nil {
		return prepared{}, err
	}
	return prepared{run: func(ctx context.Context) (compose.Message, error) {
		lines, err := c.reports.ExcuseLines(ctx, r.guild, r.lang, uint64(uid), time.Time{}, 50, true)
		if err != nil {
			return compose.Message{}, err
		}
		e := discord.Embed{Title: r.lang.T("ex_list_title"), Color: view.ColorMember, Description: strings.Join(lines, "\n")}
		if len(lines) == 0 {
			e.Description = r.lang.T("ex_none")
		}
		view.Fit(&e)
		return compose.Message{Embeds: []discord.Embed{e}}, nil
	}}, nil
}

// excuseChoices offers the excuses in force, newest first.
func (c *Commands) excuseChoices(ctx context.Context, e *handler.AutocompleteEvent, g *settings.Guild, l view.Lang) ([]discord.AutocompleteChoice, error) {
	var es []store.Excuse
	var names map[uint64]string
	err := c.store.Snapshot(ctx, func(q *store.Queries) (err error) {
		if es, err = q.Excuses(ctx, g.ID, 0, 100); err != nil {
			return err
		}
		names, err = memberNames(ctx, q, g.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	typed := strings.ToLower(focusedValue(e))
	out := []discord.AutocompleteChoice{}
	for _, ex := range es {
		label := clipChoice(fmt.Sprintf("#%d %s · %s", ex.ID, names[ex.UserID], discordtext.Plain(ex.Reason)))
		if typed != "" && !strings.Contains(strings.ToLower(label), strings.TrimPrefix(typed, "#")) {
			continue
		}
		if out = append(out, discord.AutocompleteChoiceString{Name: label, Value: strconv.FormatInt(ex.ID, 10)}); len(out) == 25 {
			break
		}
	}
	return out, nil
}
