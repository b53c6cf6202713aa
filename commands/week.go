package commands

import (
	"context"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/omit"

	"rollcall/render"
	"rollcall/report"
	"rollcall/view"
)

// weekCSVAbove: with more members ranked or absent than the embed lists, the
// full table is attached, as the weekly post does.
const weekCSVAbove = view.RanksListed

// moderatorsOnly hides a command from members without Manage Server until a
// server's admins decide otherwise; the handler checks again at run time.
func moderatorsOnly(c discord.SlashCommandCreate) discord.SlashCommandCreate {
	c.DefaultMemberPermissions = omit.NewPtr(discord.PermissionManageGuild)
	return c
}

// weekCommand is /week [week] [format] [public].
func weekCommand() discord.SlashCommandCreate {
	return moderatorsOnly(slashCommand("week",
		stringOption("week", false),
		stringOption("format", false, "chart", "csv"),
		publicOption(),
	))
}

func (c *Commands) prepareWeek(r *request) (prepared, error) {
	if !r.mod {
		return prepared{}, inputErr("err_moderator", r.lang.T("cmd_week"))
	}
	weekStr, err := r.str("week")
	if err != nil {
		return prepared{}, err
	}
	format, err := r.str("format")
	if err != nil {
		return prepared{}, err
	}
	switch format {
	case "", "chart", "csv":
	default:
		return prepared{}, badOption(r, "format")
	}
	public, err := r.public()
	if err != nil {
		return prepared{}, err
	}
	w, err := ParseWeek(weekStr, r.now, r.loc())
	if err != nil {
		return prepared{}, err
	}
	return prepared{public: public, run: func(ctx context.Context) (*reply, error) {
		p, err := report.Build(ctx, c.store, r.guild, w.Start, w.End, 0)
		if err != nil {
			return nil, err
		}
		l := r.lang
		title := l.T("weekly_title", l.Week(p.From, p.To)) + " · " + isoName(p.From)
		rep := &reply{embed: l.WeekEmbed(p, title)}
		if p.Held() == 0 {
			rep.embed.Description = l.T("no_events", l.Week(p.From, p.To))
			return rep, nil
		}
		if format == "csv" || len(p.Totals) > weekCSVAbove || len(p.Never) > weekCSVAbove {
			rep.files = append(rep.files, file{name: "week-" + isoName(p.From) + ".csv", data: []byte(report.CSV(p))})
		}
		if len(p.Totals) == 0 {
			return rep, nil
		}
		chart := l.LeaderboardChart(p, title)
		for i, t := range p.Totals {
			chart.Bars[i].Highlight = t.Member.UserID == uint64(r.user)
		}
		c.chart(ctx, rep, l, "week", func(ctx context.Context, rr Renderer) ([]byte, error) { return rr.Bars(ctx, chart) },
			func() string { return render.BarsText(chart) })
		return rep, nil
	}}, nil
}
