package commands

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/handler"

	"rollcall/render"
	"rollcall/report"
	"rollcall/settings"
	"rollcall/store"
	"rollcall/view"
)

// eventLookback is how far back the latest event is looked for.
const eventLookback = 400 * 24 * time.Hour

// autocompleteDays is how far back autocomplete offers events.
const autocompleteDays = 60

// eventCommand is /event [date] [event] [public].
func eventCommand() discord.SlashCommandCreate {
	return slashCommand("event",
		stringOption("date", false),
		stringOption("event", true),
		publicOption(),
	)
}

// prepareEvent checks /event's options; the event itself is looked up off
// the gateway goroutine.
func (c *Commands) prepareEvent(r *request) (prepared, error) {
	dateStr, err := r.str("date")
	if err != nil {
		return prepared{}, err
	}
	eventStr, err := r.str("event")
	if err != nil {
		return prepared{}, err
	}
	public, err := r.public()
	if err != nil {
		return prepared{}, err
	}
	var id int64
	if s := trimmed(eventStr); s != "" {
		// The value is an occurrence id chosen from autocomplete; anything
		// typed by hand that is not one is an unknown event.
		if id, err = strconv.ParseInt(s, 10, 64); err != nil || id <= 0 {
			return prepared{}, inputErr("err_unknown_event", clip(eventStr), example(r.now, r.loc()))
		}
	}
	var day time.Time
	if trimmed(dateStr) != "" && id == 0 {
		if day, err = ParseDate(dateStr, r.now, r.loc()); err != nil {
			return prepared{}, err
		}
	}
	return prepared{public: public, run: func(ctx context.Context) (*reply, error) {
		occ, err := c.findOccurrence(ctx, r, id, eventStr, day)
		if err != nil {
			return nil, err
		}
		return c.eventReply(ctx, r, occ)
	}}, nil
}

// findOccurrence is the occurrence asked for: by id, the latest started on
// a day, or the latest started at all.
func (c *Commands) findOccurrence(ctx context.Context, r *request, id int64, typed string, day time.Time) (store.Occurrence, error) {
	g := r.guild
	if id != 0 {
		o, err := c.store.GetOccurrence(ctx, id)
		if errors.Is(err, store.ErrNotFound) || err == nil && (o.GuildID != uint64(g.ID) || o.Start.After(r.now)) {
			return o, inputErr("err_unknown_event", clip(typed), example(r.now, r.loc()))
		}
		return o, err
	}
	from, to := r.now.Add(-eventLookback), r.now.Add(time.Nanosecond)
	if !day.IsZero() {
		from, to = day, day.AddDate(0, 0, 1)
	}
	occs, err := c.store.Occurrences(ctx, uint64(g.ID), from, to)
	if err != nil {
		return store.Occurrence{}, err
	}
	for i := len(occs) - 1; i >= 0; i-- {
		if !occs[i].Start.After(r.now) {
			return occs[i], nil
		}
	}
	if !day.IsZero() {
		return store.Occurrence{}, inputErr("err_no_event_on", r.lang.Date(day), example(r.now, r.loc()))
	}
	return store.Occurrence{}, inputErr("err_no_events")
}

