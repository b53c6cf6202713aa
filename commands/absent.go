package commands

import (
	"context"
	"slices"
	"strconv"

	"github.com/disgoorg/disgo/discord"

	"rollcall/render"
	"rollcall/report"
	"rollcall/store"
	"rollcall/view"
)

// absentListed: more absent members than this and the full list is attached
// as CSV (the embed still lists as many as fit).
const absentListed = 25

// absentCommand is /absent [period] [role] [public].
func absentCommand() discord.SlashCommandCreate {
	return moderatorsOnly(slashCommand("absent",
		periodOption(),
		discord.ApplicationCommandOptionRole{
			Name: view.EN.T("opt_role"), NameLocalizations: ru("opt_role"),
			Description: view.EN.T("opt_role_desc"), DescriptionLocalizations: ru("opt_role_desc"),
		},
		publicOption(),
	))
}

func (c *Commands) prepareAbsent(r *request) (prepared, error) {
	if !r.mod {
		return prepared{}, inputErr("err_moderator", r.lang.T("cmd_absent"))
	}
	period, err := r.str("period")
	if err != nil {
		return prepared{}, err
	}
	span, err := ParseRange(period, "", "", "30d", r.now, r.loc())
	if err != nil {
		return prepared{}, err
	}
	roleID, err := r.id("role", discord.ApplicationCommandOptionTypeRole)
	if err != nil {
		return prepared{}, err
	}
	roleName := ""
	if roleID != 0 {
		role, ok := r.data.Resolved.Roles[roleID]
		if !ok {
			return prepared{}, inputErr("err_unknown_role")
		}
		roleName = role.Name
	}
	public, err := r.public()
	if err != nil {
		return prepared{}, err
	}
	return prepared{public: public, run: func(ctx context.Context) (*reply, error) {
		p, err := report.Build(ctx, c.store, r.guild, span.From, span.To, 0)
		if err != nil {
			return nil, err
		}
		// Period.Never already leaves out bots and anyone who was not a
		// member while the events ran (report.Expected).
		never := p.Never
		if roleID != 0 {
			never = slices.DeleteFunc(slices.Clone(never), func(m store.Member) bool { return !slices.Contains(m.Roles, uint64(roleID)) })
		}
		as := view.AbsentList(p, never)
		l := r.lang
		title := l.T("absent_title", l.Week(p.From, p.To))
		if roleID != 0 {
			title = l.T("absent_role_title", l.Week(p.From, p.To), roleName)
		}
		rep := &reply{embed: discord.Embed{Title: title, Color: view.ColorAbsent, Fields: []discord.EmbedField{
			{Name: l.T("absent_count"), Value: strconv.Itoa(len(as)), Inline: ptr(true)},
			{Name: l.T("events_held"), Value: l.Held(p), Inline: ptr(true)},
		}}}
		switch {
		case p.Held() == 0:
			rep.embed.Description = l.T("no_events", l.Week(p.From, p.To))
			return rep, nil
		case len(as) == 0:
			rep.embed.Description = l.T("absent_none")
			return rep, nil
		}
		rep.embed.Description = l.AbsentNames(as, view.AbsentListChars)
		if len(as) > absentListed {
			rep.embed.Description += "\n" + l.T("full_list_csv")
			rep.files = append(rep.files, file{name: "absent-" + p.From.Format(dateLayout) + ".csv", data: []byte(view.AbsentCSV(as))})
		}
		chart := l.AbsentChart(as, title)
		c.chart(ctx, rep, l, "absent", func(ctx context.Context, rr Renderer) ([]byte, error) { return rr.Bars(ctx, chart) },
			func() string { return render.BarsText(chart) })
		return rep, nil
	}}, nil
}

func ptr[T any](v T) *T { return &v }
