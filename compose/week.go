package compose

import (
	"context"
	"fmt"
	"time"

	"github.com/disgoorg/disgo/discord"

	"rollcall/render"
	"rollcall/report"
	"rollcall/settings"
	"rollcall/store"
	"rollcall/view"
)

// WeekOptions say which leaderboard is wanted.
type WeekOptions struct {
	Now time.Time
	// Post: the automatic weekly post (says when it is late, ends with
	// Marker); else a /week reply.
	Post   bool
	Marker string
	// Highlight is the member whose bar is drawn in the accent colour (who asked).
	Highlight uint64
	// CSV attaches the full table even when the embed lists everyone.
	CSV bool
}

// periodAndLedger loads and judges [from, to) in one snapshot (userID as
// report.Build), and with streaksAt non-zero the ledger of the year before
// it (for streaks), in the same snapshot.
func (r *Reports) periodAndLedger(ctx context.Context, g *settings.Guild, from, to time.Time, userID uint64, streaksAt time.Time) (*report.Period, *report.Ledger, error) {
	var p *report.Period
	var l *report.Ledger
	err := r.Store.Snapshot(ctx, func(q *store.Queries) error {
		var err error
		if p, err = report.Build(ctx, q, g, from, to, userID); err != nil || streaksAt.IsZero() {
			return err
		}
		l, err = report.LoadLedger(ctx, q, g, streaksAt.Add(-report.LedgerLookback), streaksAt, userID)
		return err
	})
	return p, l, err
}

// isoWeek reports whether [from, to) is exactly an ISO week, Monday 00:00 to
// Monday 00:00 in from's zone.
func isoWeek(from, to time.Time) bool {
	return from.Weekday() == time.Monday && from.Hour() == 0 && from.Minute() == 0 && from.Second() == 0 && to.Equal(from.AddDate(0, 0, 7))
}

// WeekName names a period for titles and file names: its ISO week
// ("2026-W47") when it is one, else its dates ("2026-11-18–2026-11-24"),
// the last being the day it ends on (the day before, when it ends at
// midnight).
func WeekName(from, to time.Time) string {
	if isoWeek(from, to) {
		y, w := from.ISOWeek()
		return fmt.Sprintf("%04d-W%02d", y, w)
	}
	last := to
	if to.Hour() == 0 && to.Minute() == 0 && to.Second() == 0 {
		last = to.AddDate(0, 0, -1)
	}
	return from.Format("2006-01-02") + "–" + last.Format("2006-01-02")
}

// Week is a period's leaderboard: the weekly post and /week.
func (r *Reports) Week(ctx context.Context, g *settings.Guild, l view.Lang, from, to time.Time, o WeekOptions) (Message, error) {
	// The post lists the longest streaks; /week, asked for often, does not
	// pay for a year of history.
	var streaksAt time.Time
	if o.Post {
		streaksAt = to
	}
	p, ledger, err := r.periodAndLedger(ctx, g, from, to, 0, streaksAt)
	if err != nil {
		return Message{}, err
	}
	name := WeekName(p.From, p.To)
	title := l.T("weekly_title", l.Week(p.From, p.To))
	if isoWeek(p.From, p.To) {
		// Its ISO week too, as /week's option names it; any other span's
		// name would only repeat its dates.
		title += " · " + name
	}
	e := l.WeekEmbed(p, title)
	if ledger != nil {
		if top := TopStreaks(ledger, 5); len(top) > 0 {
			e.Fields = append(e.Fields, discord.EmbedField{Name: l.T("longest_streaks"), Value: l.TopStreakLines(top)})
		}
	}
	if late := o.Now.Sub(p.To); o.Post && late > LateAfter {
		addFooter(&e, l.T("posted_late", l.Duration(late)))
	}
	m := Message{Embeds: []discord.Embed{e}}
	if p.Held() == 0 {
		m.Embeds[0].Description = l.T("no_events", l.Week(p.From, p.To))
	} else {
		if o.CSV || len(p.Totals) > view.RanksListed || len(p.Never) > view.RanksListed {
			m.Files = append(m.Files, File{Name: "week-" + name + ".csv", Data: []byte(report.CSV(p))})
		}
		if len(p.Totals) > 0 {
			chart := l.LeaderboardChart(p, title, o.Highlight)
			r.chart(ctx, &m, l, "week", func(ctx context.Context, rr Renderer) ([]byte, error) { return rr.Bars(ctx, chart) },
				func() string { return render.BarsText(chart) })
		}
	}
	if p.Paused > 0 {
		addFooter(&m.Embeds[0], l.T("paused_count", p.Paused))
	}
	if o.Marker != "" {
		addFooter(&m.Embeds[0], o.Marker)
	}
	view.Fit(&m.Embeds[0])
	return m, nil
}
