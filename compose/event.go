package compose

import (
	"context"
	"strings"
	"time"

	"github.com/disgoorg/disgo/discord"

	"rollcall/attendance"
	"rollcall/render"
	"rollcall/report"
	"rollcall/settings"
	"rollcall/store"
	"rollcall/view"
)

// LateAfter is how long after its due time an automatic post says it is late.
const LateAfter = 2 * time.Minute

// EventOptions say which event report is wanted.
type EventOptions struct {
	// Now is the clock's time: a running event is judged on the minutes so
	// far, and a late post says how late it is.
	Now time.Time
	// Post: the automatic post after the event (says when it is late,
	// honours empty_report, ends with Marker); else a /event reply.
	Post   bool
	Marker string
}

// eventData is one occurrence as loaded in one snapshot.
type eventData struct {
	rec     store.OccurrenceRecord
	members map[uint64]store.Member
	cov     attendance.Mask
}

func (r *Reports) loadEvent(ctx context.Context, occID int64) (eventData, error) {
	var d eventData
	err := r.Store.Snapshot(ctx, func(q *store.Queries) error {
		var err error
		if d.rec, err = q.OccurrenceRecord(ctx, occID); err != nil {
			return err
		}
		ms, err := q.Members(ctx, d.rec.GuildID)
		if err != nil {
			return err
		}
		d.members = make(map[uint64]store.Member, len(ms))
		for _, m := range ms {
			d.members[m.UserID] = m
		}
		d.cov, err = q.CoverageOf(ctx, occID)
		return err
	})
	return d, err
}

// soFar is the record to judge at now: a running event (unless this is
// the post after it) is judged on the minutes so far, or everyone still in
// the channel would count as leaving early. checked is the minutes over
// which gaps in recording are reported: the minute under way may not be
// sampled yet.
func soFar(rec store.OccurrenceRecord, now time.Time, post bool) (store.OccurrenceRecord, int, bool) {
	full := int(rec.End.Sub(rec.Start) / time.Minute)
	if post || !now.Before(rec.End) {
		return rec, full, false
	}
	elapsed := int((now.Sub(rec.Start) + time.Minute - 1) / time.Minute)
	elapsed = min(max(elapsed, 1), full)
	rec.End = rec.Start.Add(time.Duration(elapsed) * time.Minute)
	return rec, int(now.Sub(rec.Start) / time.Minute), true
}

// Event is one occurrence's report: the post after it ends and /event.
func (r *Reports) Event(ctx context.Context, g *settings.Guild, l view.Lang, occID int64, o EventOptions) (Message, error) {
	d, err := r.loadEvent(ctx, occID)
	if err != nil {
		return Message{}, err
	}
	occ := d.rec.Occurrence
	loc := g.Location
	rec, checked, live := soFar(d.rec, o.Now, o.Post)
	ev := report.BuildEvent(g, rec, d.members)
	title := occ.Schedule + " · " + l.Span(occ.Start.In(loc), occ.End.In(loc))

	var notes []string
	if live {
		notes = append(notes, l.T("live_note", o.Now.In(loc).Format("15:04")))
	}
	if gaps := view.Gaps(d.cov, ev.Occurrence.Start, checked); gaps != "" {
		notes = append(notes, l.T("not_recorded", gaps))
	}
	if ev.Corrected {
		notes = append(notes, l.T("footer_corrected"))
	}
	if late := o.Now.Sub(occ.End); o.Post && late > LateAfter {
		notes = append(notes, l.T("posted_late", l.Duration(late)))
	}
	if o.Post && ev.Participants == 0 && !ev.Occurrence.Native() && g.EmptyReport == "skip" {
		return Message{Skip: true}, nil
	}

	// The full span, also while it runs (ev is judged on the minutes so far).
	e := discord.Embed{Title: view.Escape(occ.Schedule) + " · " + l.Span(occ.Start.In(loc), occ.End.In(loc)), Color: view.ColorEvent, Fields: l.EventFields(ev)}
	lists := l.ClassLists(ev)
	if ev.Occurrence.Native() {
		lists = append(lists, l.InterestLists(ev)...)
	}
	budget := view.MaxEmbedChars - 300 - view.EmbedChars(e)
	names, cutShort := l.NameFields(lists, budget)
	e.Fields = append(e.Fields, names...)
	m := Message{Embeds: []discord.Embed{e}}
	if cutShort {
		m.Files = append(m.Files, File{Name: "event-members.csv", Data: []byte(report.EventCSV(ev))})
		notes = append(notes, l.T("full_list_csv"))
	}
	if ev.Participants == 0 {
		m.Embeds[0].Description = l.T("nobody")
	} else {
		chart := l.TimelineChart(ev)
		chart.Title = title
		if live {
			chart.Subtitle = l.T("live_note", o.Now.In(loc).Format("15:04"))
		}
		r.chart(ctx, &m, l, "timeline", func(ctx context.Context, rr Renderer) ([]byte, error) { return rr.Timeline(ctx, chart) },
			func() string { return render.TimelineText(chart) })
	}
	e0 := &m.Embeds[0]
	addFooter(e0, strings.Join(notes, " "))
	if o.Marker != "" {
		addFooter(e0, o.Marker)
	}
	view.Fit(e0)
	return m, nil
}
