package compose

import (
	"context"
	"strings"
	"time"

	"github.com/disgoorg/disgo/discord"

	"rollcall/render"
	"rollcall/settings"
	"rollcall/view"
)

// MemberOptions say whose figures over which days.
type MemberOptions struct {
	UserID   uint64
	From, To time.Time
	// Name is how Discord names the member, for one rollcall has never seen.
	Name string
	// Now is when streaks are counted up to.
	Now time.Time
}

// Found says what rollcall knows of the member a report is about, so the
// caller can refuse a bot or someone it never saw instead of showing zeros.
type Found struct {
	Known bool // stored: seen on the gateway or recorded
	Bot   bool
	Name  string
}

// Member is one member's minutes per event over a period: /member.
func (r *Reports) Member(ctx context.Context, g *settings.Guild, l view.Lang, o MemberOptions) (Message, Found, error) {
	p, ledger, err := r.periodAndLedger(ctx, g, o.From, o.To, o.UserID, o.Now)
	if err != nil {
		return Message{}, Found{}, err
	}
	mem, known := p.Members[o.UserID]
	t := p.TotalFor(o.UserID)
	name := t.Member.Name()
	if !known && o.Name != "" {
		name = o.Name
	}
	e := discord.Embed{
		Title: l.T("member_title", view.Escape(name), l.Week(p.From, p.To)), Color: view.ColorMember,
		Fields: l.MemberFields(t),
	}
	if f, ok := l.MemberInterestField(p, o.UserID); ok {
		e.Fields = append(e.Fields, f)
	}
	if ledger != nil {
		if ss := MemberStreaks(ledger, o.UserID); len(ss) > 0 {
			e.Fields = append(e.Fields, discord.EmbedField{Name: l.T("streaks"), Value: l.StreakLines(ss)})
		}
	}
	// Members see their own excuses: those of the period and ahead.
	excuses, err := r.ExcuseLines(ctx, g, l, o.UserID, p.From, 5, false)
	if err != nil {
		return Message{}, Found{}, err
	}
	if len(excuses) > 0 {
		e.Fields = append(e.Fields, discord.EmbedField{Name: l.T("your_excuses"), Value: strings.Join(excuses, "\n")})
	}
	m := Message{Embeds: []discord.Embed{e}}
	if p.Held() == 0 {
		m.Embeds[0].Description = l.T("no_data_member")
	} else {
		chart := l.MemberChart(p, o.UserID, name)
		r.chart(ctx, &m, l, "member", func(ctx context.Context, rr Renderer) ([]byte, error) { return rr.Bars(ctx, chart) },
			func() string { return render.BarsText(chart) })
	}
	view.Fit(&m.Embeds[0])
	return m, Found{Known: known, Bot: mem.Bot, Name: name}, nil
}
