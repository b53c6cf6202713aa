package commands

import (
	"context"

	"github.com/disgoorg/disgo/discord"

	"rollcall/render"
	"rollcall/report"
	"rollcall/view"
)

// memberCommand is /member [member] [period] [from] [to] [public].
func memberCommand() discord.SlashCommandCreate {
	return slashCommand("member",
		discord.ApplicationCommandOptionUser{
			Name: view.EN.T("opt_member"), NameLocalizations: ru("opt_member"),
			Description: view.EN.T("opt_member_desc"), DescriptionLocalizations: ru("opt_member_desc"),
		},
		periodOption(),
		stringOption("from", false),
		stringOption("to", false),
		publicOption(),
	)
}

func (c *Commands) prepareMember(r *request) (prepared, error) {
	uid, err := r.id("member", discord.ApplicationCommandOptionTypeUser)
	if err != nil {
		return prepared{}, err
	}
	if uid == 0 {
		uid = r.user
	}
	if uid != r.user && !r.mod {
		return prepared{}, inputErr("err_other_member")
	}
	// Who the option names, as Discord resolved it: a user always, a
	// member only if they are in this server now.
	user, hasUser := r.data.Resolved.Users[uid]
	_, inGuild := r.data.Resolved.Members[uid]
	if uid == r.user {
		user, hasUser, inGuild = r.e.User(), true, true
	}
	if hasUser && user.Bot {
		return prepared{}, inputErr("err_bot_member", user.EffectiveName())
	}
	var strs [3]string
	for i, name := range []string{"period", "from", "to"} {
		if strs[i], err = r.str(name); err != nil {
			return prepared{}, err
		}
	}
	span, err := ParseRange(strs[0], strs[1], strs[2], "30d", r.now, r.loc())
	if err != nil {
		return prepared{}, err
	}
	public, err := r.public()
	if err != nil {
		return prepared{}, err
	}
	return prepared{public: public, run: func(ctx context.Context) (*reply, error) {
		p, err := report.Build(ctx, c.store, r.guild, span.From, span.To, uint64(uid))
		if err != nil {
			return nil, err
		}
		m, known := p.Members[uint64(uid)]
		if !known && !inGuild {
			// Neither in the server now nor ever seen by rollcall.
			return nil, inputErr("err_unknown_member", mention(uid))
		}
		if m.Bot {
			return nil, inputErr("err_bot_member", m.Name())
		}
		t := p.TotalFor(uint64(uid))
		name := t.Member.Name()
		if !known && hasUser {
			name = user.EffectiveName()
		}
		l := r.lang
		rep := &reply{embed: discord.Embed{
			Title: l.T("member_title", name, l.Week(p.From, p.To)), Color: view.ColorMember,
			Fields: l.MemberFields(t, p.Held()),
		}}
		if f, ok := l.MemberInterestField(p, uint64(uid)); ok {
			rep.embed.Fields = append(rep.embed.Fields, f)
		}
		if p.Held() == 0 {
			rep.embed.Description = l.T("no_data_member")
			return rep, nil
		}
		chart := l.MemberChart(p, uint64(uid), name)
		c.chart(ctx, rep, l, "member", func(ctx context.Context, rr Renderer) ([]byte, error) { return rr.Bars(ctx, chart) },
			func() string { return render.BarsText(chart) })
		return rep, nil
	}}, nil
}
