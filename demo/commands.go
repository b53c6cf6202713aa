package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"

	"rollcall/discordsim"
)

// runCommands has a moderator and a member use every slash command, the
// way a community would after an event.
func (d *driver) runCommands(ctx context.Context) error {
	c := d.c
	member := c.people[3]
	calls := []struct {
		who  snowflake.ID
		name string
		opts []discordsim.Option
	}{
		{c.moderator, "event", nil},
		{c.moderator, "week", []discordsim.Option{{Name: "week", Value: "this"}}},
		{c.moderator, "absent", []discordsim.Option{{Name: "period", Value: "7d"}}},
		{c.moderator, "member", []discordsim.Option{{Name: "member", Value: member.id, Type: discord.ApplicationCommandOptionTypeUser}, {Name: "period", Value: "7d"}}},
		{member.id, "member", []discordsim.Option{{Name: "period", Value: "7d"}}},
		{member.id, "week", nil}, // not a moderator: politely refused
	}
	for _, call := range calls {
		ictx, cancel := context.WithTimeout(ctx, 60*time.Second)
		r, err := d.sim.Invoke(ictx, discordsim.Invocation{GuildID: c.guild, UserID: call.who, ChannelID: c.commands, Command: call.name, Options: call.opts, Locale: "ru"})
		cancel()
		if err != nil {
			return fmt.Errorf("/%s: %w", call.name, err)
		}
		d.f.reply(c.describe(call.name, call.opts), c.nameOf(call.who), d.clk.Now(), r)
	}
	return nil
}

func (c *community) nameOf(id snowflake.ID) string {
	for _, p := range c.people {
		if p.id == id {
			return p.name
		}
	}
	return id.String()
}

// describe writes an invocation as Discord shows it: "/member member: @Zoë ⚔️ period: 7d".
func (c *community) describe(name string, opts []discordsim.Option) string {
	out := "/" + name
	for _, o := range opts {
		v := fmt.Sprint(o.Value)
		if id, ok := o.Value.(snowflake.ID); ok {
			v = "@" + c.nameOf(id)
		}
		out += " " + o.Name + ": " + v
	}
	return out
}
