package compose

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/disgoorg/disgo/discord"

	"rollcall/render"
	"rollcall/report"
	"rollcall/settings"
	"rollcall/store"
	"rollcall/view"
)

// absentListed: more absent members than this and the full list is attached
// as CSV (the embed still lists as many as fit).
const absentListed = 25

// AbsentOptions say over which days and, optionally, for which role.
type AbsentOptions struct {
	From, To time.Time
	RoleID   uint64
	RoleName string
}

// Absent is who was expected and never came: /absent.
func (r *Reports) Absent(ctx context.Context, g *settings.Guild, l view.Lang, o AbsentOptions) (Message, error) {
	var p *report.Period
	err := r.Store.Snapshot(ctx, func(q *store.Queries) error {
		var err error
		p, err = report.BuildAbsent(ctx, q, g, o.From, o.To)
		return err
	})
	if err != nil {
		return Message{}, err
	}
	// Period.Never already leaves out bots and anyone who was not a member
	// while the events ran (report.Expected).
	never := p.Never
	if o.RoleID != 0 {
		never = slices.DeleteFunc(slices.Clone(never), func(m store.Member) bool { return !slices.Contains(m.Roles, o.RoleID) })
	}
	as := view.AbsentList(p, never)
	title, shown := l.T("absent_title", l.Week(p.From, p.To)), ""
	if o.RoleID != 0 {
		title = l.T("absent_role_title", l.Week(p.From, p.To), o.RoleName)
		shown = l.T("absent_role_title", l.Week(p.From, p.To), view.Escape(o.RoleName))
	} else {
		shown = title
	}
	e := discord.Embed{Title: shown, Color: view.ColorAbsent, Fields: []discord.EmbedField{
		{Name: l.T("absent_count"), Value: strconv.Itoa(len(as)), Inline: ptr(true)},
		{Name: l.T("events_held"), Value: l.Held(p), Inline: ptr(true)},
	}}
	if p.Paused > 0 {
		addFooter(&e, l.T("paused_count", p.Paused))
	}
	m := Message{Embeds: []discord.Embed{e}}
	switch {
	case p.Held() == 0:
		m.Embeds[0].Description = l.T("no_events", l.Week(p.From, p.To))
		return m, nil
	case len(as) == 0:
		m.Embeds[0].Description = l.T("absent_none")
		return m, nil
	}
	if ex := view.ExcusedMembers(p, o.RoleID); len(ex) > 0 {
		f, _ := l.NameFields([]view.NamedList{{Title: l.T("excused"), Members: ex}}, 900)
		m.Embeds[0].Fields = append(m.Embeds[0].Fields, f...)
	}
	m.Embeds[0].Description = l.AbsentNames(as, view.AbsentListChars)
	if len(as) > absentListed {
		m.Embeds[0].Description += "\n" + l.T("full_list_csv")
		m.Files = append(m.Files, File{Name: "absent-" + p.From.Format("2006-01-02") + ".csv", Data: []byte(view.AbsentCSV(as))})
	}
	chart := l.AbsentChart(as, title)
	r.chart(ctx, &m, l, "absent", func(ctx context.Context, rr Renderer) ([]byte, error) { return rr.Bars(ctx, chart) },
		func() string { return render.BarsText(chart) })
	view.Fit(&m.Embeds[0])
	return m, nil
}

func ptr[T any](v T) *T { return &v }
