package bot

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/disgoorg/disgo/discord"

	"rollcall/report"
	"rollcall/settings"
	"rollcall/view"
)

// weeklyCSVAbove: attach the full table as CSV when more members than the
// embed lists (view.RanksListed) are ranked or absent.
const weeklyCSVAbove = view.RanksListed

// WeeklyDue lists the instants in (after, upTo] at which g's weekly report
// falls due, in the guild's zone.
func WeeklyDue(g *settings.Guild, after, upTo time.Time) []time.Time {
	w := g.Weekly
	if !w.On {
		return nil
	}
	var out []time.Time
	d := after.In(g.Location)
	for day := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, g.Location); !day.After(upTo); day = day.AddDate(0, 0, 1) {
		if day.Weekday() != w.Day {
			continue
		}
		due := time.Date(day.Year(), day.Month(), day.Day(), int(w.At)/60, int(w.At)%60, 0, 0, g.Location)
		if due.After(after) && !due.After(upTo) {
			out = append(out, due)
		}
	}
	return out
}

func (b *Bot) queueWeekly(g *settings.Guild, after, upTo time.Time) {
	for _, due := range WeeklyDue(g, after, upTo) {
		from := due.AddDate(0, 0, -7)
		b.enqueue(&postJob{
			kind: "weekly", ref: fmt.Sprintf("%d:%s", g.ID, from.Format("2006-01-02T15:04")), guild: g, channels: g.Weekly.Channels,
			desc: fmt.Sprintf("guild %d week from %s", g.ID, from.Format("2006-01-02")),
			build: func(ctx context.Context, now time.Time) (*reportMessage, error) {
				return b.buildWeekly(ctx, g, from, due, now)
			},
		})
	}
}

func (b *Bot) buildWeekly(ctx context.Context, g *settings.Guild, from, to, now time.Time) (*reportMessage, error) {
	p, err := report.Build(ctx, b.store, g, from, to, 0)
	if err != nil {
		return nil, err
	}
	l := b.lang(g)
	title := l.T("weekly_title", l.Week(p.From, p.To))
	late := ""
	if d := now.Sub(to); d > lateAfter {
		late = l.T("posted_late", l.Duration(d))
	}
	if p.Held() == 0 {
		text := l.T("no_events", title)
		if late != "" {
			text += "\n" + late
		}
		return &reportMessage{text: text}, nil
	}
	embed := l.WeekEmbed(p, title)
	if late != "" {
		embed.Footer = &discord.EmbedFooter{Text: late}
	}
	msg := &reportMessage{embed: embed}
	if len(p.Totals) > weeklyCSVAbove || len(p.Never) > weeklyCSVAbove {
		msg.files = append(msg.files, textFile{name: "week-" + p.From.Format("2006-01-02") + ".csv", data: report.CSV(p)})
	}
	if len(p.Totals) > 0 {
		chart := l.LeaderboardChart(p, title)
		png, err := b.draw(ctx, func(ctx context.Context, r Renderer) ([]byte, error) { return r.Bars(ctx, chart) })
		if err == nil {
			msg.png, msg.pngName = png, "week.png"
			msg.embed.Image = &discord.EmbedResource{URL: "attachment://week.png"}
		} else {
			b.log.Error("render weekly chart: the report goes out without it", slog.Any("error", err))
		}
	}
	return msg, nil
}

func ptr[T any](v T) *T { return &v }
