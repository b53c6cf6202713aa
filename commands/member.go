package commands

import (
	"context"
	"rollcall/attendance"

	"github.com/disgoorg/disgo/discord"

	"rollcall/compose"
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
		return prepared{}, inputErr("err_bot_member", view.Escape(user.EffectiveName()))
	}
	var strs [3]string
	for i, name := range []string{"period", "from", "to"} {
		if strs[i], err = r.str(name); err != nil {
			return prepared{}, err
		}
	}
	span, err := attendance.ParseRange(strs[0], strs[1], strs[2], "30d", r.now, r.loc())
	if err != nil {
		return prepared{}, err
	}
	public, err := r.public()
	if err != nil {
		return prepared{}, err
	}
	return prepared{public: public, run: func(ctx context.Context) (compose.Message, error) {
		name := ""
		if hasUser {
			name = user.EffectiveName()
		}
		m, found, err := c.reports.Member(ctx, r.guild, r.lang, compose.MemberOptions{UserID: uint64(uid), From: span.From, To: span.To, Name: name})
		switch {
		case err != nil:
			return compose.Message{}, err
		case !found.Known && !inGuild:
			// Neither in the server now nor ever seen by rollcall.
			return compose.Message{}, inputErr("err_unknown_member", mention(uid))
		case found.Bot:
			return compose.Message{}, inputErr("err_bot_member", view.Escape(found.Name))
		}
		return m, nil
	}}, nil
}
