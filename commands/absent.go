package commands

import (
	"context"
	"rollcall/attendance"

	"github.com/disgoorg/disgo/discord"

	"rollcall/compose"
	"rollcall/view"
)

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
	span, err := attendance.ParseRange(period, "", "", "30d", r.now, r.loc())
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
	return prepared{public: public, run: func(ctx context.Context) (compose.Message, error) {
		return c.reports.Absent(ctx, r.guild, r.lang, compose.AbsentOptions{From: span.From, To: span.To, RoleID: uint64(roleID), RoleName: roleName})
	}}, nil
}