// eventReply judges one occurrence, as the post-event report does, and
// draws its timeline. A running event is judged on the minutes elapsed so
// far: otherwise everyone still in the channel would count as leaving early.
func (c *Commands) eventReply(ctx context.Context, r *request, occ store.Occurrence) (*reply, error) {
	g, l, loc := r.guild, r.lang, r.loc()
	recs, err := c.store.History(ctx, uint64(g.ID), occ.Start, occ.Start.Add(time.Second), 0)
	if err != nil {
		return nil, err
	}
	rec := store.OccurrenceRecord{Occurrence: occ}
	for _, x := range recs {
		if x.ID == occ.ID {
			rec = x
		}
	}
	members, err := c.store.Members(ctx, uint64(g.ID))
	if err != nil {
		return nil, err
	}
	byID := make(map[uint64]store.Member, len(members))
	for _, m := range members {
		byID[m.UserID] = m
	}
	cov, err := c.store.CoverageOf(ctx, occ.ID)
	if err != nil {
		return nil, err
	}

	live := r.now.Before(occ.End)
	full := int(occ.End.Sub(occ.Start) / time.Minute)
	checked := full // minutes over which gaps in recording are reported
	if live {
		elapsed := int((r.now.Sub(occ.Start) + time.Minute - 1) / time.Minute)
		elapsed = min(max(elapsed, 1), full)
		rec.End = rec.Start.Add(time.Duration(elapsed) * time.Minute)
		checked = int(r.now.Sub(occ.Start) / time.Minute) // the minute under way may not be sampled yet
	}
	ev := report.BuildEvent(g, rec, byID)
	title := occ.Schedule + " · " + l.Span(occ.Start.In(loc), occ.End.In(loc))

	rep := &reply{embed: discord.Embed{Title: title, Color: view.ColorEvent, Fields: append(l.EventFields(ev), l.ClassFields(ev)...)}}
	var notes []string
	if live {
		notes = append(notes, l.T("live_note", r.now.In(loc).Format("15:04")))
	}
	if gaps := view.Gaps(cov, ev.Occurrence.Start, checked); gaps != "" {
		notes = append(notes, l.T("not_recorded", gaps))
	}
	if len(notes) > 0 {
		rep.embed.Footer = &discord.EmbedFooter{Text: strings.Join(notes, " ")}
	}
	if ev.Occurrence.Native() {
		rep.embed.Fields = append(rep.embed.Fields, l.InterestFields(ev)...)
	}
	if ev.Participants == 0 {
		rep.embed.Description = l.T("nobody")
		return rep, nil
	}
	chart := l.TimelineChart(ev)
	chart.Title = title
	if live {
		chart.Subtitle = l.T("live_note", r.now.In(loc).Format("15:04"))
	}
	c.chart(ctx, rep, l, "event", func(ctx context.Context, rr Renderer) ([]byte, error) { return rr.Timeline(ctx, chart) },
		func() string { return render.TimelineText(chart) })
	return rep, nil
}

// eventChoices offers the recent events, newest first, matching what was
// typed (name, date or id), on the day of the date option if one is given.
func (c *Commands) eventChoices(ctx context.Context, e *handler.AutocompleteEvent, g *settings.Guild, l view.Lang) ([]discord.AutocompleteChoice, error) {
	now := c.clock.Now()
	typed := ""
	var day time.Time
	for name, o := range e.Data.Options {
		var v string
		if json.Unmarshal(o.Value, &v) != nil {
			continue
		}
		switch {
		case o.Focused:
			typed = strings.ToLower(strings.TrimSpace(v))
		case name == "date" && strings.TrimSpace(v) != "":
			if d, err := ParseDate(v, now, g.Location); err == nil {
				day = d
			}
		}
	}
	from, to := now.AddDate(0, 0, -autocompleteDays), now.Add(time.Nanosecond)
	if !day.IsZero() {
		from, to = day, day.AddDate(0, 0, 1)
	}
	occs, err := c.store.Occurrences(ctx, uint64(g.ID), from, to)
	if err != nil {
		return nil, err
	}
	out := []discord.AutocompleteChoice{}
	for i := len(occs) - 1; i >= 0 && len(out) < 25; i-- {
		o := occs[i]
		if o.Start.After(now) {
			continue
		}
		label := l.OccurrenceLabel(o, g.Location)
		id := strconv.FormatInt(o.ID, 10)
		if typed != "" && !strings.Contains(strings.ToLower(label), typed) && !strings.Contains(o.Start.In(g.Location).Format(dateLayout), typed) && id != typed {
			continue
		}
		out = append(out, discord.AutocompleteChoiceString{Name: label, Value: id})
	}
	return out, nil
}
