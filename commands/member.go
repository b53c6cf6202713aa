package commands

import (
	"context"
	"strconv"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"

	"rollcall/attendance"

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
		stringOption("event", true),
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
	eventStr, err := r.str("event")
	if err != nil {
		return prepared{}, err
	}
	public, err := r.public()
	if err != nil {
		return prepared{}, err
	}
	name := ""
	if hasUser {
		name = user.EffectiveName()
	}
	if s := trimmed(eventStr); s != "" {
		// One event: the member's own minute-by-minute record.
		if trimmed(strs[0]+strs[1]+strs[2]) != "" {
			return prepared{}, inputErr("mt_event_and_period")
		}
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			return prepared{}, inputErr("err_unknown_event", attendance.Clip(eventStr), attendance.Example(r.now, r.loc()))
		}
		return prepared{public: public, run: func(ctx context.Context) (compose.Message, error) {
			occ, err := c.findOccurrence(ctx, r, id, eventStr, time.Time{})
			if err != nil {
				return compose.Message{}, err
			}
			m, found, err := c.reports.MemberEvent(ctx, r.guild, r.lang, compose.MemberEventOptions{UserID: uint64(uid), OccurrenceID: occ.ID, Name: name, Now: r.now})
			return memberAnswer(m, found, err, inGuild, uid)
		}}, nil
	}
	span, err := attendance.ParseRange(strs[0], strs[1], strs[2], "30d", r.now, r.loc())
	if err != nil {
		return prepared{}, err
	}
	return prepared{public: public, run: func(ctx context.Context) (compose.Message, error) {
		m, found, err := c.reports.Member(ctx, r.guild, r.lang, compose.MemberOptions{UserID: uint64(uid), From: span.From, To: span.To, Name: name, Now: r.now})
		return memberAnswer(m, found, err, inGuild, uid)
	}}, nil
}

// memberAnswer refuses a report about someone who is neither in the server
// now nor ever seen by rollcall, or about a bot.
func memberAnswer(m compose.Message, found compose.Found, err error, inGuild bool, uid snowflake.ID) (compose.Message, error) {
	switch {
	case err != nil:
		return compose.Message{}, err
	case !found.Known && !inGuild:
		return compose.Message{}, inputErr("err_unknown_member", mention(uid))
	case found.Bot:
		return compose.Message{}, inputErr("err_bot_member", view.Escape(found.Name))
	}
	return m, nil
}
