package commands

import (
	"context"
	"encoding/json"
	"errors"
	"rollcall/attendance"
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
			return prepared{}, inputErr("err_unknown_event", attendance.Clip(eventStr), attendance.Example(r.now, r.loc()))
		}
	}
	var day time.Time
	if trimmed(dateStr) != "" && id == 0 {
		if day, err = attendance.ParseDate(dateStr, r.now, r.loc()); err != nil {
			return prepared{}, err
		}
	}
	return prepared{public: public, run: func(ctx context.Context) (compose.Message, error) {
		occ, err := c.findOccurrence(ctx, r, id, eventStr, day)
		if err != nil {
			return compose.Message{}, err
		}
		return c.reports.Event(ctx, r.guild, r.lang, occ.ID, compose.EventOptions{Now: r.now})
	}}, nil
}

// findOccurrence is the occurrence asked for: by id, the latest started on
// a day, or the latest started at all.
func (c *Commands) findOccurrence(ctx context.Context, r *request, id int64, typed string, day time.Time) (store.Occurrence, error) {
	g := r.guild
	if id != 0 {
		var o store.Occurrence
		err := c.store.Snapshot(ctx, func(q *store.Queries) (err error) {
			o, err = q.GetOccurrence(ctx, id)
			return err
		})
		if errors.Is(err, store.ErrNotFound) || err == nil && (o.GuildID != g.ID || o.Start.After(r.now)) {
			return o, inputErr("err_unknown_event", attendance.Clip(typed), attendance.Example(r.now, r.loc()))
		}
		return o, err
	}
	from, to := r.now.Add(-eventLookback), r.now.Add(time.Nanosecond)
	if !day.IsZero() {
		from, to = day, day.AddDate(0, 0, 1)
	}
	var occs []store.Occurrence
	err := c.store.Snapshot(ctx, func(q *store.Queries) (err error) {
		occs, err = q.Occurrences(ctx, g.ID, from, to)
		return err
	})
	if err != nil {
		return store.Occurrence{}, err
	}
	for i := len(occs) - 1; i >= 0; i-- {
		if !occs[i].Start.After(r.now) {
			return occs[i], nil
		}
	}
	if !day.IsZero() {
		return store.Occurrence{}, inputErr("err_no_event_on", r.lang.Date(day), attendance.Example(r.now, r.loc()))
	}
	return store.Occurrence{}, inputErr("err_no_events")
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
			if d, err := attendance.ParseDate(v, now, g.Location); err == nil {
				day = d
			}
		}
	}
	from, to := now.AddDate(0, 0, -autocompleteDays), now.Add(time.Nanosecond)
	if !day.IsZero() {
		from, to = day, day.AddDate(0, 0, 1)
	}
	occs, err := c.store.Occurrences(ctx, g.ID, from, to)
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
		if typed != "" && !strings.Contains(strings.ToLower(label), typed) && !strings.Contains(o.Start.In(g.Location).Format(attendance.DateLayout), typed) && id != typed {
			continue
		}
		out = append(out, discord.AutocompleteChoiceString{Name: label, Value: id})
	}
	return out, nil
}
