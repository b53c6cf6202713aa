package compose

import (
	"context"
	"slices"
	"time"

	"github.com/disgoorg/disgo/discord"

	"rollcall/attendance"
	"rollcall/render"
	"rollcall/report"
	"rollcall/settings"
	"rollcall/view"
)

// MemberEventOptions say whose record of which event.
type MemberEventOptions struct {
	UserID       uint64
	OccurrenceID int64
	// Name is how Discord names the member, for one rollcall has never seen.
	Name string
	// Now judges a running event on the minutes so far.
	Now time.Time
}

// MemberEvent is one member's record of one event (/member with an event):
// a one-row chart of every minute, the rules that applied, the resulting
// class and any corrections, judged exactly as /event judges them.
func (r *Reports) MemberEvent(ctx context.Context, g *settings.Guild, l view.Lang, o MemberEventOptions) (Message, Found, error) {
	d, err := r.loadEvent(ctx, o.OccurrenceID)
	if err != nil {
		return Message{}, Found{}, err
	}
	rec, checked, live := soFar(d.rec, o.Now, false)
	ev := report.BuildEvent(g, rec, d.members)
	mem, known := d.members[o.UserID]
	name := mem.Name()
	if !known && o.Name != "" {
		name = o.Name
	}
	row := report.Row{Member: mem, Class: attendance.NoShow}
	seen := false
	for _, rw := range ev.Rows {
		if rw.Member.UserID == o.UserID {
			row, seen = rw, true
		}
	}
	excused := slices.Contains(rec.Excused, o.UserID)
	var corrections []string
	for _, c := range rec.Corrections {
		if c.UserID == o.UserID {
			corrections = append(corrections, l.CorrectionLine(CorrectionSpan(c, rec.Occurrence, g.Location), c))
		}
	}
	occ := d.rec.Occurrence
	e := discord.Embed{
		Title:  l.T("member_title", view.Escape(name), view.Escape(occ.Schedule)+" · "+l.Span(occ.Start.In(g.Location), occ.End.In(g.Location))),
		Color:  view.ColorMember,
		Fields: l.MemberEventFields(ev, row, g.RulesFor(occ.Schedule, occ.Native()), excused, corrections),
	}
	var notes []string
	if live {
		notes = append(notes, l.T("live_note", o.Now.In(g.Location).Format("15:04")))
	}
	if gaps := view.Gaps(d.cov, ev.Occurrence.Start, checked); gaps != "" {
		notes = append(notes, l.T("not_recorded", gaps))
	}
	if !seen && len(corrections) == 0 {
		e.Description = l.T("mt_not_seen")
	}
	m := Message{Embeds: []discord.Embed{e}}
	chart := l.MemberTimelineChart(ev, row, d.cov, name)
	r.chart(ctx, &m, l, "member-timeline", func(ctx context.Context, rr Renderer) ([]byte, error) { return rr.Timeline(ctx, chart) },
		func() string { return render.TimelineText(chart) })
	for _, n := range notes {
		addFooter(&m.Embeds[0], n)
	}
	view.Fit(&m.Embeds[0])
	return m, Found{Known: known, Bot: mem.Bot, Name: name}, nil
}
