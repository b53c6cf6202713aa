package commands

import (
	"context"
	"rollcall/attendance"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/omit"

	"rollcall/compose"
)

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
	w, err := attendance.ParseWeek(weekStr, r.now, r.loc())
	if err != nil {
		return prepared{}, err
	}
	return prepared{public: public, run: func(ctx context.Context) (compose.Message, error) {
		return c.reports.Week(ctx, r.guild, r.lang, w.Start, w.End, compose.WeekOptions{Now: r.now, Highlight: uint64(r.user), CSV: format == "csv"})
	}}, nil
}
